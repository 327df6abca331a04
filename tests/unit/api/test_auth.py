"""Bearer tokens: what is accepted and what is refused."""

from __future__ import annotations

import time

import pytest

from api.security.access import Action, require
from api.security.auth import AgencyKind, Principal, Role, decode_token, issue_token, principal_from_header
from graph.errors import AccessDenied, AuthenticationError, InvalidRequest

SECRET = "unit-test-secret-0123456789abcdef0123"


def test_token_round_trip() -> None:
    token = issue_token(SECRET, sub="li.wei", role="police", agency="PSB-1", ttl_s=60)
    p = principal_from_header(SECRET, f"Bearer {token}")
    assert p == Principal(sub="li.wei", role=Role.police, agency="PSB-1", agency_kind=AgencyKind.police)
    assert p.agency_ref == "police:PSB-1"
    assert not p.masked and Principal(sub="a", role=Role.analyst, agency="x").masked


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer garbage"])
def test_bad_headers_are_unauthenticated(header: str | None) -> None:
    with pytest.raises(AuthenticationError):
        principal_from_header(SECRET, header)


def test_expired_forged_and_unknown_role_tokens_are_refused() -> None:
    with pytest.raises(AuthenticationError, match="expired"):
        decode_token(SECRET, issue_token(SECRET, sub="a", role="admin", agency="x", ttl_s=60, now=1_000))
    with pytest.raises(AuthenticationError):
        decode_token(SECRET, issue_token("x" * 40, sub="a", role="admin", agency="x", ttl_s=60))
    import jwt

    odd = jwt.encode({"sub": "a", "role": "superuser", "agency": "x", "agency_kind": "bureau", "iat": 1,
                      "exp": 4_000_000_000}, SECRET, "HS256")
    with pytest.raises(AuthenticationError, match="unknown role"):
        decode_token(SECRET, odd)
    with pytest.raises(InvalidRequest):
        issue_token(SECRET, sub="a", role="superuser", agency="x", ttl_s=60)


NOW = int(time.time())


def _raw(**claims: object) -> str:
    import jwt

    base: dict[str, object] = {"sub": "a", "role": "police", "agency": "PSB-1", "agency_kind": "police",
                               "iat": NOW, "exp": NOW + 3_600}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, SECRET, "HS256")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": NOW + 100 * 365 * 86_400}, "longer than"),
        ({"sub": " "}, "subject"),
        ({"agency": ""}, "agency"),
        ({"agency_kind": "bureau"}, "police belongs to an agency of kind"),
        ({"agency_kind": "ministry"}, "unknown agency kind"),
        ({"agency_kind": None}, "agency_kind"),
        ({"iat": None}, "iat"),
        ({"iat": NOW + 3_000}, "not yet valid|future"),
    ],
)
def test_tokens_the_cli_would_not_issue_are_refused(claims: dict[str, object], reason: str) -> None:
    with pytest.raises(AuthenticationError, match=reason):
        decode_token(SECRET, _raw(**claims), max_ttl_s=24 * 3600)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (
            Role.investigator,
            {
                Action.read_graph,
                Action.read_cases,
                Action.write_cases,
                Action.add_note,
                Action.review_ring,
                Action.read_query,
                Action.named_query,
            },
        ),
        (Role.police, {Action.read_graph, Action.read_cases, Action.add_note}),
        (Role.analyst, {Action.read_graph, Action.read_query, Action.named_query}),
        (Role.admin, set(Action)),
    ],
)
def test_role_matrix(role: Role, allowed: set[Action]) -> None:
    who = Principal(sub="u", role=role, agency="a")
    for action in Action:
        if action in allowed:
            require(who, action)
        else:
            with pytest.raises(AccessDenied):
                require(who, action)
