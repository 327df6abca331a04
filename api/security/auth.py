"""Bearer tokens: HS256 JWTs carrying who (``sub``), ``role``, the agency (``agency_kind`` + ``agency``).

The secret is ``MEDFRAUD_SECRET`` (graph.settings); in prod :func:`api.security.hygiene.check_secret` also
refuses weak ones. Every failure — missing header, bad signature, expired, a lifetime longer than
``MEDFRAUD_API_TOKEN_MAX_TTL_S``, an empty subject or agency, an unknown role or agency kind, a
kind the role cannot have — is an :class:`~graph.errors.AuthenticationError` (HTTP 401). The
server accepts exactly the tokens ``medfraud token`` would issue, never more.

Agencies are ``kind:id`` (``bureau:BUREAU-1``, ``police:PSB-EAST``): the kind comes from the
token, so a police token whose id happens to equal a bureau's can never match that bureau's
cases (ids are free text, kinds are not).
"""

from __future__ import annotations

import time
from enum import StrEnum

import jwt
from pydantic import BaseModel, ConfigDict

from graph.errors import AuthenticationError, InvalidRequest

ALGORITHM = "HS256"
# Clocks of the issuing host and the server may differ by this much.
CLOCK_SKEW_S = 60


class Role(StrEnum):
    investigator = "investigator"
    police = "police"
    analyst = "analyst"
    admin = "admin"


class AgencyKind(StrEnum):
    bureau = "bureau"  # 医保局: the fund's own supervisors
    police = "police"  # 公安机关
    discipline = "discipline"  # 纪检监察机关: receives shared cases like police


# Which kinds of agency each role can belong to.
ROLE_KINDS: dict[Role, frozenset[AgencyKind]] = {
    Role.investigator: frozenset({AgencyKind.bureau}),
    Role.analyst: frozenset({AgencyKind.bureau}),
    Role.admin: frozenset({AgencyKind.bureau}),
    Role.police: frozenset({AgencyKind.police, AgencyKind.discipline}),
}
DEFAULT_KIND: dict[Role, AgencyKind] = {
    Role.investigator: AgencyKind.bureau, Role.analyst: AgencyKind.bureau, Role.admin: AgencyKind.bureau,
    Role.police: AgencyKind.police,
}


def agency_ref(kind: AgencyKind | str, agency: str) -> str:
    """The one spelling of an agency wherever cases store it: ``kind:id``."""
    return f"{AgencyKind(kind).value}:{agency}"


class Principal(BaseModel):
    """The authenticated caller of one request."""

    model_config = ConfigDict(frozen=True)

    sub: str
    role: Role
    agency: str
    agency_kind: AgencyKind = AgencyKind.bureau

    @property
    def masked(self) -> bool:
        """Analysts work on masked identities; every other role sees them in full (police only in scope)."""
        return self.role is Role.analyst

    @property
    def agency_ref(self) -> str:
        return agency_ref(self.agency_kind, self.agency)


def _check_claims(role: str, kind: str | None, sub: str, agency: str) -> tuple[Role, AgencyKind]:
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidRequest(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}") from None
    try:
        kind_ = DEFAULT_KIND[role_] if kind is None else AgencyKind(kind)
    except ValueError:
        raise InvalidRequest(
            f"unknown agency kind {kind!r}; one of: {', '.join(k.value for k in AgencyKind)}") from None
    if kind_ not in ROLE_KINDS[role_]:
        allowed = ", ".join(sorted(k.value for k in ROLE_KINDS[role_]))
        raise InvalidRequest(f"a {role_.value} belongs to an agency of kind {allowed}, not {kind_.value}")
    if not sub.strip():
        raise InvalidRequest("the token subject (--sub) must not be empty")
    if not agency.strip():
        raise InvalidRequest("the agency (--agency) must not be empty")
    return role_, kind_


def issue_token(secret: str, *, sub: str, role: str, agency: str, ttl_s: int,
                agency_kind: str | None = None, now: float | None = None) -> str:
    """A signed token for ``sub`` with ``role`` at ``agency`` (of ``agency_kind``, by default the role's)."""
    role_, kind_ = _check_claims(role, agency_kind, sub, agency)
    if ttl_s <= 0:
        raise InvalidRequest("a token's lifetime must be positive")
    issued = int(now if now is not None else time.time())
    claims = {"sub": sub, "role": role_.value, "agency": agency, "agency_kind": kind_.value,
              "iat": issued, "exp": issued + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str, *, max_ttl_s: int | None = None,
                 now: float | None = None) -> Principal:
    """The caller a token names, or AuthenticationError; ``max_ttl_s`` bounds ``exp - iat``."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM],
            options={"require": ["sub", "role", "agency", "agency_kind", "exp", "iat"]},
            leeway=CLOCK_SKEW_S,
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("token expired") from None
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"invalid token: {exc}") from None
    values = {k: claims[k] for k in ("sub", "role", "agency", "agency_kind")}
    if not all(isinstance(v, str) for v in values.values()):
        raise AuthenticationError("invalid token: sub, role, agency and agency_kind must be strings")
    try:
        role, kind = _check_claims(values["role"], values["agency_kind"], values["sub"], values["agency"])
    except InvalidRequest as exc:
        raise AuthenticationError(f"invalid token: {exc}") from None
    issued, expires = claims["iat"], claims["exp"]
    if not isinstance(issued, int | float) or not isinstance(expires, int | float):
        raise AuthenticationError("invalid token: iat and exp must be numbers")
    current = time.time() if now is None else now
    if issued > current + CLOCK_SKEW_S:
        raise AuthenticationError("invalid token: issued in the future")
    if max_ttl_s is not None and expires - issued > max_ttl_s:
        raise AuthenticationError(
            f"invalid token: valid for {int(expires - issued)} s, longer than the {max_ttl_s} s this "
            "server accepts (MEDFRAUD_API_TOKEN_MAX_TTL_S)")
    return Principal(sub=values["sub"], role=role, agency=values["agency"], agency_kind=kind)


def principal_from_header(secret: str, authorization: str | None, *,
                          max_ttl_s: int | None = None) -> Principal:
    if not authorization:
        raise AuthenticationError("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("malformed Authorization header (expected 'Bearer <token>')")
    return decode_token(secret, token.strip(), max_ttl_s=max_ttl_s)
