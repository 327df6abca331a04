"""The embedded adapter: the property graph in typed DuckDB tables (the default store).

``store`` is the adapter (``DuckDBStore``); ``schema`` turns the model into tables and indexes;
``writes`` and ``reads`` hold its set-based SQL; ``readquery`` runs analysts' SQL, read-only and on a
pseudonymised view. Nothing here caches for the API: that is :mod:`graph.serving`.
"""
