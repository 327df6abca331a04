"""A live Neo4j + GDS for the ``neo4j``-marked tests: the local server of ``deploy/neo4j-local``.

The session starts one server (``bash deploy/neo4j-local/run.sh``: Maven builds the module the first
time, later builds are a no-op) on a free loopback port with a random password, waits for its ready
line (printed once Bolt accepts connections and ``gds.version()`` answers), and stops it with
SIGTERM at the end. Each test module gets the database wiped (:func:`wipe`), since Neo4j Community
has one user database.

``NEO4J_URI`` (with ``NEO4J_USER``/``NEO4J_PASSWORD``) points the tests at a server of your own
instead. ``MEDFRAUD_SKIP_NEO4J=1`` skips the ``neo4j`` tests on a machine without Java; CI refuses it.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.neo4j.store import Neo4jStore

ROOT = Path(__file__).resolve().parent.parent
RUN_SH = ROOT / "deploy" / "neo4j-local" / "run.sh"
READY_MARK = "medfraud-neo4j ready "
# The first build downloads Neo4j and GDS from Maven Central; later starts take ~10 s.
START_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Neo4jServer:
    uri: str
    user: str
    password: str
    database: str = "neo4j"

    def open_store(self) -> Neo4jStore:
        """A :class:`Neo4jStore` on this server, configured as ``env()`` would configure medfraud."""
        from graph.neo4j.store import Neo4jStore
        from graph.settings import load_settings

        return Neo4jStore.from_settings(load_settings(
            store="neo4j", neo4j_uri=self.uri, neo4j_user=self.user, neo4j_password=self.password,
            neo4j_database=self.database))

    def env(self) -> dict[str, str]:
        """The ``MEDFRAUD_*`` variables that point medfraud (CLI, API) at this server."""
        return {
            "MEDFRAUD_STORE": "neo4j",
            "MEDFRAUD_NEO4J_URI": self.uri,
            "MEDFRAUD_NEO4J_USER": self.user,
            "MEDFRAUD_NEO4J_PASSWORD": self.password,
            "MEDFRAUD_NEO4J_DATABASE": self.database,
        }


class LocalNeo4j:
    """One ``run.sh`` process; :meth:`stop` sends SIGTERM and waits for a clean shutdown."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.port = _free_port()
        self.password = secrets.token_urlsafe(18)
        self.log_path = log_path
        env = dict(os.environ, NEO4J_PASSWORD=self.password)
        self._log = log_path.open("w", encoding="utf-8")
        self._proc = subprocess.Popen(
            ["bash", str(RUN_SH), "--port", str(self.port), "--data", str(data_dir)],
            stdout=subprocess.PIPE, stderr=self._log, text=True, env=env, start_new_session=True,
        )
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._log.write(line)
            self._log.flush()
            if line.startswith(READY_MARK):
                self._ready.set()

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> Neo4jServer:
        deadline = time.monotonic() + timeout_s
        while not self._ready.wait(0.5):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"the local Neo4j did not start (log {self.log_path}):\n{tail}")
        return Neo4jServer(f"bolt://127.0.0.1:{self.port}", "neo4j", self.password)

    @property
    def pid(self) -> int:
        """The server's process id: ``run.sh`` execs the JVM, so once ready it is the Java process."""
        return self._proc.pid

    def stop(self) -> None:
        if self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        self._log.close()


def external_server() -> Neo4jServer | None:
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        return None
    return Neo4jServer(uri, os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"],
                       os.environ.get("NEO4J_DATABASE", "neo4j"))


def wipe(server: Neo4jServer) -> None:
    """Empty the database: GDS graphs, nodes (in batches), constraints and indexes."""
    from neo4j import GraphDatabase

    with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
        driver.execute_query(
            "CALL gds.graph.list() YIELD graphName "
            "CALL gds.graph.drop(graphName, false) YIELD graphName AS g RETURN count(g)",
            database_=server.database)
        # CALL {...} IN TRANSACTIONS needs an auto-commit transaction: session.run, not execute_query.
        with driver.session(database=server.database) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        for kind, drop in (("CONSTRAINTS", "CONSTRAINT"), ("INDEXES", "INDEX")):
            records, _, _ = driver.execute_query(
                f"SHOW {kind} YIELD name, type WHERE type <> 'LOOKUP' RETURN name", database_=server.database)
            for record in records:
                driver.execute_query(f"DROP {drop} `{record['name']}` IF EXISTS", database_=server.database)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
