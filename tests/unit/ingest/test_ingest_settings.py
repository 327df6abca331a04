"""Ingest sizes come from MEDFRAUD_INGEST_* through the settings, validated before any file is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.duckdb.store import DuckDBStore
from graph.errors import ConfigError
from graph.settings import load_settings
from ingest.loader import ingest_dir
from ingest.settings import IngestSettings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(IngestSettings).batch_rows == 8_000_000
    monkeypatch.setenv("MEDFRAUD_INGEST_CHUNK_ROWS", "2500")
    monkeypatch.setenv("MEDFRAUD_INGEST_DATE_GRACE_DAYS", "0")
    got = load_settings(IngestSettings)
    assert (got.chunk_rows, got.date_grace_days) == (2500, 0)


def test_a_bad_value_names_the_variable_before_anything_is_read(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("MEDFRAUD_INGEST_BATCH_ROWS", "0")
    store = DuckDBStore(":memory:")
    store.apply_schema()
    with pytest.raises(ConfigError, match="MEDFRAUD_INGEST_BATCH_ROWS"):
        ingest_dir(store, tmp_path / "no-such-folder")
    store.close()
