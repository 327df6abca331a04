#!/usr/bin/env bash
# Copies the browser builds of the /ui page's graph libraries from ui/node_modules (installed by
# `npm ci --prefix ui` from package-lock.json) into api/static/, where the server serves them.
# The copies are committed so that the server runs without Node.js (pip install, the Docker image,
# offline bureau machines); tests/integration/test_ui_vendor.py fails when they differ from what
# the lock file installs. After changing a version in package.json: npm install --prefix ui,
# then bash ui/vendor.sh, and commit package-lock.json with the copies.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
out=../api/static
while read -r src dst; do
    cp "node_modules/$src" "$out/$dst"
done < vendor.txt
echo "copied $(wc -l < vendor.txt) files into api/static/"
