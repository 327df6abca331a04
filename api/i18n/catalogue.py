"""The message catalogue: ``messages.json`` holds ``{"zh": {key: text}, "en": {key: text}}``.

One file for the page (served as ``/ui/messages.json``) and the server's own documents, so a term
such as a ring kind or a case status reads the same everywhere. Texts are ``str.format``
templates over named values.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from algorithms.evidence import LANGS, Lang

CATALOGUE_FILE = Path(__file__).resolve().parent / "messages.json"


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        messages = data.get(lang)
        if not isinstance(messages, dict):
            raise ValueError(f"{CATALOGUE_FILE}: no messages for {lang!r}")
        out[lang] = {str(k): str(v) for k, v in messages.items()}
    return out


def t(key: str, lang: Lang, /, **values: Any) -> str:
    """The message ``key`` in ``lang``; a key missing from the catalogue shows as itself."""
    text = catalogue()[lang].get(key)
    if text is None:
        return key
    return text.format(**values) if values else text
