"""A missing or wrong setting fails at start-up with a message naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import ConfigError
from graph.settings import Settings, load_settings


def test_defaults_run_the_embedded_store_in_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MEDFRAUD_STORE", "MEDFRAUD_ENV", "MEDFRAUD_DUCKDB_PATH"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings(Settings, _env_file=None)
    assert s.store == "duckdb" and s.env == "dev"
    assert str(s.duckdb_path).endswith("medfraud.duckdb")


def test_environment_variables_with_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDFRAUD_DUCKDB_PATH", "/tmp/x.duckdb")
    monkeypatch.setenv("MEDFRAUD_NEO4J_BATCH_SIZE", "500")
    s = load_settings(Settings, _env_file=None)
    assert str(s.duckdb_path) == "/tmp/x.duckdb" and s.neo4j_batch_size == 500


def test_wrong_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDFRAUD_STORE", "postgres")
    with pytest.raises(ConfigError, match="MEDFRAUD_STORE"):
        load_settings(Settings, _env_file=None)


def test_neo4j_store_without_uri_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDFRAUD_STORE", "neo4j")
    monkeypatch.delenv("MEDFRAUD_NEO4J_URI", raising=False)
    with pytest.raises(ConfigError, match="MEDFRAUD_NEO4J_URI"):
        load_settings(Settings, _env_file=None)


def test_prod_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDFRAUD_ENV", "prod")
    monkeypatch.delenv("MEDFRAUD_SECRET", raising=False)
    with pytest.raises(ConfigError, match="MEDFRAUD_SECRET"):
        load_settings(Settings, _env_file=None)
    monkeypatch.setenv("MEDFRAUD_SECRET", "x" * 40)
    assert load_settings(Settings, _env_file=None).env == "prod"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("MEDFRAUD_NEO4J_DATABASE=bureau\n", encoding="utf-8")
    monkeypatch.delenv("MEDFRAUD_NEO4J_DATABASE", raising=False)
    assert load_settings(Settings, _env_file=str(env)).neo4j_database == "bureau"
