"""GraphQL execution with a shortcut for objects whose selected fields are all plain leaves.

Why: a ring's or a subgraph's picture is up to 300 nodes and as many edges, each asked for 5-8
scalar fields. graphql-core executes every one of those ~3,000 fields through its general
machinery (a resolve-info tuple, the resolver, the middleware hook, an awaitable check, nullability
and leaf completion): about 15 ms of a 300-node answer, more than the store reads behind it.

Most of those objects are plain data: every field selected on them is a stored attribute
(strawberry's "basic" field: no resolver, no extension, no permission) of a scalar or enum type,
without arguments. For such an object this executor reads the attributes and coerces them with the
very functions graphql-core would call, in the order graphql-core would, and builds the same dict.
Anything else — a field with a resolver or arguments, ``__typename``, a nested object, an
``is_type_of`` check, middleware, and any value it cannot complete the plain way (null in a
non-null field, an awaitable, an exception, a coercion failure) — goes through graphql-core's own
path for that object, so errors and their locations are exactly graphql-core's. The selection is
collected by graphql-core itself (aliases, fragments, ``@include``/``@skip`` already applied).
The tests compare answers of both executors (tests/unit/api/test_gql_executor.py).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# (response name, attribute name, leaf type, non-null, list: None for a single value, else whether
# the items are non-null)
_Leaf = tuple[str, str, GraphQLLeafType, bool, bool | None]
# Values that are certainly neither awaitables nor exceptions (checked for any other type: those
# take graphql-core's path).
_PLAIN = frozenset({str, int, float, bool, dict, list, datetime.date, datetime.datetime})
# Directives that only choose fields (already applied when the fields were collected).
_CHOOSING = frozenset({"include", "skip"})


def _plain_attribute(field_def: GraphQLField) -> str | None:
    """The attribute a field reads when it is strawberry's basic field read by ``getattr``."""
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if definition.default_resolver is not getattr:
        return None
    return definition.python_name


def _leaf_shape(type_: Any) -> tuple[GraphQLLeafType, bool, bool | None] | None:
    """A leaf or list-of-leaves type as (leaf type, non-null, items non-null or None), else None."""
    non_null = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if non_null else type_
    items: bool | None = None
    if isinstance(inner, GraphQLList):
        items = isinstance(inner.of_type, GraphQLNonNull)
        inner = inner.of_type.of_type if items else inner.of_type
    return (inner, non_null, items) if is_leaf_type(inner) else None


class PlainLeavesExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, completing plain-leaf objects without per-field machinery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # per (object type, id of the field group): the plan, or None when the shortcut does not
        # apply; the field group is kept alive with it so that its id cannot be reused meanwhile
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[Sequence[Any], list[_Leaf] | None]] = {}

    def _plan(self, return_type: GraphQLObjectType, field_details_list: Sequence[Any]) -> list[_Leaf] | None:
        key = (return_type, id(field_details_list))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        plan = self._make_plan(return_type, field_details_list)
        self._plans[key] = (field_details_list, plan)
        return plan

    def _make_plan(self, return_type: GraphQLObjectType,
                   field_details_list: Sequence[Any]) -> list[_Leaf] | None:
        if return_type.is_type_of is not None:
            return None
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None
        grouped, new_defer_usages, _forbidden = self.collect_subfields(
            return_type, field_details_list)  # type: ignore[arg-type]
        if new_defer_usages:
            return None
        plan: list[_Leaf] = []
        for response_name, details in grouped.items():
            node = details[0].node
            field_def = self.schema.get_field(return_type, node.name.value)
            if field_def is None or field_def.args or node.arguments:
                return None
            if any(d.name.value not in _CHOOSING for d in node.directives or ()):
                return None  # @stream and the like: graphql-core's own path
            attribute = _plain_attribute(field_def)
            leaf = _leaf_shape(field_def.type)
            if attribute is None or leaf is None:
                return None
            plan.append((response_name, attribute, *leaf))
        return plan

    def complete_list_value(self, return_type: GraphQLList[Any], field_details_list: Any,
                            info: GraphQLResolveInfo[Any], path: Path, result: Any,
                            position_context: Any) -> Any:
        """A list of plain objects in one loop (a picture's nodes and edges), else graphql-core's way."""
        done = self._plain_list(return_type.of_type, field_details_list, result)
        if done is not None:
            return done
        return super().complete_list_value(return_type, field_details_list, info, path, result,
                                           position_context)

    def _plain_list(self, item_type: Any, field_details_list: Any, result: Any) -> list[Any] | None:
        non_null = isinstance(item_type, GraphQLNonNull)
        object_type = item_type.of_type if non_null else item_type
        if type(result) is not list or not isinstance(object_type, GraphQLObjectType):
            return None
        if any(d.name.value not in _CHOOSING for details in field_details_list
               for d in details.node.directives or ()):
            return None  # @stream: graphql-core's own path
        plan = self._plan(object_type, field_details_list)
        if plan is None:
            return None
        out: list[Any] = []
        for item in result:
            if item is None and not non_null:
                out.append(None)
                continue
            # reads only: giving up midway and starting over the usual way changes nothing
            done = None if item is None else _complete_plain(plan, item, self.is_awaitable)
            if done is None:
                return None
            out.append(done)
        return out

    def complete_object_value(self, return_type: GraphQLObjectType, field_details_list: Any,
                              info: GraphQLResolveInfo[Any], path: Path, result: Any,
                              position_context: Any) -> Any:
        plan = self._plan(return_type, field_details_list)
        if plan is not None:
            done = _complete_plain(plan, result, self.is_awaitable)
            if done is not None:
                return done
        return super().complete_object_value(return_type, field_details_list, info, path, result,
                                             position_context)


def _complete_plain(plan: list[_Leaf], source: Any,
                    is_awaitable: Callable[[Any], bool]) -> dict[str, Any] | None:
    """The object's completed fields, or None where graphql-core's own path must decide."""
    out: dict[str, Any] = {}
    for response_name, attribute, leaf, non_null, items in plan:
        try:
            value = getattr(source, attribute)
        except Exception:
            return None
        if value is None or value is Undefined:
            if non_null:
                return None
            out[response_name] = None
            continue
        if items is None:
            coerced = _coerced(leaf, value, is_awaitable)
            if coerced is None:
                return None
            out[response_name] = coerced
            continue
        if type(value) is not list:
            return None
        completed: list[Any] = []
        for item in value:
            if item is None or item is Undefined:
                if items:
                    return None
                completed.append(None)
                continue
            coerced = _coerced(leaf, item, is_awaitable)
            if coerced is None:
                return None
            completed.append(coerced)
        out[response_name] = completed
    return out


def _coerced(leaf: GraphQLLeafType, value: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """A present value as graphql-core completes it, or None where its own path must decide."""
    if type(value) not in _PLAIN and (isinstance(value, Exception) or is_awaitable(value)):
        return None
    try:
        coerced = leaf.coerce_output_value(value)
    except Exception:
        return None
    return None if coerced is Undefined else coerced
