"""API settings (``MEDFRAUD_API_*``): where to listen and how much one request may ask for.

The store, the environment and the token secret come from :class:`graph.settings.Settings`; this
section only holds what the HTTP/GraphQL layer itself decides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_AUDIT_KEY = "dev-only-insecure-audit-key-change-me"


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDFRAUD_API_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_nodes: int = Field(default=1_000, ge=1, le=20_000, description="hard ceiling of a subgraph")
    max_hops: int = Field(default=4, ge=1, le=8, description="ceiling of subgraph hops and path length")
    hub_cap: int = Field(default=50, ge=1, le=10_000, description="relationships expanded per node")
    max_paths: int = Field(default=10, ge=1, le=1_000)
    max_page: int = Field(default=200, ge=1, le=10_000, description="largest `first` of a connection")
    max_body_bytes: int = Field(default=256 * 1024, ge=1_024)
    max_depth: int = Field(default=10, ge=2, le=50)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2_000, ge=50)
    store_timeout_s: float = Field(default=10.0, gt=0, description="time limit of one store call")
    audit_log: Path = Path("./data/audit.log")
    audit_fsync: bool = Field(default=True, description="fsync each audit record before answering")
    token_ttl_s: int = Field(default=8 * 3600, ge=60, le=30 * 24 * 3600)
    token_max_ttl_s: int = Field(
        default=24 * 3600, ge=60, le=30 * 24 * 3600,
        description="longest lifetime (exp - iat) of a token the server accepts")
    metrics_access: Literal["token", "loopback"] = Field(
        default="token", description="/metrics needs an admin token, or is answered to loopback clients only")
    max_cost: int = Field(
        default=20_000, ge=100,
        description="nodes one request may ask for, summed over the document before it runs")
    request_store_s: float = Field(
        default=30.0, gt=0, description="store time one request may use across all its store calls")
    read_query_max_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1_024, description="largest readQuery/runNamedQuery answer (encoded)")
    audit_text_cap: int = Field(
        default=64 * 1024, ge=1_024,
        description="characters of query text and variables kept in an audit record (its SHA-256 always)")
    scope_cache_s: float = Field(default=5.0, ge=0, description="how long a police scope is reused")
    response_cache: int = Field(
        default=1_000, ge=0,
        description="read answers kept while the embedded store's data is unchanged (0 = off)")
    parse_cache: int = Field(default=256, ge=1, description="parsed and validated query texts kept")
    warm_rings: int = Field(
        default=200, ge=0, description="ring pictures read in the background at start and after detection")



class AuditSettings(BaseSettings):
    """``MEDFRAUD_AUDIT_KEY``: the HMAC key of the audit chain (required in prod, not the token secret)."""

    model_config = SettingsConfigDict(
        env_prefix="MEDFRAUD_AUDIT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    key: str = DEV_AUDIT_KEY
