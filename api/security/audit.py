"""Append-only, HMAC-chained audit log of every API request.

One JSON object per line. Each record carries ``seq`` (1, 2, ...), ``prev`` (the previous record's
``hash``, 64 zeros for the first) and ``hash`` = HMAC-SHA256 under ``MEDFRAUD_AUDIT_KEY`` of
``prev`` + the canonical JSON of the record without ``hash``. Editing a line breaks its hash,
deleting or reordering lines breaks ``seq`` and ``prev``, and — because the chain is keyed —
whoever edits the file cannot recompute it without the key. The ``<log>.head`` file holds the
last ``seq`` and ``hash`` written with an HMAC of its own, so lines cut off the end are detected
(a head cannot be forged for the shorter log). Both files are created 0600.

What the key does not protect against (docs/api.md, "Threat model"): someone holding the key; a
whole log and head replaced by an older copy of both; a record never written because the
server itself was subverted.

The server checks the tail of an existing log at start-up (last record's HMAC, and the head) and
refuses to start on one that does not verify; ``medfraud audit new-segment`` sets the bad log
aside and starts a new one whose first record states the break.

A record that cannot be written raises :class:`~graph.errors.AuditError`, and the API fails the
request: no data is returned without its trace.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from graph.errors import AuditError

GENESIS = "0" * 64
FILE_MODE = 0o600
RECOVERY = ("the log was edited, cut or written with another key. Keep it as evidence, then run "
            "'medfraud audit new-segment' to set it aside and start a new log whose first record "
            "states the break")


def _digest(key: bytes, prev: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, (prev + canonical).encode(), hashlib.sha256).hexdigest()


def _head_mac(key: bytes, seq: int, digest: str) -> str:
    return hmac.new(key, f"head:{seq}:{digest}".encode(), hashlib.sha256).hexdigest()


def head_path(log: Path) -> Path:
    return log.with_name(log.name + ".head")


def _open_private(path: Path, flags: int) -> int:
    fd = os.open(path, flags, FILE_MODE)
    # an existing file keeps its mode on open: narrow it
    os.fchmod(fd, FILE_MODE)
    return fd


def _read_head(path: Path, key: bytes) -> tuple[int, str] | str:
    """The head's (seq, hash), or why it cannot be trusted."""
    head = head_path(path)
    try:
        state = json.loads(head.read_text(encoding="utf-8"))
        seq, digest, mac = int(state["seq"]), str(state["hash"]), str(state["mac"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"{head} is missing or unreadable"
    if not hmac.compare_digest(mac, _head_mac(key, seq, digest)):
        return f"{head} is not signed with this audit key"
    return seq, digest


def _last_two(path: Path) -> tuple[str, str]:
    prev_line, last = "", ""
    with path.open("rb") as fh:
        for raw in fh:
            if raw.strip():
                prev_line, last = last, raw.decode("utf-8")
    return prev_line, last


def check_tail(path: Path, key: bytes) -> tuple[int, str]:
    """The (seq, hash) to continue from, or AuditError saying what is wrong and how to recover."""
    head = _read_head(path, key) if head_path(path).exists() else None
    if not path.exists() or path.stat().st_size == 0:
        if isinstance(head, tuple) and head[0] > 0:
            raise AuditError(f"audit log {path} is missing or empty but its head says {head[0]} records "
                             f"were written: {RECOVERY}")
        return 0, GENESIS
    try:
        _, last = _last_two(path)
        rec = json.loads(last)
        stated = rec.pop("hash")
        seq, prev = int(rec["seq"]), str(rec["prev"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AuditError(f"audit log {path}: the last line is unreadable ({exc}): {RECOVERY}") from exc
    if not hmac.compare_digest(str(stated), _digest(key, prev, rec)):
        raise AuditError(f"audit log {path}: the last record (seq {seq}) does not verify: {RECOVERY}")
    if head is None or isinstance(head, str):
        raise AuditError(f"audit log {path}: {head or 'the head file is missing'}, so lines cut off the "
                         f"end cannot be ruled out: {RECOVERY}")
    if head != (seq, stated) and not _head_behind_a_valid_tail(path, key, head):
        raise AuditError(f"audit log {path} ends at record {seq} but its head says {head[0]} were "
                         f"written (lines cut off the end): {RECOVERY}")
    return seq, str(stated)


# how far back the records a head has not caught up with yet are looked for
_TAIL_BYTES = 4 << 20


def _head_behind_a_valid_tail(path: Path, key: bytes, head: tuple[int, str]) -> bool:
    """Whether the head names an earlier record of the file and every record after it chains on.

    With several API workers, a record is written under the file lock but the head is updated by
    the next group sync, so another process can find the head a few records behind. That is not a
    cut: the head's record is in the file and the records after it verify from it.
    """
    genesis = head == (0, GENESIS)  # no record synced yet: the chain must verify from line one
    if genesis and path.stat().st_size > _TAIL_BYTES:
        return False
    with path.open("rb") as fh:
        fh.seek(0 if genesis else max(0, path.stat().st_size - _TAIL_BYTES))
        lines = [raw for raw in fh.read().split(b"\n") if raw.strip()]
    prev: str | None = GENESIS if genesis else None
    for raw in lines:
        try:
            rec = json.loads(raw)
            stated = str(rec.pop("hash"))
            seq = int(rec["seq"])
        except (ValueError, KeyError, TypeError, AttributeError):
            prev = None  # the first, cut line of the window: start from a whole one
            continue
        if prev is None:
            if (seq, stated) == head:
                prev = stated
            continue
        if str(rec.get("prev")) != prev or not hmac.compare_digest(stated, _digest(key, prev, rec)):
            return False
        prev = stated
    return prev is not None


class DocumentBook:
    """Query documents this process already wrote in full, by SHA-256, with the seq that holds them.

    The UI sends the same few documents all day with different variables; a repeat is recorded by
    its hash and the seq of the record holding its text (``query_first_seq``), which the chain
    protects like any other record. Bounded: a document forgotten is simply written in full again.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._seqs: OrderedDict[str, int] = OrderedDict()

    def first_seq(self, digest: str) -> int | None:
        with self._lock:
            seq = self._seqs.get(digest)
            if seq is not None:
                self._seqs.move_to_end(digest)
            return seq

    def remember(self, digest: str, seq: int) -> None:
        with self._lock:
            self._seqs.setdefault(digest, seq)
            while len(self._seqs) > self.capacity:
                self._seqs.popitem(last=False)


class AuditLog:
    """Thread- and process-safe appender: several API workers (``serve --workers N``) share one chain.

    Group commit: each record is written under a lock (microseconds), then its writer waits until
    a sync covers it. The first waiter fsyncs everything written so far and updates the head file
    once for all of them, so concurrent requests share one fsync instead of queueing for their
    own, and no request returns before its record is on disk.

    Across processes an advisory lock (``flock`` on ``<log>.lock``) is held while a record is
    written and while the head is updated. A process that finds the file longer than it left it
    continues the chain from the record another process wrote last; the head only ever moves
    forward, so it names the last record whoever wrote it.
    """

    def __init__(self, path: Path, *, key: str, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        self._key = key.encode()
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._dirty = False
        self._lock_fd: int | None = None
        # flock belongs to the open file, not the thread: without this, a second thread of the same
        # process would "get" the lock its neighbour holds, and its unlock would free it for all
        self._lock_owner = threading.Lock()
        with self._cross_process():
            self._seq, self._prev = check_tail(path, self._key)
            self._end = path.stat().st_size if path.exists() else 0
            if self._seq == 0 and not head_path(path).exists():
                # A head from the start: the first record is written before its group sync
                # writes the head, and another worker opening the log in between must find a
                # head (behind a valid tail), not a log without one.
                write_head(path, self._key, 0, GENESIS)
        self._synced = self._seq
        self._fh: TextIO | None = None
        self.documents = DocumentBook()

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
        fd = _open_private(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self._fh = os.fdopen(fd, "a", encoding="utf-8")
        return self._fh

    @contextlib.contextmanager
    def _cross_process(self) -> Iterator[None]:
        """Exclusive against every other thread and process writing to the same log."""
        with self._lock_owner:
            if self._lock_fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._lock_fd = _open_private(self.path.with_name(self.path.name + ".lock"),
                                              os.O_RDWR | os.O_CREAT)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _written_elsewhere(self) -> bool:
        try:
            return os.stat(self.path).st_size != self._end
        except FileNotFoundError:
            return self._end != 0

    def append(self, **fields: Any) -> dict[str, Any]:
        """Write one record; returns it with its chain fields."""
        with self._lock, self._cross_process():
            if self._dirty or self._written_elsewhere():
                # a previous write failed half-way: continue from what the file really holds
                if self._fh is not None:
                    with contextlib.suppress(OSError):
                        self._fh.close()
                    self._fh = None
                self._seq, self._prev = self._reread_tail()
                self._end = self.path.stat().st_size if self.path.exists() else 0
                self._dirty = False
            body: dict[str, Any] = {
                "seq": self._seq + 1,
                "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
                **fields,
                "prev": self._prev,
            }
            digest = _digest(self._key, self._prev, body)
            record = {**body, "hash": digest}
            line = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
            try:
                fh = self._file()
                fh.write(line)
                fh.flush()
                self._end = os.fstat(fh.fileno()).st_size
            except OSError as exc:
                self._dirty = True
                raise AuditError(f"cannot write audit record to {self.path}: {exc}") from exc
            self._seq, self._prev = body["seq"], digest
        self._sync(body["seq"])
        return record

    def _reread_tail(self) -> tuple[int, str]:
        """After a failed write or another process's: continue from the file's last record."""
        try:
            _, last = _last_two(self.path)
            rec = json.loads(last) if last else None
        except (OSError, ValueError) as exc:
            raise AuditError(f"cannot continue audit log {self.path}: {exc}") from exc
        return (int(rec["seq"]), str(rec["hash"])) if rec else (0, GENESIS)

    def _sync(self, seq: int) -> None:
        with self._sync_lock:
            if self._synced >= seq:
                return  # another writer's sync covered this record
            # A duplicate of the descriptor, taken under the lock: an append may close the file
            # meanwhile (another process wrote, so it reopens), and fsync on a closed or reused
            # descriptor failed with "Bad file descriptor" under several workers.
            with self._lock:
                upto, last_hash, fh = self._seq, self._prev, self._fh
                fd = os.dup(fh.fileno()) if self.fsync and fh is not None and not fh.closed else None
            try:
                if fd is not None:
                    os.fsync(fd)
            except OSError as exc:
                with self._lock:
                    self._dirty = True
                raise AuditError(f"cannot write audit record to {self.path}: {exc}") from exc
            finally:
                if fd is not None:
                    os.close(fd)
            try:
                with self._cross_process():
                    head = _read_head(self.path, self._key) if head_path(self.path).exists() else None
                    # another process may have synced a later record meanwhile: never move back
                    if not (isinstance(head, tuple) and head[0] > upto):
                        write_head(self.path, self._key, upto, last_hash)
            except OSError as exc:
                raise AuditError(f"cannot update the audit head {head_path(self.path)}: {exc}") from exc
            self._synced = upto

    def close(self) -> None:
        with self._lock, self._lock_owner:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def write_head(path: Path, key: bytes, seq: int, digest: str) -> None:
    # a name of this process's own: the rename is what makes the new head visible, whole
    tmp = head_path(path).with_suffix(f".{os.getpid()}.tmp")
    fd = _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"seq": seq, "hash": digest, "mac": _head_mac(key, seq, digest)}))
    os.replace(tmp, head_path(path))


@dataclass
class VerifyResult:
    ok: bool
    records: int
    line: int | None = None
    reason: str = ""


def verify(path: Path, key: str) -> VerifyResult:
    """Check the whole chain under ``key``; the first bad line (1-based) and why, or ok."""
    if not path.exists():
        return VerifyResult(False, 0, None, f"audit log {path} does not exist")
    k = key.encode()
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
            if not hmac.compare_digest(str(stated), _digest(k, prev, rec)):
                return VerifyResult(False, count, lineno,
                                    "hash mismatch (the line was edited, or written under another key)")
            prev, seq, count = stated, rec["seq"], count + 1
    head = _read_head(path, k)
    if isinstance(head, str):
        return VerifyResult(False, count, None, f"{head}, so lines cut off the end cannot be ruled out")
    if head != (seq, prev):
        return VerifyResult(False, count, count + 1,
                            f"log ends at record {seq} but {head_path(path)} says {head[0]} were "
                            "written (lines cut off the end)")
    return VerifyResult(True, count)


def new_segment(path: Path, key: str, *, now: datetime | None = None) -> Path:
    """Set a log that does not verify aside and start a new one whose first record states the break.

    Returns where the old log went. The old files are kept untouched (renamed), as evidence.
    """
    found = verify(path, key) if path.exists() else VerifyResult(False, 0, None, "log missing")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.broken-{stamp}")
    if path.exists():
        os.replace(path, aside)
    head = head_path(path)
    if head.exists():
        os.replace(head, head_path(aside))
    log = AuditLog(path, key=key)
    try:
        log.append(event="segment_break", previous_file=aside.name, previous_good_records=found.records,
                   previous_bad_line=found.line, reason=found.reason or "set aside on request")
    finally:
        log.close()
    return aside
