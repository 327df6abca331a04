"""PII scrubbing of free text shown to masked roles (ring evidence, review reasons, finding evidence).

Free text is written by people and by detection, and either may quote an ID number, a phone, a
bank account or a name. For a masked role every such text passes :func:`scrub`:

- ID numbers (18 characters, the last possibly ``X``; also 15-digit old ones) -> first 6 +
  ``********`` + last 4;
- mobile phones (11 digits starting with 1, spaces or dashes allowed) -> 3 + ``****`` + 4;
- any other run of 12 or more digits (bank accounts, card numbers) -> ``****`` + last 4;
- the names of the persons involved (the caller passes them: a ring's members, a finding's
  patient) -> surname + ``*``.

A name the caller does not know of (someone mentioned but not involved) is not caught: names are
not recognisable by shape. That limit is stated in docs/api.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from api.security.masking import mask_account, mask_id, mask_name, mask_phone

_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1\d{2})[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_DIGITS = re.compile(r"(?<!\d)\d{12,}(?!\d)")


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with identifiers masked and the given names reduced to surname + ``*``."""
    out = _ID.sub(lambda m: mask_id(m.group(0)), text)
    out = _DIGITS.sub(lambda m: mask_account(m.group(0)), out)
    out = _PHONE.sub(lambda m: mask_phone("".join(m.groups())), out)
    # longest first: a full name is replaced before a shorter name inside it
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        if len(name) >= 2:
            out = out.replace(name, mask_name(name))
    return out
