"""The API's CLI commands: token, export-schema, audit verify."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.gql.schema import schema_sdl
from api.security.audit import AuditLog
from api.security.auth import Role, decode_token

SECRET = "cli-test-secret-0123456789abcdef0123456789"


def test_token_prints_a_valid_token_alone_on_the_last_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDFRAUD_SECRET", SECRET)
    result = CliRunner().invoke(app, ["token", "--role", "police", "--agency", "PSB-1", "--sub", "officer"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    who = decode_token(SECRET, token)
    assert (who.sub, who.role, who.agency) == ("officer", Role.police, "PSB-1")
    bad = CliRunner().invoke(app, ["token", "--role", "chief", "--agency", "A", "--sub", "x"])
    assert bad.exit_code != 0


def test_export_schema_writes_the_live_sdl(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    result = CliRunner().invoke(app, ["export-schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == schema_sdl()


def test_audit_verify_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log_path = tmp_path / "audit.log"
    monkeypatch.setenv("MEDFRAUD_AUDIT_KEY", "commands-audit-key-0123456789abcdefg")
    log = AuditLog(log_path, key="commands-audit-key-0123456789abcdefg", fsync=False)
    for i in range(3):
        log.append(sub="u", role="investigator", agency="A", operation=f"op{i}", entity_keys=[])
    ok = CliRunner().invoke(app, ["audit", "verify", str(log_path)])
    assert ok.exit_code == 0 and "3 records, chain intact" in ok.stdout
    log_path.write_text(log_path.read_text().replace('"op1"', '"op9"'))
    bad = CliRunner().invoke(app, ["audit", "verify", str(log_path)])
    assert bad.exit_code == 1 and "line 2" in bad.stderr
