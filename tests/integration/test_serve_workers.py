"""``medfraud serve --workers N``: several API processes over one Neo4j, one audit chain.

Two workers answer requests side by side; a case opened through one is read through the other
(the API keeps no state of its own over Neo4j), every request lands in the one audit chain, and
the chain verifies. The embedded store refuses more than one worker, saying why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.security.audit import verify
from api.security.auth import issue_token
from tests.integration.api_server import free_port

SECRET = "workers-test-secret-0123456789abcdef0123"
AUDIT_KEY = "workers-test-audit-key-0123456789abcdef"


def _env(extra: dict[str, str], audit: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MEDFRAUD_")}
    return {**clean, **extra, "MEDFRAUD_SECRET": SECRET, "MEDFRAUD_AUDIT_KEY": AUDIT_KEY,
            "MEDFRAUD_API_AUDIT_LOG": str(audit), "MEDFRAUD_API_AUDIT_FSYNC": "false"}


def test_the_embedded_store_refuses_two_workers(tmp_path: Path) -> None:
    env = _env({"MEDFRAUD_STORE": "duckdb", "MEDFRAUD_DUCKDB_PATH": str(tmp_path / "x.duckdb")},
               tmp_path / "audit.log")
    done = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--workers", "2"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "--workers needs MEDFRAUD_STORE=neo4j" in done.stdout + done.stderr


@pytest.mark.neo4j
@pytest.mark.slow
def test_two_workers_share_the_store_and_the_audit_chain(neo4j_db: Any, tmp_path: Path) -> None:
    store = neo4j_db.open_store()
    store.apply_schema()
    store.close()
    audit = tmp_path / "audit.log"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", "2",
                               "--port", str(port)],
                              env=_env(neo4j_db.env(), audit), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    token = issue_token(SECRET, sub="inv-1", role="investigator", agency="BUREAU-1", ttl_s=600)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(timeout=30) as http:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if http.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.5)
            opened = http.post(f"{base}/graphql", headers=headers, json={
                "query": 'mutation { openCase(title: "两个进程") { caseId } }'}).json()
            assert not opened.get("errors"), opened
            case_id = opened["data"]["openCase"]["caseId"]
            # many requests over fresh connections: the kernel spreads them over both workers
            pids = set()
            for _ in range(40):
                with httpx.Client(timeout=30) as fresh:
                    answer = fresh.post(f"{base}/graphql", headers=headers, json={
                        "query": "query($id: ID!) { case(id: $id) { caseId title } }",
                        "variables": {"id": case_id}}).json()
                    assert answer["data"]["case"]["title"] == "两个进程", answer
                    pids.add(fresh.get(f"{base}/healthz").json().get("pid"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
    assert len(pids) == 2, f"answered by {pids}"
    result = verify(audit, AUDIT_KEY)
    assert result.ok, result.reason
    assert result.records >= 41
