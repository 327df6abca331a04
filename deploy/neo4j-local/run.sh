#!/usr/bin/env bash
# A local Neo4j Community 5.26 + OpenGDS with Bolt on 127.0.0.1:PORT and authentication on.
#   NEO4J_PASSWORD=... bash deploy/neo4j-local/run.sh --port 7687 --data ./data/neo4j
# Builds this Maven module when its sources are newer than the build (Maven's local repository makes
# later builds fast), prints "medfraud-neo4j ready bolt://127.0.0.1:PORT gds=VERSION" once Bolt and
# GDS answer, stops cleanly on SIGTERM/SIGINT and keeps its data in DIR.
# Offline first load instead of serving (the server must be stopped; see docs/neo4j.md):
#   bash deploy/neo4j-local/run.sh --data ./data/neo4j --import ARGFILE
# runs Neo4j's bulk importer (neo4j-admin database import full @ARGFILE) into DIR and exits.
# Optional: NEO4J_HEAP (default 2g), NEO4J_PAGECACHE_MB (default 512), JAVA (default java).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port=7687
data=""
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --data) data="$2"; shift 2 ;;
        --build-only) build_only=1; shift ;;
        --import) import_args="$2"; shift 2 ;;
        *) echo "run.sh: unknown argument $1 (use --port P --data DIR)" >&2; exit 2 ;;
    esac
done
if [ -z "${NEO4J_PASSWORD:-}" ] && [ -z "${build_only:-}" ] && [ -z "${import_args:-}" ]; then
    echo "run.sh: set NEO4J_PASSWORD (at least 8 characters)" >&2; exit 2
fi
if [ -z "$data" ] && [ -z "${build_only:-}" ]; then
    echo "run.sh: --data DIR is required" >&2; exit 2
fi

stamp="$here/target/.built"
if [ ! -f "$stamp" ] || [ -n "$(find "$here/pom.xml" "$here/src" -newer "$stamp" -print -quit)" ]; then
    mvn -q -B -f "$here/pom.xml" -DskipTests package >&2
    touch "$stamp"
fi
[ -n "${build_only:-}" ] && exit 0

mkdir -p "$data"
if [ -n "${import_args:-}" ]; then
    launcher_args=(--import "$data" "@$import_args")
else
    launcher_args=("$port" "$data" "$here/target/gds-plugins")
fi
java_bin="${JAVA:-java}"
# Neo4j 5 reaches into these JDK internals (its own neo4j launcher passes the same flags).
exec "$java_bin" -Xmx"${NEO4J_HEAP:-2g}" -XX:+UseG1GC -Dfile.encoding=UTF-8 \
    --add-opens=java.base/java.lang=ALL-UNNAMED \
    --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
    --add-opens=java.base/java.util=ALL-UNNAMED \
    --add-opens=java.base/java.util.stream=ALL-UNNAMED \
    --add-opens=java.base/sun.net.www.protocol.http=ALL-UNNAMED \
    --add-exports=java.base/sun.nio.ch=ALL-UNNAMED \
    --add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED \
    -cp "$here/target/classes:$here/target/lib/*" \
    medfraud.neo4jlocal.Launcher "${launcher_args[@]}"
