"""The serving layer: what makes reads fast for the API, above the store port and for every store.

``ServingStore`` wraps any adapter. It owns the data version, the in-memory read index
(``adjacency`` + ``nodecolumns``), the node cache, the ring-membership index, the response cache and
the preparation of ring pictures, and drops them in one place when a write passes through it or
the store reports another process's write. It depends on the port and the model only.
"""
