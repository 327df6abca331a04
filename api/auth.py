"""Bearer tokens: HS256 JWTs carrying who (``sub``), ``role``, ``agency`` and an expiry.

The secret is ``MEDFRAUD_SECRET`` (graph.settings), which refuses the dev default in prod. Every
failure — missing header, bad signature, expired, unknown role — is an
:class:`~graph.errors.AuthenticationError` (HTTP 401); a token never grants more than its role.
"""

from __future__ import annotations

import time
from enum import StrEnum

import jwt
from pydantic import BaseModel, ConfigDict

from graph.errors import AuthenticationError, InvalidRequest

ALGORITHM = "HS256"


class Role(StrEnum):
    investigator = "investigator"
    police = "police"
    analyst = "analyst"
    admin = "admin"


class Principal(BaseModel):
    """The authenticated caller of one request."""

    model_config = ConfigDict(frozen=True)

    sub: str
    role: Role
    agency: str

    @property
    def masked(self) -> bool:
        """Analysts work on masked identities; every other role sees them in full (police only in scope)."""
        return self.role is Role.analyst


def issue_token(secret: str, *, sub: str, role: str, agency: str, ttl_s: int,
                now: float | None = None) -> str:
    """A signed token for ``sub`` with ``role`` at ``agency``, valid for ``ttl_s`` seconds."""
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidRequest(
            f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}"
        ) from None
    if not sub.strip():
        raise InvalidRequest("the token subject (--sub) must not be empty")
    if not agency.strip():
        raise InvalidRequest("the agency (--agency) must not be empty")
    issued = int(now if now is not None else time.time())
    claims = {"sub": sub, "role": role_.value, "agency": agency, "iat": issued, "exp": issued + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM],
            options={"require": ["sub", "role", "agency", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("token expired") from None
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"invalid token: {exc}") from None
    try:
        return Principal(sub=str(claims["sub"]), role=Role(claims["role"]), agency=str(claims["agency"]))
    except ValueError:
        raise AuthenticationError(f"invalid token: unknown role {claims['role']!r}") from None


def principal_from_header(secret: str, authorization: str | None) -> Principal:
    if not authorization:
        raise AuthenticationError("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("malformed Authorization header (expected 'Bearer <token>')")
    return decode_token(secret, token.strip())
