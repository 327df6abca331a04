"""The hash chain: every kind of tampering is found and named by line."""

from __future__ import annotations

import json
from pathlib import Path

from api.audit import AuditLog, verify


def write(path: Path, n: int) -> None:
    log = AuditLog(path, fsync=False)
    for i in range(n):
        log.append(
            sub=f"user{i}", role="investigator", agency="A", operation="q", entity_keys=[f"Patient:{i}"]
        )


def test_an_untouched_log_verifies_and_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 3)
    write(path, 2)  # a restarted server appends to the same chain
    result = verify(path)
    assert result.ok and result.records == 5
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [1, 2, 3, 4, 5]


def test_an_edited_field_is_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 4)
    path.write_text(path.read_text().replace('"Patient:2"', '"Patient:7"'))
    result = verify(path)
    assert not result.ok and result.line == 3 and "edited" in result.reason


def test_deleted_inserted_and_cut_lines_are_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    write(path, 4)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1] + lines[2:]))
    assert verify(path).line == 2
    path.write_text("".join(lines + lines[-1:]))
    assert verify(path).line == 5
    path.write_text("".join(lines[:3]))
    cut = verify(path)
    assert not cut.ok and "cut off" in cut.reason
    path.write_text("".join(lines[:2]) + "not json\n" + "".join(lines[2:]))
    assert verify(path).line == 3


def test_a_missing_log_does_not_verify(tmp_path: Path) -> None:
    assert not verify(tmp_path / "none.log").ok


def test_concurrent_writers_keep_one_valid_chain_and_each_record_is_synced_before_it_returns(
    tmp_path: Path,
) -> None:
    import threading

    log = AuditLog(tmp_path / "audit.log", fsync=True)

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
    result = verify(tmp_path / "audit.log")
    assert result.ok and result.records == 400
