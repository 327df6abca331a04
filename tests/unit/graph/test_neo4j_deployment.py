"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine runs here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def test_neo4j_service_runs_community_with_gds_and_auth_from_the_environment() -> None:
    neo4j = compose()["services"]["neo4j"]
    pom = (ROOT / "deploy" / "neo4j-local" / "pom.xml").read_text(encoding="utf-8")
    neo4j_version = re.search(r"<neo4j.version>([^<]+)</neo4j.version>", pom)
    gds_version = re.search(r"<gds.version>(\d+\.\d+)\.\d+</gds.version>", pom)
    assert neo4j_version and gds_version
    # the image runs the Neo4j the local server and CI run, and refuses another GDS line
    assert neo4j["image"] == f"neo4j:{neo4j_version.group(1)}-community"
    assert f"STARTS WITH '{gds_version.group(1)}.'" in " ".join(neo4j["healthcheck"]["test"])
    env = neo4j["environment"]
    assert re.fullmatch(r"neo4j/\$\{NEO4J_PASSWORD:\?[^}]*\}", env["NEO4J_AUTH"])  # required, never defaulted
    assert json.loads(env["NEO4J_PLUGINS"]) == ["graph-data-science"]
    assert env["NEO4J_dbms_security_procedures_unrestricted"] == "gds.*"
    # Neo4j's image maps NEO4J_a_b__c to the setting a.b_c; these are Neo4j 5 names (server.*).
    for name in ("NEO4J_server_memory_heap_max__size", "NEO4J_server_memory_pagecache_size"):
        assert name in env
    assert "/data" in {v.split(":")[1] for v in neo4j["volumes"]}
    assert "gds.version()" in " ".join(neo4j["healthcheck"]["test"])


def test_api_service_uses_neo4j_once_it_is_healthy() -> None:
    api = compose()["services"]["api"]
    assert api["build"] == "."
    assert api["depends_on"] == {"neo4j": {"condition": "service_healthy"}}
    env = api["environment"]
    assert env["MEDFRAUD_STORE"] == "neo4j"
    assert env["MEDFRAUD_NEO4J_URI"] == "bolt://neo4j:7687"
    assert env["MEDFRAUD_NEO4J_PASSWORD"].startswith("${NEO4J_PASSWORD:?")
    assert env["MEDFRAUD_SECRET"].startswith("${MEDFRAUD_SECRET:?")
    assert env["MEDFRAUD_ENV"] == "prod"


def test_dockerfile_installs_the_package_and_serves_on_all_interfaces() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "RUN pip install ." in text
    cmd = re.search(r"^CMD (.+)$", text, re.MULTILINE)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == ["medfraud", "serve", "--host", "0.0.0.0", "--port", "8000"]
    copied = set(re.findall(r"^COPY (\S+)/ ", text, re.MULTILINE))
    assert copied == {"graph", "ingest", "algorithms", "queries", "api"}
