"""Prepare the pictures investigators open first: the live rings, best-scored first.

Why: a ring's picture draws up to 300 nodes, mostly its patients' claims; read cold from the
embedded store's tables they cost 50-150 ms on a 1,000,000-person city, and even assembled from
the in-memory read index 5-10 ms. The ring list is where every investigation starts, so after the
server starts and after every change to what pictures show (a detection run, new data), a
background thread assembles the default picture of each of the top ``MEDFRAUD_API_WARM_RINGS``
live rings once and hands it to the serving layer to keep (:mod:`graph.serving.ring_pictures`);
without the read index this also fills the node cache. It waits for a read index under
construction first, so that pictures are assembled from memory. Requests are never blocked by it:
it runs in its own thread, and a failure is logged, never raised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

import pandas as pd

from graph.errors import MedfraudError
from graph.serving import pictures as sg
from graph.serving.ring_index import RingIndex
from graph.serving.ring_pictures import PICTURE_HOPS, PICTURE_NODES, Stamp, ring_members, ring_picture

log = logging.getLogger("medfraud.serving.warmup")


class PictureSource(sg.GraphReader, Protocol):
    """What preparing pictures reads: the serving layer (:class:`graph.serving.store.ServingStore`)."""

    @property
    def warm_rings(self) -> int: ...

    @property
    def hub_cap(self) -> int: ...

    @property
    def started(self) -> bool: ...

    @property
    def read_index_state(self) -> str: ...

    def ring_index(self) -> RingIndex: ...

    def nodes_frame(self, label: str, columns: Sequence[str] | None = None) -> pd.DataFrame: ...

    def picture_stamp(self) -> Stamp: ...

    def keep_ring_picture(self, ring_id: str, stamp: Stamp, hops: int, max_nodes: int, cap: int,
                          picture: sg.Assembled) -> None: ...


INDEX_WAIT_S = 600.0


def warm_ring_pictures(store: PictureSource, stop: threading.Event | None = None) -> int:
    """Assemble and keep the pictures of the best-scored live rings; returns how many."""
    wanted, hub_cap = store.warm_rings, store.hub_cap
    if wanted <= 0:
        return 0
    # read before anything the pictures are made of: a change meanwhile makes them unusable, never wrong
    stamp = store.picture_stamp()
    frame = store.nodes_frame("Ring", ["ring_id", "kind", "score", "status"])
    live = frame[frame["status"].fillna("") != "vanished"].sort_values(["score", "ring_id"],
                                                                       ascending=[False, True])
    members = store.ring_index().members
    done = 0
    for ring_id, kind in zip(live["ring_id"].astype(str), live["kind"].astype(str), strict=True):
        if done >= wanted or (stop is not None and stop.is_set()):
            break
        nodes = [n for n, _ in ring_members(store, members.get(ring_id, []))]
        if not nodes:
            continue
        picture = ring_picture(store, kind, nodes, hops=PICTURE_HOPS, max_nodes=PICTURE_NODES, cap=hub_cap)
        store.keep_ring_picture(ring_id, stamp, PICTURE_HOPS, PICTURE_NODES, hub_cap, picture)
        done += 1
    return done


class Warmup:
    """The background preparation; ``stop`` ends it between two rings (before the store closes)."""

    def __init__(self, store: PictureSource) -> None:
        self.store = store
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self._started = False
        self.prepared = 0

    @property
    def state(self) -> str:
        """``preparing`` while the thread runs, else ``ready`` (also when turned off)."""
        thread = self._thread
        return "preparing" if thread is not None and thread.is_alive() else "ready"

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def start(self) -> None:
        """Prepare now, or once more after the preparation under way (rings changed meanwhile).

        Only once the serving layer has been started: a change seen before that prepares nothing.
        """
        if self.store.warm_rings <= 0 or self._stop.is_set():
            return
        with self._lock:
            if not self._started and not self.store.started:
                return
            self._started = True
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._thread = threading.Thread(target=self._work, name="medfraud-warm-rings", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            self._prepare()
            with self._lock:
                if not self._again or self._stop.is_set():
                    return
                self._again = False

    def _prepare(self) -> None:
        store = self.store
        deadline = time.monotonic() + INDEX_WAIT_S
        while (store.read_index_state == "building" and time.monotonic() < deadline
               and not self._stop.is_set()):
            time.sleep(0.2)
        started = time.perf_counter()
        try:
            done = warm_ring_pictures(store, self._stop)
        except MedfraudError as exc:
            log.warning("ring pictures not prepared: %s", exc)
            return
        self.prepared = done
        if done:
            log.info("prepared %d ring pictures in %.1f s", done, time.perf_counter() - started)
