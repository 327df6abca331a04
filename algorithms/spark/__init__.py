"""The detection job on Apache Spark (``medfraud spark-detect``): the same SQL, another engine.

- :mod:`.session`: the Spark session (``local[2]`` by default, few shuffle partitions, UI off);
- :mod:`.sql`: the :class:`algorithms.sql_engine.SqlConnection` of Spark — the detectors' DuckDB
  SQL transpiled by sqlglot, parameters bound as literals, temp tables as cached views;
- :mod:`.components`: connected components and per-component Leiden/CPM (a grouped pandas UDF
  over igraph), the :class:`algorithms.engine.CommunityEngine` of this job;
- :mod:`.job`: read and validate the contract tables, run every detector, write the findings;
- :mod:`.load`: ``medfraud load-findings`` — findings of a job into the configured store.

Needs the ``spark`` extra (``pip install -e '.[spark]'``) and Java 17.
"""
