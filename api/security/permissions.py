"""Role checks as field permissions: each root field declares the action it performs.

The action table is :data:`api.security.access.ALLOWED`; a field declares ``permission_classes=[may(...)]``
and strawberry checks it before the resolver runs, so resolvers never check roles. A refusal is
:class:`graph.errors.AccessDenied` (``FORBIDDEN``). What a permitted caller then *sees* is the
scope layer's business (:mod:`api.security.scope`). ``tests/unit/api/test_permissions.py`` fails for a root
field without a declared action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from api.security.access import ALLOWED, Action
from graph.errors import AccessDenied


def _make(action: Action) -> type[BasePermission]:
    allowed = ", ".join(sorted(r.value for r in ALLOWED[action]))

    def has_permission(self: BasePermission, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.role in ALLOWED[action]

    def on_unauthorized(self: BasePermission) -> None:
        raise AccessDenied(f"your role may not {action.value.replace('_', ' ')} (allowed: {allowed})")

    name = "May" + "".join(part.title() for part in action.value.split("_"))
    cls = type(name, (BasePermission,), {
        "message": f"may not {action.value}", "has_permission": has_permission,
        "on_unauthorized": on_unauthorized, "action": action,
    })
    return cls


PERMISSIONS: dict[Action, type[BasePermission]] = {a: _make(a) for a in Action}


def may(action: Action) -> list[type[BasePermission]]:
    """The ``permission_classes`` of a field performing ``action``."""
    return [PERMISSIONS[action]]


F = TypeVar("F", bound=Callable[..., Any])


def field(action: Action) -> Callable[[F], F]:
    """``@strawberry.field`` for a root query that performs ``action``."""
    return cast("Callable[[F], F]", strawberry.field(permission_classes=may(action)))


def mutation(action: Action) -> Callable[[F], F]:
    """``@strawberry.mutation`` that performs ``action``."""
    return cast("Callable[[F], F]", strawberry.mutation(permission_classes=may(action)))
