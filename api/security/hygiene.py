"""What a production server refuses to run with, and what it keeps to itself.

- Secrets (``MEDFRAUD_SECRET``, ``MEDFRAUD_AUDIT_KEY``) must be long and varied: 32 characters or
  more with at least 12 different ones, so ``"a" * 32`` or a repeated word is refused. The audit
  key is required in prod and must differ from the token secret: whoever can mint tokens must
  not also be able to rewrite the audit chain.
- Validation errors carry no "Did you mean ...?" suggestions: with introspection off they would
  hand the schema out one field at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from api.settings import DEV_AUDIT_KEY, AuditSettings
from graph.errors import ConfigError
from graph.settings import Settings

MIN_SECRET_CHARS = 32
MIN_DISTINCT_CHARS = 12


def weak_secret(value: str) -> str | None:
    """Why ``value`` is too weak to sign tokens or key the audit chain, or None."""
    if len(value) < MIN_SECRET_CHARS:
        return f"shorter than {MIN_SECRET_CHARS} characters"
    if len(set(value)) < MIN_DISTINCT_CHARS:
        return f"fewer than {MIN_DISTINCT_CHARS} different characters"
    return None


def check_production(settings: Settings, audit: AuditSettings) -> None:
    """Refuse to serve in prod with weak, default or shared secrets (ConfigError naming the variable)."""
    if settings.env != "prod":
        if audit.key == settings.secret:
            raise ConfigError("MEDFRAUD_AUDIT_KEY must differ from MEDFRAUD_SECRET")
        return
    problems = []
    why = weak_secret(settings.secret)
    if why:
        problems.append(f"MEDFRAUD_SECRET is {why}")
    if audit.key == DEV_AUDIT_KEY:
        problems.append("MEDFRAUD_AUDIT_KEY must be set (the HMAC key of the audit chain)")
    else:
        why = weak_secret(audit.key)
        if why:
            problems.append(f"MEDFRAUD_AUDIT_KEY is {why}")
    if audit.key == settings.secret:
        problems.append("MEDFRAUD_AUDIT_KEY must differ from MEDFRAUD_SECRET")
    if problems:
        raise ConfigError("refusing to serve with MEDFRAUD_ENV=prod: " + "; ".join(problems))


_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


class NoSuggestions(SchemaExtension):
    """Drop graphql-core's field and argument suggestions from validation errors (prod)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            if error.path is None and "Did you mean" in error.message:
                error.message = _SUGGESTION.sub("", error.message)
        for error in self.execution_context.pre_execution_errors or ():
            if "Did you mean" in error.message:
                error.message = _SUGGESTION.sub("", error.message)
