"""The graph model, the store port and its two adapters (DuckDB embedded, Neo4j).

Beside the model (``model.py``) and the port (``port.py``): ``records.py`` / ``record_types.py``
(typed values and records generated from the model), ``listing.py`` (paged, filtered reads),
``writesteps.py`` and ``derived.py`` (multi-step writes written once), ``arguments.py`` (the one
error contract for bad arguments), ``errors.py`` (domain errors).
"""
