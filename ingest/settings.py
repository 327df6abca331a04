"""Ingest settings (``MEDFRAUD_INGEST_*``): batch and chunk sizes, how far ahead a date may lie.

Validated like every other section (:func:`graph.settings.load_settings`): a value that is not a
positive number fails with a :class:`graph.errors.ConfigError` naming the variable, before any file
is read.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.contract import DEFAULT_DATE_GRACE_DAYS


class IngestSettings(BaseSettings):
    """How a load is cut into batches and chunks, and the date-grace rule of the contract."""

    model_config = SettingsConfigDict(
        env_prefix="MEDFRAUD_INGEST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Large batches: each upsert batch after the first is matched against everything already in
    # the table, so fewer, bigger batches cost far less (measured: 250k-row batches 41 s, whole
    # tables 16 s for the claims of a million-person city). 8M keeps each claim relationship type
    # of a million-person city (~6M rows) in one batch, checked against the claims once (3M
    # batches: ~4 s more CPU); peak memory stays under 4 GB.
    batch_rows: int = Field(default=8_000_000, ge=1, description="rows per write batch")
    # Rows validated at a time: the nodes of one chunk are written while the next is validated.
    chunk_rows: int = Field(default=1_500_000, ge=1, description="rows validated at a time")
    date_grace_days: int = Field(default=DEFAULT_DATE_GRACE_DAYS, ge=0,
                                 description="days after today a date may lie")
