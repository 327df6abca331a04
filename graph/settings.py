"""Core settings: which store, how to reach it, the environment and the API secret.

Read from ``MEDFRAUD_*`` environment variables or a ``.env`` file. Other packages keep their own
section with a longer prefix (``MEDFRAUD_DETECT_*`` in ``algorithms.settings``, ``MEDFRAUD_API_*`` in
``api.settings``) so that each section is validated where it is used.

A missing or wrong value fails at start-up with :class:`graph.errors.ConfigError` naming the
variable, never later with a driver stack trace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.errors import ConfigError

DEV_SECRET = "dev-only-insecure-secret-change-me"


class Settings(BaseSettings):
    """Store selection and connection, environment and token secret."""

    model_config = SettingsConfigDict(
        env_prefix="MEDFRAUD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["dev", "prod"] = "dev"
    store: Literal["duckdb", "neo4j"] = "duckdb"
    duckdb_path: Path = Path("./data/medfraud.duckdb")
    duckdb_memory_limit: str = Field(default="6GB", description="DuckDB memory_limit pragma")
    duckdb_threads: int = Field(default=0, ge=0, description="0 = DuckDB's default (all cores)")
    read_index: bool = Field(
        default=True,
        description="the API server keeps relationships and node rows in memory (~1.7 GB at 1M persons)")
    node_cache: int = Field(
        default=100_000, ge=0, description="nodes kept in memory for reads (0 = off)")
    revision_check_s: float = Field(
        default=0.25, ge=0,
        description="Neo4j: how often an API worker looks for other processes' writes (0 = every read)")
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    neo4j_batch_size: int = Field(default=10_000, ge=1, le=1_000_000)
    query_timeout_s: float = Field(default=30.0, gt=0, description="store call time limit")
    read_query_row_limit: int = Field(default=1_000, ge=1, le=1_000_000)
    secret: str = DEV_SECRET
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.store == "neo4j":
            if not self.neo4j_uri:
                raise ValueError("MEDFRAUD_NEO4J_URI is required when MEDFRAUD_STORE=neo4j")
            if not self.neo4j_password:
                raise ValueError("MEDFRAUD_NEO4J_PASSWORD is required when MEDFRAUD_STORE=neo4j")
        if self.env == "prod" and (self.secret == DEV_SECRET or len(self.secret) < 32):
            raise ValueError(
                "MEDFRAUD_SECRET must be set to a random string of at least 32 characters "
                "when MEDFRAUD_ENV=prod"
            )
        return self


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S] = Settings, **overrides: Any) -> S:  # type: ignore[assignment]
    """Build a settings object, turning validation errors into a ConfigError that names the variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        problems = []
        for err in exc.errors():
            loc = "_".join(str(p) for p in err["loc"]).upper()
            name = f"{prefix}{loc}" if loc else prefix.rstrip("_")
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from exc
