"""The plain-leaves executor answers exactly as strawberry's own: same data, same errors, same paths.

A small schema holds what the shortcut must take (stored scalars, lists of them, JSON, dates, IDs,
enums, aliases, fragments, ``@include``/``@skip``) and what it must leave to graphql-core
(resolvers, ``__typename``, null in a non-null field, awaitable attributes, a failing coercion).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.scalars import JSON

import api.gql.executor as executor_module
from api.gql.executor import PlainLeavesExecutor


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    count: int | None
    score: float | None
    tags: list[str]
    loose: list[str | None] | None
    day: date | None
    props: JSON
    colour: Colour

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Odd:
    """Values that break the declared types: graphql-core must report them, as usual."""

    must: str
    items: list[str]
    number: int


async def _later(value: str) -> str:
    await asyncio.sleep(0)
    return value


def _items() -> list[Item]:
    return [
        Item(id=strawberry.ID("a:1"), name="alpha", count=3, score=0.5, tags=["x", "y"], loose=["p", None],
             day=date(2024, 5, 1), props={"k": [1, "two", None], "when": "2024-05-01"}, colour=Colour.RED),
        Item(id=strawberry.ID("b:2"), name="beta", count=None, score=None, tags=[], loose=None, day=None,
             props={}, colour=Colour.BLUE),
    ]


def _odds() -> list[Odd]:
    return [
        Odd(must="fine", items=["a"], number=1),
        Odd(must=None, items=["a"], number=2),  # type: ignore[arg-type]
        Odd(must="ok", items=["a", None], number=3),  # type: ignore[list-item]
        Odd(must="ok", items=["a"], number="not a number"),  # type: ignore[arg-type]
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def odds(self) -> list[Odd | None]:
        return [*_odds(), None]

    @strawberry.field
    def maybe_items(self) -> list[Item | None]:
        return [None, *_items(), None]

    @strawberry.field
    def late(self) -> list[Odd]:
        odd = Odd(must="x", items=[], number=0)
        odd.must = _later("awaited")  # type: ignore[assignment]
        return [odd]


PLAIN = strawberry.Schema(query=Query)
FAST = strawberry.Schema(query=Query, execution_context_class=PlainLeavesExecutor)

QUERIES = [
    "{ items { id name count score tags loose day props colour } }",
    "{ items { first: name again: name id } }",
    "query($with: Boolean!) { items { name count @include(if: $with) tags @skip(if: $with) } }",
    "{ items { ...bits } } fragment bits on Item { name props day }",
    "{ items { __typename name } }",
    "{ items { name shout } }",
    "{ odds { must items number } }",
    "{ odds { must } }",
    "{ odds { items } }",
    "{ late { must number } }",
    "{ maybeItems { name tags } }",
]


def _answer(schema: strawberry.Schema, query: str, variables: dict[str, Any]) -> Any:
    result = asyncio.run(_run(schema.execute(query, variable_values=variables)))
    errors = [(e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []])
              for e in result.errors or []]
    return result.data, errors


async def _run(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("flag", [True, False])
def test_both_executors_give_the_same_answer(query: str, flag: bool) -> None:
    variables = {"with": flag} if "$with" in query else {}
    assert _answer(FAST, query, variables) == _answer(PLAIN, query, variables)


def test_errors_come_back_where_graphql_core_puts_them() -> None:
    data, errors = _answer(FAST, "{ odds { must items number } }", {})
    assert data["odds"][0] == {"must": "fine", "items": ["a"], "number": 1}
    assert data["odds"][1:] == [None, None, None, None]
    assert sorted(e[1] for e in errors) == [["odds", 1, "must"], ["odds", 2, "items", 1],
                                             ["odds", 3, "number"]]


def test_the_shortcut_completes_plain_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[dict[str, Any]] = []
    original = executor_module._complete_plain

    def spy(*args: Any) -> dict[str, Any] | None:
        done = original(*args)
        if done is not None:
            taken.append(done)
        return done

    monkeypatch.setattr(executor_module, "_complete_plain", spy)
    _answer(FAST, "{ items { id name tags props colour } }", {})
    assert [d["name"] for d in taken] == ["alpha", "beta"]
    taken.clear()
    _answer(FAST, "{ maybeItems { name } }", {})
    assert [d["name"] for d in taken] == ["alpha", "beta"]
    taken.clear()
    _answer(FAST, "{ items { name shout } }", {})  # a resolver: graphql-core's path
    assert taken == []
