"""The keyed chain: every kind of tampering is found and named by line, even by someone who
recomputes hashes, and a server never continues a log whose tail does not verify."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from api.security.audit import GENESIS, AuditLog, head_path, new_segment, verify
from graph.errors import AuditError

KEY = "unit-audit-key-0123456789abcdefghij"


def write(path: Path, n: int) -> None:
    log = AuditLog(path, key=KEY, fsync=False)
    for i in range(n):
        log.append(
            sub=f"user{i}", role="investigator", agency="A", operation="q", entity_keys=[f"Patient:{i}"]
        )


def test_an_untouched_log_verifies_and_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 3)
    write(path, 2)  # a restarted server appends to the same chain
    result = verify(path, KEY)
    assert result.ok and result.records == 5
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [1, 2, 3, 4, 5]


def test_an_edited_field_is_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 4)
    path.write_text(path.read_text().replace('"Patient:2"', '"Patient:7"'))
    result = verify(path, KEY)
    assert not result.ok and result.line == 3 and "edited" in result.reason


def test_deleted_inserted_and_cut_lines_are_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 4)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1] + lines[2:]))
    assert verify(path, KEY).line == 2
    path.write_text("".join(lines + lines[-1:]))
    assert verify(path, KEY).line == 5
    path.write_text("".join(lines[:3]))
    cut = verify(path, KEY)
    assert not cut.ok and "cut off" in cut.reason
    path.write_text("".join(lines[:2]) + "not json\n" + "".join(lines[2:]))
    assert verify(path, KEY).line == 3


def test_a_missing_log_does_not_verify(tmp_path: Path) -> None:
    assert not verify(tmp_path / "none.log", KEY).ok


def test_concurrent_writers_keep_one_valid_chain_and_each_record_is_synced_before_it_returns(
    tmp_path: Path,
) -> None:
    import threading

    log = AuditLog(tmp_path / "audit.log", key=KEY, fsync=True)

    def writer(n: int) -> None:
        for i in range(50):
            record = log.append(sub=f"u{n}", operation="patient", entity_keys=[f"Patient:{n}-{i}"])
            assert log._synced >= record["seq"]  # a shared sync covered it before append returned

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    result = verify(tmp_path / "audit.log", KEY)
    assert result.ok and result.records == 400


def _unkeyed_rewrite(path: Path, keep: int) -> None:
    """What an attacker without the key can do: keep some lines, re-hash them, rewrite the head."""
    prev, out = GENESIS, []
    for line in path.read_text().splitlines()[:keep]:
        rec = json.loads(line)
        rec.pop("hash")
        rec["prev"] = prev
        canonical = json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        rec["hash"] = prev = hashlib.sha256((prev + canonical).encode()).hexdigest()
        out.append(json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    path.write_text("\n".join(out) + "\n")
    head_path(path).write_text(json.dumps({"seq": keep, "hash": prev, "mac": "0" * 64}))


def test_a_chain_recomputed_without_the_key_does_not_verify(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 4)
    _unkeyed_rewrite(path, 3)
    result = verify(path, KEY)
    assert not result.ok and result.line == 1 and "another key" in result.reason
    assert not verify(path, "another-audit-key-abcdefghijklmnopqrs").ok


def test_lines_cut_off_the_end_with_the_old_head_kept_are_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 4)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]))
    assert "cut off the end" in verify(path, KEY).reason
    head_path(path).unlink()
    assert "cannot be ruled out" in verify(path, KEY).reason


def test_a_server_refuses_a_bad_tail_until_a_new_segment_records_the_break(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 4)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]))  # truncated
    with pytest.raises(AuditError, match="new-segment"):
        AuditLog(path, key=KEY)
    aside = new_segment(path, KEY)
    assert aside.exists() and "".join(lines[:3]) == aside.read_text()
    log = AuditLog(path, key=KEY)  # starts now
    log.append(sub="u", operation="q")
    log.close()
    assert verify(path, KEY).ok
    first = json.loads(path.read_text().splitlines()[0])
    assert first["event"] == "segment_break" and first["previous_file"] == aside.name
    assert first["previous_good_records"] == 3 and "cut off" in first["reason"]


def test_a_deleted_log_with_its_head_left_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 2)
    path.unlink()
    with pytest.raises(AuditError, match="missing or empty"):
        AuditLog(path, key=KEY)


def test_log_and_head_are_private_to_the_server_user(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.touch(mode=0o644)
    path.chmod(0o644)
    write(path, 1)
    assert path.stat().st_mode & 0o777 == 0o600
    assert head_path(path).stat().st_mode & 0o777 == 0o600
