"""Append-only, hash-chained audit log of access to person-level data.

One JSON object per line. Each record carries ``seq`` (1, 2, ...), ``prev`` (the previous record's
hash, 64 zeros for the first) and ``hash`` = SHA-256 of ``prev`` + the canonical JSON of the record
without ``hash``. Editing a line breaks its hash; deleting or reordering lines breaks ``seq`` and
``prev``; cutting lines off the end is caught by the ``<log>.head`` file, which holds the last
``seq`` and ``hash`` written.

A record that cannot be written raises :class:`~graph.errors.AuditError`, and the API fails the
request: person-level data is never returned without its trace.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from graph.errors import AuditError

GENESIS = "0" * 64


def _digest(prev: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev + canonical).encode()).hexdigest()


def head_path(log: Path) -> Path:
    return log.with_name(log.name + ".head")


class AuditLog:
    """Thread-safe appender; one instance per process owns the file.

    Group commit: each record is written under a lock (microseconds), then its writer waits until
    a sync covers it. The first waiter fsyncs everything written so far and updates the head file
    once for all of them, so concurrent requests share one fsync instead of queueing for their
    own, and no request returns before its record is on disk.
    """

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._dirty = False
        self._seq, self._prev = self._tail()
        self._synced = self._seq
        self._fh: TextIO | None = None

    def _tail(self) -> tuple[int, str]:
        if not self.path.exists():
            return 0, GENESIS
        last = ""
        try:
            with self.path.open("rb") as fh:
                for line in fh:
                    if line.strip():
                        last = line.decode("utf-8")
            if not last:
                return 0, GENESIS
            rec = json.loads(last)
            return int(rec["seq"]), str(rec["hash"])
        except (OSError, ValueError, KeyError) as exc:
            raise AuditError(f"cannot continue audit log {self.path}: last line unreadable ({exc})") from exc

    def _file(self) -> TextIO:
        fh = self._fh
        if fh is not None and not fh.closed:
            try:
                if os.fstat(fh.fileno()).st_ino == os.stat(self.path).st_ino:
                    return fh
            except OSError:
                pass  # the log was moved or deleted: write to a file at its path again
            fh.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")
        return self._fh

    def append(self, **fields: Any) -> dict[str, Any]:
        """Write one record (who, what, which entities); returns it with its chain fields."""
        with self._lock:
            if self._dirty:
                # a previous write failed half-way: continue from what the file really holds
                if self._fh is not None:
                    with contextlib.suppress(OSError):
                        self._fh.close()
                    self._fh = None
                self._seq, self._prev = self._tail()
                self._dirty = False
            body: dict[str, Any] = {
                "seq": self._seq + 1,
                "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
                **fields,
                "prev": self._prev,
            }
            digest = _digest(self._prev, body)
            record = {**body, "hash": digest}
            line = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
            try:
                fh = self._file()
                fh.write(line)
                fh.flush()
            except OSError as exc:
                self._dirty = True
                raise AuditError(f"cannot write audit record to {self.path}: {exc}") from exc
            self._seq, self._prev = body["seq"], digest
        self._sync(body["seq"])
        return record

    def _sync(self, seq: int) -> None:
        with self._sync_lock:
            if self._synced >= seq:
                return  # another writer's sync covered this record
            with self._lock:
                upto, last_hash, fh = self._seq, self._prev, self._fh
            try:
                if self.fsync and fh is not None:
                    os.fsync(fh.fileno())
            except (OSError, ValueError) as exc:
                with self._lock:
                    self._dirty = True
                raise AuditError(f"cannot write audit record to {self.path}: {exc}") from exc
            try:
                tmp = head_path(self.path).with_suffix(".tmp")
                tmp.write_text(json.dumps({"seq": upto, "hash": last_hash}), encoding="utf-8")
                os.replace(tmp, head_path(self.path))
            except OSError as exc:
                raise AuditError(f"cannot update the audit head {head_path(self.path)}: {exc}") from exc
            self._synced = upto

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


@dataclass
class VerifyResult:
    ok: bool
    records: int
    line: int | None = None
    reason: str = ""


def verify(path: Path) -> VerifyResult:
    """Check the whole chain; the first bad line (1-based) and why, or ok."""
    if not path.exists():
        return VerifyResult(False, 0, None, f"audit log {path} does not exist")
    prev, seq, count = GENESIS, 0, 0
    with path.open("r", encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                return VerifyResult(False, count, lineno, "empty line")
            try:
                rec = json.loads(raw)
                stated = rec.pop("hash")
            except (ValueError, KeyError, AttributeError, TypeError):
                return VerifyResult(False, count, lineno, "not a JSON audit record")
            if rec.get("seq") != seq + 1:
                return VerifyResult(False, count, lineno,
                                    f"sequence {rec.get('seq')} where {seq + 1} was expected "
                                    "(a line was deleted, inserted or moved)")
            if rec.get("prev") != prev:
                return VerifyResult(False, count, lineno,
                                    "previous-hash link broken (lines deleted or moved)")
            if _digest(prev, rec) != stated:
                return VerifyResult(False, count, lineno, "hash mismatch (the line was edited)")
            prev, seq, count = stated, rec["seq"], count + 1
    head = head_path(path)
    if head.exists():
        try:
            state = json.loads(head.read_text(encoding="utf-8"))
        except ValueError:
            return VerifyResult(False, count, None, f"{head} is unreadable")
        if state.get("seq") != seq or state.get("hash") != prev:
            return VerifyResult(False, count, count + 1,
                                f"log ends at record {seq} but {head} says {state.get('seq')} were "
                                "written (lines cut off the end)")
    return VerifyResult(True, count)
