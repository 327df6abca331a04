"""`medfraud demo` end to end in a real subprocess: a city, a quality report, then a live server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDFRAUD_")}
    env["MEDFRAUD_API_AUDIT_LOG"] = str(tmp_path / "audit.log")
    return env


def test_demo_generates_ingests_detects_and_reports_quality(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "--persons", "2000", "--seed", "3",
         "--data-dir", str(data), "--no-serve"],
        capture_output=True, text=True, timeout=300, env=_env(tmp_path), check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for step in ("1/4 generating", "2/4 ingesting", "3/4 detecting", "4/4 quality"):
        assert step in out
    assert "ring:collusion" in out and "recall" in out
    assert (data / "findings.json").exists() and (data / "city.truth.json").exists()

    again = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "--persons", "2000", "--seed", "3",
         "--data-dir", str(data), "--no-serve"],
        capture_output=True, text=True, timeout=300, env=_env(tmp_path), check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "1/4 reusing the city" in again.stdout


def test_demo_ends_serving_the_ui_with_a_working_token(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "demo", "--persons", "1500", "--seed", "5",
         "--data-dir", str(tmp_path / "data"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if len(lines) >= 2 and lines[-2].startswith("token ("):
                break
        token = lines[-1]
        assert any(f"http://127.0.0.1:{port}/ui#token=" in x for x in lines), lines[-8:]
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        reply = httpx.post(f"{base}/graphql", headers={"Authorization": f"Bearer {token}"},
                           json={"query": "{ rings(first: 5) { totalCount } }"}, timeout=30)
        assert reply.status_code == 200
        assert reply.json()["data"]["rings"]["totalCount"] > 0
        assert httpx.get(f"{base}/ui", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
