"""Every root field declares the action it performs, so no resolver has to check a role."""

from __future__ import annotations

from api.gql.schema import Mutation, Query
from api.security.access import ALLOWED, Action
from api.security.permissions import PERMISSIONS


def test_every_root_field_declares_exactly_one_action() -> None:
    known = set(PERMISSIONS.values())
    for root in (Query, Mutation):
        for f in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            declared = [p for p in f.permission_classes if p in known]
            assert len(declared) == 1, f"{root.__name__}.{f.name} declares {declared}"


def test_the_declared_actions_follow_the_role_table() -> None:
    def actions(root: type) -> dict[str, Action]:
        fields = root.__strawberry_definition__.fields  # type: ignore[attr-defined]
        return {f.python_name: f.permission_classes[0].action for f in fields}

    queries, mutations = actions(Query), actions(Mutation)
    assert queries["read_query"] is Action.read_query and queries["run_named_query"] is Action.named_query
    assert queries["cases"] is queries["case"] is Action.read_cases
    assert (
        mutations["run_detection"] is Action.run_detection and mutations["share_case"] is Action.write_cases
    )
    assert mutations["add_case_note"] is Action.add_note and mutations["review_ring"] is Action.review_ring
    # no mutation is open to every role
    assert all(ALLOWED[a] != ALLOWED[Action.read_graph] for a in mutations.values())
