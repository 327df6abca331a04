"""The language of what users read: the caller's choice, and a catalogue with every text in both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.i18n import catalogue, pick_language, t

STATIC = Path(__file__).resolve().parents[3] / "api" / "static"


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        (None, "zh", "zh"),
        ("", "en", "en"),
        ("en-US,en;q=0.9", "zh", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "en", "zh"),
        ("zh-TW", "en", "zh"),
        ("fr-FR, de;q=0.7", "zh", "zh"),  # nothing we speak: the server's default
        ("en;q=0.2, zh;q=0.8", "en", "zh"),  # weight wins over order
        ("zh;q=0, en", "zh", "en"),  # q=0 means "not this one"
        ("*", "en", "en"),
        ("en;q=bogus, zh", "en", "zh"),  # an unreadable weight counts as zero
    ],
)
def test_the_callers_language(header: str | None, default: str, expected: str) -> None:
    assert pick_language(header, default) == expected  # type: ignore[arg-type]


def test_every_text_is_in_both_languages_with_the_same_placeholders() -> None:
    messages = catalogue()
    assert set(messages["zh"]) == set(messages["en"])
    field = re.compile(r"\{(\w+)\}")
    for key, zh in messages["zh"].items():
        assert set(field.findall(zh)) == set(field.findall(messages["en"][key])), key
    assert t("kind.collusion", "zh") == "合谋团伙" and t("kind.collusion", "en") == "collusive ring"
    assert t("rings.memberCount", "zh", n=3) == "3 名成员"
    assert t("no.such.key", "en") == "no.such.key"


def test_every_text_the_page_asks_for_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for name in ("app.js", "cases.js", "timeline.js", "i18n.js"):
        source = (STATIC / name).read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\('([a-zA-Z]+\.[a-zA-Z.]+)'", source))
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n(?:-placeholder|-aria|-title)?="([^"]+)"', html))
    missing = sorted(k for k in used if k not in catalogue()["zh"])
    assert len(used) > 60 and missing == []
