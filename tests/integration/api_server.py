"""Run the API under uvicorn on a free port in a background thread, and talk to it over HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.http.app import create_app
from api.security.auth import issue_token
from api.settings import ApiSettings, AuditSettings
from graph.port import GraphStore
from graph.settings import Settings

SECRET = "integration-test-secret-0123456789abcdef"
AUDIT_KEY = "integration-audit-key-fedcba9876543210"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ApiClient:
    base: str
    secret: str
    audit_log: Path
    http: httpx.Client

    def token(self, role: str, agency: str = "BUREAU-1", sub: str | None = None, ttl_s: int = 600,
              kind: str | None = None) -> str:
        return issue_token(self.secret, sub=sub or f"{role}-user", role=role, agency=agency, ttl_s=ttl_s,
                           agency_kind=kind)

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str | None = "investigator",
        agency: str = "BUREAU-1",
        token: str | None = None,
    ) -> httpx.Response:
        headers = {}
        if token is None and role is not None:
            token = self.token(role, agency)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.post(
            f"{self.base}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """The JSON answer of a request that must succeed at the HTTP level."""
        response = self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """The data of a request that must succeed without GraphQL errors."""
        body = self.gql(query, variables, **kw)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def metrics(self) -> str:
        """/metrics as an admin reads it (it needs an admin token by default)."""
        response = self.http.get(f"{self.base}/metrics",
                                 headers={"Authorization": f"Bearer {self.token('admin')}"})
        assert response.status_code == 200, response.text
        return response.text

    def error_codes(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> list[str]:
        body = self.gql(query, variables, **kw)
        return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


@contextmanager
def serve(store: GraphStore, tmp: Path, *, env: str = "prod", **api_overrides: Any) -> Iterator[ApiClient]:
    settings = Settings(env=env, secret=SECRET)  # type: ignore[arg-type]
    api = ApiSettings(audit_log=tmp / "audit.log", audit_fsync=False, **api_overrides)
    app = create_app(settings, store, api_settings=api, audit_settings=AuditSettings(key=AUDIT_KEY))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        with httpx.Client(timeout=30) as http:
            yield ApiClient(f"http://127.0.0.1:{port}", SECRET, api.audit_log, http)
    finally:
        server.should_exit = True
        thread.join(10)
