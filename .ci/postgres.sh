#!/usr/bin/env bash
# Ensure a local PostgreSQL server for the ledger tests and print the line that points the tests at it:
#
#     eval "$(.ci/postgres.sh)"        # -> export BOT_TEST_DATABASE_URL=postgresql://...
#     .ci/postgres.sh stop             # stop the cluster (data dir kept)
#
# Idempotent: a cluster that already runs is reused. Only the export line goes to stdout; progress goes to stderr.
# initdb/postgres refuse to run as root, so as root everything runs as the `postgres` system user.
#
# Environment (all optional):
#   BOT_PG_PORT        TCP port on 127.0.0.1                 (default 54329)
#   BOT_PG_DATA        data directory                        (default /var/tmp/aasr-bot-pg)
#   BOT_PG_NO_INSTALL  1 = never apt-get install; exit 3 if PostgreSQL is missing (the test fixture sets it)
#   BOT_PG_ENV_FILE    also write the export line to this file
set -euo pipefail

PORT="${BOT_PG_PORT:-54329}"
DATA="${BOT_PG_DATA:-/var/tmp/aasr-bot-pg}"
DB_USER="aasr_test"
DB_PASSWORD="aasr-test-password"  # a throwaway local test cluster bound to 127.0.0.1 only
DB_NAME="aasr_test"

say() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return 0; fi
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    return 1
}

BIN="$(find_bindir || true)"
if [[ -z "$BIN" ]]; then
    if [[ "${BOT_PG_NO_INSTALL:-0}" == "1" ]]; then
        say "PostgreSQL binaries not found (initdb, pg_ctl)"
        exit 3
    fi
    if [[ "$(id -u)" != "0" ]]; then
        say "PostgreSQL binaries not found and not root: install the 'postgresql' package"
        exit 3
    fi
    say "installing PostgreSQL from Debian packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
    BIN="$(find_bindir)"
fi

# Run a command as the cluster owner: ourselves, or `postgres` when we are root.
if [[ "$(id -u)" == "0" ]]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    as_owner() { runuser -u postgres -- "$@"; }
    OWNER="postgres"
else
    as_owner() { "$@"; }
    OWNER="$(id -un)"
fi

SOCKDIR="$DATA/socket"
LOG="$DATA.log"

if [[ "${1:-}" == "stop" ]]; then
    if [[ -f "$DATA/postmaster.pid" ]]; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2 || true
    fi
    exit 0
fi

if [[ ! -f "$DATA/PG_VERSION" ]]; then
    say "creating cluster in $DATA"
    mkdir -p "$DATA"
    chown "$OWNER" "$DATA"
    chmod 700 "$DATA"
    pwfile="$(mktemp)"
    echo "$DB_PASSWORD" >"$pwfile"
    chown "$OWNER" "$pwfile"
    # Local socket: trust (only the owner can reach it); TCP: passwords, so the tests can check a wrong one fails.
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >&2 \
        || as_owner "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --no-locale >&2
    rm -f "$pwfile"
    mkdir -p "$SOCKDIR"
    chown "$OWNER" "$SOCKDIR"
    # A disposable test cluster: durability is not needed, speed is.
    cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKDIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
fi

if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    say "starting PostgreSQL on 127.0.0.1:$PORT"
    touch "$LOG"
    chown "$OWNER" "$LOG"
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >&2 || {
        say "PostgreSQL did not start; last log lines:"
        tail -n 20 "$LOG" >&2
        exit 1
    }
fi

psql_admin() { as_owner "$BIN/psql" -h "$SOCKDIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != "1" ]]; then
    psql_admin -c "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'" >&2
fi
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]]; then
    psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >&2
fi

LINE="export BOT_TEST_DATABASE_URL=postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
if [[ -n "${BOT_PG_ENV_FILE:-}" ]]; then
    echo "$LINE" >"$BOT_PG_ENV_FILE"
fi
echo "$LINE"
