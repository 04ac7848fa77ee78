#!/usr/bin/env bash
# Install what the site's browser tests need (idempotent): Debian's chromium package (apt; Playwright drives it
# through executable_path, so no browser is downloaded) and axe-core from npm, pinned by package-lock.json.
# Run from anywhere, as root or with sudo: bash tests/browser/install.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# A hosted CI runner that already has Chrome (GitHub's Ubuntu images) uses it: there, Ubuntu's chromium
# package is only a snap stub. The tests look for chromium, chromium-browser, then google-chrome.
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
echo "tests/browser: $("$browser" --version 2>/dev/null | head -n 1)"

cd "$here"
stamp="node_modules/.aasr-installed"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$(sha256sum package-lock.json | cut -d' ' -f1)" && -f node_modules/axe-core/axe.min.js ]]; then
    echo "tests/browser: axe-core already installed"
    exit 0
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
echo "tests/browser: axe-core $(node -p "require('./node_modules/axe-core/package.json').version")"
