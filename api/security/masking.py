"""Masking of personal identities (脱敏) for roles that may not see them.

Rules (issue 5): ID numbers as first 6 + ``********`` + last 4, names as surname + ``*``, phones as
3 + ``****`` + 4, bank accounts as their last 4. Addresses keep their first 6 characters (district
level) and birth dates their year, because either would otherwise give back what the ID mask hides.

Masked nodes still need a key a client can send back (to expand a node, open a lookup), so the
key of a masked node is replaced by an opaque, deterministic token: ``~`` + AES-SIV of the real
key under a key derived from ``MEDFRAUD_SECRET``. Only the server can turn it back.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from graph.errors import InvalidRequest
from graph.model import Node

TOKEN_PREFIX = "~"


def mask_id(value: str) -> str:
    if len(value) <= 10:
        return "*" * len(value)
    return f"{value[:6]}********{value[-4:]}"


def mask_name(value: str) -> str:
    return f"{value[:1]}*" if value else value


def mask_phone(value: str) -> str:
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_account(value: str) -> str:
    return f"****{value[-4:]}" if len(value) > 4 else "****"


def mask_address(value: str) -> str:
    return f"{value[:6]}****" if len(value) > 6 else "****"


def mask_date_to_year(value: str) -> str:
    return f"{value[:4]}-**-**" if len(value) >= 4 else value


_Masker = Callable[[str], str]

# Which properties of which label carry personal data, and how each is masked.
PROP_MASKS: dict[str, dict[str, _Masker]] = {
    "Patient": {
        "person_id": mask_id, "name": mask_name, "phone": mask_phone, "bank_account": mask_account,
        "address": mask_address, "birth_date": mask_date_to_year,
    },
    "Doctor": {"name": mask_name, "person_id": mask_id},
    "Claim": {"person_id": mask_id},
    "InjuryCase": {"person_id": mask_id},
    "Finding": {"person_id": mask_id},
    "Phone": {"phone": mask_phone},
    "BankAccount": {"account": mask_account},
    "Address": {"address": mask_address},
}
# Labels whose key is personal: a masked role sees an opaque token instead.
MASKED_KEY_LABELS = frozenset({"Patient", "Phone", "BankAccount", "Address"})
# Unknown input columns may hold anything, and free text may quote anyone: a masked role gets
# neither as raw props (rings' and findings' evidence and review reason come scrubbed through
# their own fields, see api.security.scrub).
DROPPED_WHEN_MASKED = frozenset({"extra", "evidence", "review_reason", "title", "text"})


class KeyCipher:
    """Deterministic, authenticated encryption of node keys into opaque tokens."""

    def __init__(self, secret: str) -> None:
        self._siv = AESSIV(hashlib.sha512(f"medfraud-key-token:{secret}".encode()).digest())

    def seal(self, label: str, key: str) -> str:
        raw = self._siv.encrypt(key.encode(), [label.encode()])
        return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def open(self, label: str, token: str) -> str:
        body = token[len(TOKEN_PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._siv.decrypt(raw, [label.encode()]).decode()
        except (InvalidTag, ValueError):
            raise InvalidRequest(f"invalid masked key {token!r} for {label}") from None


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def mask_props(label: str, props: Mapping[str, object]) -> dict[str, object]:
    rules = PROP_MASKS.get(label, {})
    out: dict[str, object] = {}
    for name, value in props.items():
        if name in DROPPED_WHEN_MASKED:
            continue
        rule = rules.get(name)
        text = _as_text(value) if rule else None
        out[name] = rule(text) if rule and text is not None else value
    return out


def display_title(node: Node) -> str:
    """A short human name for a node, before masking."""
    p = node.props
    label = node.label
    if label in ("Patient", "Doctor", "Institution", "Pharmacy") and p.get("name"):
        return str(p["name"])
    if label == "Claim":
        return f"{p.get('scheme', '')} {p.get('claim_id', node.key)}".strip()
    if label == "InjuryCase":
        cause = p.get("cause")
        return f"injury {node.key}" + (f" ({cause})" if cause else "")
    if label == "Ring":
        return f"{p.get('kind', 'ring')} ring {node.key}"
    if label == "Case" and p.get("title"):
        return str(p["title"])
    if label == "Finding" and p.get("kind"):
        return f"{p['kind']} {node.key}"
    return node.key


def masked_title(node: Node) -> str:
    title = display_title(node)
    label = node.label
    if label in ("Patient", "Doctor"):
        return mask_name(title) if node.props.get("name") else mask_id(title)
    if label in PROP_MASKS and label in MASKED_KEY_LABELS:
        key_prop = next(iter(PROP_MASKS[label]))
        return PROP_MASKS[label][key_prop](title)
    return title


def mask_key(cipher: KeyCipher, label: str, key: str) -> str:
    return cipher.seal(label, key) if label in MASKED_KEY_LABELS else key


def unmask_key(cipher: KeyCipher, label: str, key: str) -> str:
    """The real key behind what a client sent: tokens are opened, plain keys pass through."""
    return cipher.open(label, key) if key.startswith(TOKEN_PREFIX) else key


def unmask_params(cipher: KeyCipher, params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters with masked keys (``~...``) opened, so analysts can pass back what they saw."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
            for label in sorted(MASKED_KEY_LABELS):
                try:
                    value = cipher.open(label, value)
                    break
                except InvalidRequest:
                    continue
            else:
                raise InvalidRequest(f"parameter {name}: {value!r} is not a key this server issued")
        out[name] = value
    return out


def json_safe(value: Any) -> Any:
    """Store values as JSON values: dates as ISO text, numpy scalars and arrays as Python, NaN as null.

    Walked by hand rather than through ``json.dumps``/``loads``: every drawn node goes through it.
    Whatever a query can return becomes encodable: integers past 2^53, decimals, blobs (hex) and
    intervals (ISO 8601) as text.
    """
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        # HUGEINT and UBIGINT overflow a JSON encoder; past 2^53 JavaScript loses digits anyway
        return value if -_SAFE_INT <= value <= _SAFE_INT else str(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        # text and null (most of a node's properties) are already JSON: no call per property
        return {str(k): v if v is None or type(v) is str else json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date | time):
        text = value.isoformat()
        return None if text == "NaT" else text  # pandas' missing timestamp is a datetime too
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return json_safe(value.tolist())
    if isinstance(value, Decimal):
        return str(value)  # exact: a float would round a DECIMAL(38, x)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, timedelta):
        return _iso_duration(value)
    return str(value)


_SAFE_INT = 2**53 - 1


def _iso_duration(value: timedelta) -> str:
    """An interval as ISO 8601 (``P1DT2H3M4.5S``), sign first when negative."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    seconds = value.seconds + value.microseconds / 1_000_000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}P{value.days}DT{int(hours)}H{int(minutes)}M{secs:g}S"
