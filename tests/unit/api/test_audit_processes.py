"""Several API workers append to one audit chain: it stays one verifiable chain, nothing lost."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from api.security.audit import AuditLog, verify

KEY = "k" * 32


def _worker(path: str, worker: int, n: int) -> None:
    # several request threads per process, as a uvicorn worker has: appends and group syncs of
    # one process overlap, and must still exclude the other processes
    log = AuditLog(Path(path), key=KEY, fsync=True)

    def requests(thread: int) -> None:
        for i in range(n // 3):
            log.append(event="request", sub=f"worker-{worker}", thread=thread, i=i)

    threads = [threading.Thread(target=requests, args=(t,)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()


def test_records_from_several_processes_form_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    AuditLog(path, key=KEY).close()  # created before the workers start, as `serve` does
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_worker, args=(str(path), w, 150)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    result = verify(path, KEY)
    assert result.ok, result.reason
    assert result.records == 450
    # and a process opening it afterwards continues the chain (its head names the last record)
    AuditLog(path, key=KEY).append(event="request", sub="after")
    assert verify(path, KEY).records == 451


def test_a_worker_opening_the_log_between_the_first_record_and_its_head(tmp_path: Path) -> None:
    """The first record is on disk before its group sync writes the head: a worker starting in
    between must continue the chain, not call the log cut (it did, about one run in five)."""
    path = tmp_path / "audit.log"
    first = AuditLog(path, key=KEY)
    first._sync = lambda seq: None  # type: ignore[method-assign]  # that sync has not run yet
    first.append(event="request", sub="worker-1")
    second = AuditLog(path, key=KEY)
    second.append(event="request", sub="worker-2")
    first.close()
    second.close()
    result = verify(path, KEY)
    assert result.ok, result.reason
    assert result.records == 2
