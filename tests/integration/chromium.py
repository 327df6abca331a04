"""Headless chromium for the /ui browser tests, and the live app they drive.

The server is ``api.http.app.create_app`` on a DuckDB store holding the fixture city and a detection
run, under uvicorn on a free loopback port. Chromium is driven through the DevTools protocol with
a tiny websocket client (no WebDriver dependency).

Chromium missing means skip, not fail: CI installs it with
``apt-get update && apt-get install -y chromium fonts-wqy-zenhei``.
Screenshots go to ``$MEDFRAUD_TEST_ARTEFACTS`` when set (CI uploads that folder), else a temp dir;
``MEDFRAUD_UI_SCREENSHOTS=docs/img`` refreshes the pictures of docs/ui.md instead.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

STATIC_DIR = Path(__file__).resolve().parents[2] / "api" / "static"
INSTALL_HINT = "apt-get update && apt-get install -y chromium chromium-driver fonts-wqy-zenhei"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageLog:
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Browser:
    """One headless chromium with one page, driven over the DevTools websocket."""

    def __init__(self, executable: str, *, width: int = 1440, height: int = 900, timeout_s: float = 30.0):
        self._profile = Path(tempfile.mkdtemp(prefix="medfraud-chromium-"))
        self._timeout_s = timeout_s
        # stderr to a file: chromium is chatty and a full pipe would block it
        self._stderr = (self._profile.parent / f"{self._profile.name}.stderr").open("w+b")
        self._proc = subprocess.Popen(
            [
                executable,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        self._next_id = 0
        self.log = PageLog()
        self._ws: ClientConnection | None = None
        self._sockets = contextlib.ExitStack()
        try:
            self._ws = self._sockets.enter_context(
                connect(self._page_socket_url(), max_size=64 * 1024 * 1024, open_timeout=timeout_s)
            )
            self.call("Page.enable")
            self.call("Runtime.enable")
            self.call("Network.enable")
            self.call("Log.enable")
            self.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
        except BaseException:
            self.close()
            raise

    def _page_socket_url(self) -> str:
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + self._timeout_s
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if self._proc.poll() is not None:
                self._stderr.seek(0)
                err = self._stderr.read().decode(errors="replace")
                raise RuntimeError(f"chromium exited with {self._proc.returncode}: {err[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        browser_url = f"ws://127.0.0.1:{port}{port_file.read_text().splitlines()[1]}"
        # Ask the browser for its page target rather than guessing the /json endpoint's shape.
        with connect(browser_url, open_timeout=self._timeout_s) as ws:
            ws.send(json.dumps({"id": 1, "method": "Target.getTargets"}))
            while True:
                msg = json.loads(ws.recv(timeout=self._timeout_s))
                if msg.get("id") == 1:
                    break
        pages = [t for t in msg["result"]["targetInfos"] if t["type"] == "page"]
        if not pages:
            raise RuntimeError("chromium has no page target")
        return f"ws://127.0.0.1:{port}/devtools/page/{pages[0]['targetId']}"

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self._ws is not None
        self._next_id += 1
        call_id = self._next_id
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + self._timeout_s
        while True:
            msg = json.loads(self._ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if msg.get("id") == call_id:
                if "error" in msg:
                    raise RuntimeError(f"{method} failed: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            self._record(msg)

    def _record(self, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.log.requests.append(params["request"]["url"])
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.log.problems.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.log.problems.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            where = entry.get("url", "")
            self.log.problems.append(f"{entry['source']} {entry['level']}: {entry['text']} {where}")

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout_s: float | None = None) -> Any:
        """Poll a JS expression until it is truthy; return its value."""
        deadline = time.monotonic() + (timeout_s or self._timeout_s)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"page never satisfied {expression!r}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        # the browser may already be gone; closing the socket is best effort
        with contextlib.suppress(Exception):
            self._sockets.close()
        self._ws = None
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._stderr.close()
        Path(self._stderr.name).unlink(missing_ok=True)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason=f"needs Debian's headless chromium; install it with: {INSTALL_HINT}"
)


@dataclass
class LiveApp:
    base_url: str
    secret: str
    ring_id: str
    ring_members: set[str]  # "Label:key"
    patient_name: str
    audit_log: Path

    def token(self, role: str, agency: str = "bureau-1") -> str:
        from api.security.auth import issue_token

        return issue_token(self.secret, sub=f"ui-test-{role}", role=role, agency=agency, ttl_s=3600)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def start_live_app(ui_city_store_path: Path, work: Path) -> Iterator[LiveApp]:
    """The app over a copy of the city store, served on a free loopback port until the block ends."""
    import uvicorn

    from api.http.app import create_app
    from api.settings import ApiSettings
    from graph.duckdb.store import DuckDBStore
    from graph.settings import Settings

    secret = "ui-browser-test-secret-0123456789abcdef"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDFRAUD_API_AUDIT_LOG", str(work / "audit.log"))
        mp.setenv("MEDFRAUD_API_AUDIT_FSYNC", "false")
        settings = Settings(env="dev", store="duckdb", duckdb_path=ui_city_store_path, secret=secret)
        store = DuckDBStore.from_settings(settings)
        rings = store.nodes_frame("Ring", ["ring_id", "kind", "score", "status"])
        rings = rings[rings["status"] != "vanished"]
        # a collusion ring makes the richest picture (clinic, doctors, patients); any ring will do
        rings = rings.assign(collusion=rings["kind"] == "collusion").sort_values(
            ["collusion", "score", "ring_id"], ascending=[False, False, True]
        )
        ring_id = str(rings.iloc[0]["ring_id"])
        members = store.relationships_frame("HAS_MEMBER", ["src", "dst", "dst_label"])
        mine = members[members["src"] == ring_id]
        ring_members = {f"{lbl}:{key}" for lbl, key in zip(mine["dst_label"], mine["dst"], strict=True)}
        patient_key = next(m.split(":", 1)[1] for m in sorted(ring_members) if m.startswith("Patient:"))
        patient_name = str(store.get_nodes("Patient", [patient_key])[0].props["name"])

        app = create_app(
            settings, store=store, api_settings=ApiSettings(audit_log=work / "audit.log", audit_fsync=False)
        )
        sock = _free_socket()
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        try:
            yield LiveApp(f"http://127.0.0.1:{port}", secret, ring_id, ring_members, patient_name,
                          work / "audit.log")
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            sock.close()
            store.close()


def artefact_dir(tmp_path: Path) -> Path:
    configured = os.environ.get("MEDFRAUD_TEST_ARTEFACTS")
    out = Path(configured) if configured else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    return out


PAGE_SETTLED = "document.body && document.body.dataset.state !== 'loading' && document.body.dataset.state"


def assert_offline_and_clean(browser: Browser, base_url: str) -> None:
    external = [
        u for u in browser.log.requests if not (u.startswith(base_url + "/") or u.startswith("data:"))
    ]
    assert external == [], f"the page asked for something outside its server: {external}"
    assert browser.log.problems == [], browser.log.problems


def make_ui_city_store(city_db_path: Path, folder: Path) -> Path:
    """A copy of the fixture city with one detection run in it, so there are rings to draw."""
    from algorithms.job import run_detection
    from graph.duckdb.store import DuckDBStore

    path = folder / "city.duckdb"
    shutil.copyfile(city_db_path, path)
    wal = city_db_path.with_name(city_db_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, path.with_name(path.name + ".wal"))
    store = DuckDBStore(path)
    try:
        store.apply_schema()
        run_detection(store)
    finally:
        store.close()
    return path


def screenshot_dir(tmp_path: Path) -> Path:
    """Where a test's screenshots go: docs/img when refreshing the docs, else the artefacts folder."""
    docs = os.environ.get("MEDFRAUD_UI_SCREENSHOTS")
    if docs:
        out = Path(docs)
        out.mkdir(parents=True, exist_ok=True)
        return out
    return artefact_dir(tmp_path)


def wait_settled(browser: Browser, extra: str = "true") -> None:
    browser.wait_for(f"({PAGE_SETTLED}) && ({extra})")


def drawn_ids(browser: Browser) -> set[str]:
    return set(browser.evaluate("window.medfraudView.cy.nodes().map(n => n.id())"))


def tap(browser: Browser, node_id: str) -> None:
    """A click on a node of the picture, as cytoscape.js reports one."""
    browser.evaluate(f"void window.medfraudView.cy.getElementById({json.dumps(node_id)}).emit('tap')")
