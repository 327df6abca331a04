"""A recording stand-in for the Neo4j driver, for unit tests and the Cypher lint test.

It offers the surface :class:`graph.neo4j.store.Neo4jStore` uses — ``execute_query`` and
``session().execute_write`` / ``execute_read`` with ``tx.run`` — records every statement with its
parameters, routing, database and timeout, and answers from a ``responder`` (statement,
parameters) -> :class:`Reply`. Like the real driver's trap, any keyword argument to
``execute_query`` other than its underscore-suffixed settings would have become a Cypher parameter;
the fake refuses it loudly instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import neo4j
from neo4j import EagerResult, Query, Record, RoutingControl

from graph.neo4j import revisions


@dataclass
class Reply:
    records: list[dict[str, Any]] = field(default_factory=list)
    query_type: str = "r"
    error: Exception | None = None


@dataclass
class Call:
    statement: str
    parameters: dict[str, Any]
    routing: str  # "r" or "w"
    database: str | None
    timeout: float | None
    via: str  # "execute_query" or "tx"
    transaction: int | None = None  # index of the managed transaction, for tx.run calls


Responder = Callable[[str, dict[str, Any]], Reply]


def default_reply(statement: str, params: dict[str, Any]) -> Reply:
    """Plausible answers that let every store operation run to its end on an empty graph."""
    if statement.startswith("EXPLAIN"):
        return Reply(query_type="r")
    if "AS written" in statement:  # row form ($rows) or column-wise ($keys / $src lists)
        rows = params.get("rows", params.get("keys", params.get("src", [])))
        return Reply([{"written": len(rows)}])
    if "AS deleted" in statement:
        return Reply([{"deleted": 0}])
    if statement.endswith("RETURN count(n) AS total"):  # a listing's count
        return Reply([{"total": 1}])
    if statement == "RETURN 1 AS ok":
        return Reply([{"ok": 1}])
    return Reply([])


class FakeResult:
    def __init__(self, records: list[dict[str, Any]], query_type: str) -> None:
        self._records = [Record(r) for r in records]  # type: ignore[no-untyped-call]
        self._keys = list(records[0]) if records else []
        self._query_type = query_type
        self.consumed_rows = 0

    def keys(self) -> list[str]:
        return self._keys

    def __iter__(self) -> Iterator[Record]:
        for record in self._records:
            self.consumed_rows += 1
            yield record

    def single(self) -> Record | None:
        return self._records[0] if self._records else None

    def data(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._records]

    def values(self) -> list[list[Any]]:
        self.consumed_rows += len(self._records)
        return [list(r.values()) for r in self._records]

    def consume(self) -> SimpleNamespace:
        return SimpleNamespace(query_type=self._query_type)


class FakeTransaction:
    def __init__(self, driver: RecordingDriver, database: str | None, routing: str, index: int) -> None:
        self._driver = driver
        self._database = database
        self._routing = routing
        self._index = index

    def run(self, query: str | Query, parameters: dict[str, Any] | None = None, **kwargs: Any) -> FakeResult:
        if kwargs:
            raise AssertionError(f"tx.run got keyword parameters {sorted(kwargs)}; pass a dict")
        text = query.text if isinstance(query, Query) else query
        if str(text) == revisions.BUMP:
            # the revision tokens a write leaves behind: kept apart from the data statements
            self._driver.bumps.append(list((parameters or {})["names"]))
            return FakeResult([], "w")
        reply = self._driver.answer(query, parameters or {}, self._routing, self._database, "tx", self._index)
        return FakeResult(reply.records, reply.query_type)


class FakeSession:
    def __init__(self, driver: RecordingDriver, database: str | None) -> None:
        self._driver = driver
        self._database = database

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _managed(self, routing: str, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        index = len(self._driver.transactions)
        self._driver.transactions.append(routing)
        bumps = len(self._driver.bumps)
        calls = len(self._driver.calls)
        result = work(FakeTransaction(self._driver, self._database, routing, index), *args, **kwargs)
        if len(self._driver.bumps) > bumps and len(self._driver.calls) == calls:
            self._driver.transactions.pop()  # a transaction of revision tokens only: see ``bumps``
        return result

    def execute_write(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._managed("w", work, *args, **kwargs)

    def execute_read(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._managed("r", work, *args, **kwargs)


class RecordingDriver:
    """Records what a ``neo4j.Driver`` would have been asked to run."""

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or default_reply
        self.calls: list[Call] = []
        self.transactions: list[str] = []
        # the names given new revision tokens, one list per bump (graph/neo4j/revisions.py)
        self.bumps: list[list[str]] = []
        self.closed = False

    def answer(self, query: str | Query, params: dict[str, Any], routing: str, database: str | None,
               via: str, transaction: int | None = None) -> Reply:
        text = query.text if isinstance(query, Query) else query
        timeout = query.timeout if isinstance(query, Query) else None
        self.calls.append(Call(str(text), dict(params), routing, database, timeout, via, transaction))
        reply = self.responder(str(text), dict(params))
        if reply.error is not None:
            raise reply.error
        return reply

    def execute_query(
        self,
        query_: str | Query,
        parameters_: dict[str, Any] | None = None,
        routing_: RoutingControl = RoutingControl.WRITE,
        database_: str | None = None,
        result_transformer_: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if kwargs:
            raise AssertionError(
                f"execute_query got {sorted(kwargs)}: the real driver would send these as Cypher parameters"
            )
        routing = "r" if routing_ == RoutingControl.READ else "w"
        reply = self.answer(query_, parameters_ or {}, routing, database_, "execute_query")
        result = FakeResult(reply.records, reply.query_type)
        if result_transformer_ is not None:
            return result_transformer_(result)
        # A plan as the server returns for EXPLAIN of a plain read (see graph.neo4j.guard).
        plan = {"operatorType": f"ProduceResults@{database_ or 'neo4j'}", "args": {}, "children": []}
        summary = SimpleNamespace(query_type=reply.query_type, plan=plan)
        return EagerResult(list(result), summary, result.keys())  # type: ignore[arg-type]

    def session(self, database: str | None = None, **config: Any) -> FakeSession:
        return FakeSession(self, database)

    def close(self) -> None:
        self.closed = True

    # -- helpers for assertions ----------------------------------------------------------------
    def statements(self) -> list[str]:
        return [c.statement for c in self.calls]


def neo4j_error(code: str, message: str = "boom") -> neo4j.exceptions.Neo4jError:
    """A server error with the given Neo4j status code, as the driver would raise it."""
    return neo4j.exceptions.Neo4jError._hydrate_neo4j(code=code, message=message)
