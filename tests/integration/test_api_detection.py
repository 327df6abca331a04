"""runDetection over real HTTP: admin only, refused while a run holds the lock, results visible after."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from algorithms.job import DetectionLock
from tests.integration import api_graph as g
from tests.integration.api_server import serve
from tests.integration.conftest import STORES, open_test_store

RUN = "mutation { runDetection { status startedAt startedBy } }"


@pytest.mark.parametrize("kind", STORES)
def test_run_detection_is_admin_only_refused_while_running_and_writes_a_run(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = open_test_store(kind, request, tmp_path)
    g.build(store)
    runs_before = store.count_nodes()["DetectionRun"]
    try:
        with serve(store, tmp_path) as api:
            assert api.error_codes(RUN, role="investigator") == ["FORBIDDEN"]
            with DetectionLock.for_store(store):  # a scheduled or CLI run in progress
                assert api.error_codes(RUN, role="admin") == ["CONFLICT"]
            started = api.data(RUN, role="admin")["runDetection"]
            assert started["status"] == "started" and started["startedBy"] == "admin-user"
            deadline = time.monotonic() + 60
            while store.count_nodes()["DetectionRun"] == runs_before:
                assert time.monotonic() < deadline, "the detection run did not finish"
                time.sleep(0.1)
            # the double claim planted in the graph is found again by the real detector
            found = api.data("{ doubleClaims { edges { node { personId kind } } } }")["doubleClaims"]["edges"]
            assert {"personId": g.P5, "kind": "medical_and_work_injury"} in [e["node"] for e in found]
    finally:
        store.close()
