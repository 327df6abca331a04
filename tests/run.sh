#!/usr/bin/env bash
# The test command of the README: installs what the tests need, then runs them.
# Usage: bash tests/run.sh [pytest args...]
# It installs into the active Python environment (a venv if one is active), so that a fresh
# machine needs nothing else: Python packages from pyproject.toml, Neo4j's Cypher linter from npm,
# and Debian's Chromium for the /ui browser test.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --disable-pip-version-check -q -e '.[dev]'

if ! command -v node >/dev/null 2>&1; then
    echo "tests/run.sh: Node.js is needed for the Cypher lint (apt-get install nodejs npm)" >&2
    exit 1
fi
if [ ! -d tests/cypher_lint/node_modules ] || [ tests/cypher_lint/package-lock.json -nt tests/cypher_lint/node_modules ]; then
    npm ci --prefix tests/cypher_lint --no-audit --no-fund --loglevel=error
fi

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || echo "tests/run.sh: could not install chromium; the /ui browser test will be skipped" >&2
    else
        echo "tests/run.sh: chromium not found and not root; the /ui browser test will be skipped" >&2
    fi
fi

exec python3 -m pytest "$@"
