"""The Neo4j 5 adapter, through the official driver (GDS is used by ``algorithms.gds_engine``).

``store`` is the adapter (``Neo4jStore``); ``statements`` holds its Cypher; ``writes`` streams
batched ``UNWIND ... MERGE`` writes; ``values`` converts between Neo4j and Arrow/Python values;
``guard`` decides whether analyst Cypher is read-only from its plan.
"""
