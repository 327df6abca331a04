"""Shared test configuration: the ``neo4j`` marker and fixtures built from the synthetic generator."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("NEO4J_URI"):
        return
    skip = pytest.mark.skip(reason="needs a live Neo4j: set NEO4J_URI (and NEO4J_USER/NEO4J_PASSWORD)")
    for item in items:
        if "neo4j" in item.keywords:
            item.add_marker(skip)
