#!/usr/bin/env bash
# The test command of the README: installs what the tests need, then runs them.
# Usage: bash tests/run.sh [pytest args...]
# It installs into the active Python environment (a venv if one is active), so that a fresh
# machine needs nothing else: Python packages from pyproject.toml, Neo4j's Cypher linter and the /ui
# graph libraries from npm, Debian's Chromium, poppler and a CJK font for the /ui and dossier tests,
# and the local Neo4j + GDS (deploy/neo4j-local, built with Maven from Maven Central; Java 17 and
# Maven from Debian when missing) that the `neo4j` tests start. MEDFRAUD_SKIP_NEO4J=1 skips those tests on a machine without Java (CI refuses it).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --disable-pip-version-check -q -e '.[dev,spark]'

if ! command -v node >/dev/null 2>&1; then
    echo "tests/run.sh: Node.js is needed for the Cypher lint (apt-get install nodejs npm)" >&2
    exit 1
fi
if [ ! -d tests/cypher_lint/node_modules ] || [ tests/cypher_lint/package-lock.json -nt tests/cypher_lint/node_modules ]; then
    npm ci --prefix tests/cypher_lint --no-audit --no-fund --loglevel=error
fi

# The /ui page's graph libraries, to check the copies committed in api/static/ (ui/vendor.sh).
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules ]; then
    npm ci --prefix ui --no-audit --no-fund --loglevel=error
fi

# Chromium for the /ui browser tests, poppler-utils (pdftotext, pdftoppm) for the dossier test, and
# a CJK TrueType font: the dossier embeds it, and it makes Chinese legible in the screenshots.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
            || echo "tests/run.sh: could not install ${missing[*]}; the tests needing them will be skipped" >&2
    else
        echo "tests/run.sh: ${missing[*]} not found and not root; the tests needing them will be skipped" >&2
    fi
fi

# The `spark` tests (pyspark in local mode) need a Java 17 runtime.
if ! command -v java >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
fi

if [ "${MEDFRAUD_SKIP_NEO4J:-}" != 1 ]; then
    if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
        else
            echo "tests/run.sh: the neo4j tests need Java 17 and Maven (or set MEDFRAUD_SKIP_NEO4J=1)" >&2
            exit 1
        fi
    fi
    # Build before pytest starts, so a Maven failure is reported as such and not as a test error.
    bash deploy/neo4j-local/run.sh --build-only
fi

exec python3 -m pytest "$@"
