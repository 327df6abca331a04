"""Prometheus text exposition of request counts, latencies and GraphQL errors (hand-written)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_PATHS = ("/graphql", "/healthz", "/metrics", "/ui")


def _path_label(path: str) -> str:
    for known in KNOWN_PATHS:
        if path == known or path.startswith(known + "/"):
            return known
    return "other"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)
        self.graphql_errors: dict[str, int] = defaultdict(int)

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        label = _path_label(path)
        with self._lock:
            self.requests[(label, method, str(status))] += 1
            buckets = self.latency_buckets[label]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self.latency_sum[label] += seconds
            self.latency_count[label] += 1

    def graphql_error(self, code: str) -> None:
        with self._lock:
            self.graphql_errors[code] += 1

    def render(self) -> str:
        lines = [
            "# HELP medfraud_http_requests_total HTTP requests by path, method and status.",
            "# TYPE medfraud_http_requests_total counter",
        ]
        with self._lock:
            for (path, method, status), n in sorted(self.requests.items()):
                labels = f'path="{path}",method="{method}",status="{status}"'
                lines.append(f"medfraud_http_requests_total{{{labels}}} {n}")
            lines += [
                "# HELP medfraud_http_request_duration_seconds HTTP request latency.",
                "# TYPE medfraud_http_request_duration_seconds histogram",
            ]
            for path in sorted(self.latency_count):
                for bound, n in zip(BUCKETS, self.latency_buckets[path], strict=True):
                    lines.append(
                        f'medfraud_http_request_duration_seconds_bucket{{path="{path}",le="{bound}"}} {n}')
                lines.append(f'medfraud_http_request_duration_seconds_bucket{{path="{path}",le="+Inf"}} '
                             f"{self.latency_count[path]}")
                lines.append(f'medfraud_http_request_duration_seconds_sum{{path="{path}"}} '
                             f"{self.latency_sum[path]:.6f}")
                lines.append(f'medfraud_http_request_duration_seconds_count{{path="{path}"}} '
                             f"{self.latency_count[path]}")
            lines += [
                "# HELP medfraud_graphql_errors_total GraphQL errors by extensions.code.",
                "# TYPE medfraud_graphql_errors_total counter",
            ]
            for code, n in sorted(self.graphql_errors.items()):
                lines.append(f'medfraud_graphql_errors_total{{code="{code}"}} {n}')
        return "\n".join(lines) + "\n"


def render_counters(counters: Sequence[tuple[str, str, int]], kind: str = "counter") -> str:
    """Prometheus text for plain counters (or gauges) kept elsewhere: ``(name, help, value)`` each."""
    lines: list[str] = []
    for name, text, value in counters:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {value}"]
    return "".join(line + "\n" for line in lines)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.observe(scope.get("path", ""), scope.get("method", ""), status,
                                 time.perf_counter() - start)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413 before the application reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = f'{{"detail":"request body larger than {self.max_bytes} bytes"}}'.encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        # no declared length (chunked): read up to the limit first, then replay what was read
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
