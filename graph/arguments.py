"""The port's one error contract for bad arguments, checked the same way by every adapter.

- a label, relationship type or property the model does not know -> :class:`SchemaError`;
- an argument outside its range (a negative cap or limit, an unknown direction, a batch size
  below one, a page size outside 0..``MAX_PAGE``, a cursor this store did not hand out, a
  filter on the wrong type of property) -> :class:`InvalidRequest`;
- rows whose data is wrong (a missing key, a value that is not its property's type) ->
  :class:`InputError` (checked where the rows are converted, after their column names).

Adapters call these checks before touching their store, so a caller (the API maps both errors to
``SCHEMA_ERROR`` / ``BAD_REQUEST``) never sees a ``ValueError`` or a driver error for its own
mistake. ``tests/integration/test_store_contract.py`` holds both adapters to it.
"""

from __future__ import annotations

from graph.errors import InvalidRequest

DIRECTIONS = ("out", "in", "both")
MAX_PAGE = 10_000  # the API's largest MEDFRAUD_API_MAX_PAGE


def check_cap(cap: int) -> None:
    if cap < 0:
        raise InvalidRequest(f"cap must be zero or more, not {cap}")


def check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise InvalidRequest(f"direction must be out, in or both, not {direction!r}")


def check_batch_size(batch_size: int | None) -> None:
    if batch_size is not None and batch_size < 1:
        raise InvalidRequest(f"batch_size must be at least 1, not {batch_size}")


def check_limit(limit: int) -> None:
    if limit < 0:
        raise InvalidRequest(f"limit must be zero or more, not {limit}")


def check_page_size(first: int) -> None:
    if not 0 <= first <= MAX_PAGE:
        raise InvalidRequest(f"a page holds 0 to {MAX_PAGE} items, not {first}")
