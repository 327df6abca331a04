"""The graph libraries served by /ui are exactly what ui/package-lock.json installs.

api/static/vendor-*.js are committed copies (the server must run without Node.js); ui/vendor.sh
makes them from ui/node_modules. tests/run.sh runs ``npm ci --prefix ui`` first, so in CI a copy
that drifted from the lock file (edited by hand, or a version bump without re-copying) fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UI = REPO / "ui"
STATIC = REPO / "api" / "static"


def _pairs() -> list[tuple[str, str]]:
    lines = (UI / "vendor.txt").read_text(encoding="utf-8").splitlines()
    return [(src, dst) for src, dst in (line.split() for line in lines if line.strip())]


def test_every_vendored_file_is_served_and_listed() -> None:
    listed = {dst for _, dst in _pairs()}
    assert listed == {p.name for p in STATIC.glob("vendor-*")}
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert all(f"/ui/static/{name}" in page for name in listed)


def test_the_lock_file_pins_what_package_json_asks_for() -> None:
    wanted = json.loads((UI / "package.json").read_text(encoding="utf-8"))["dependencies"]
    lock = json.loads((UI / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for name, version in wanted.items():
        assert lock[f"node_modules/{name}"]["version"] == version, name


@pytest.mark.skipif(not (UI / "node_modules").is_dir(), reason="run `npm ci --prefix ui` (tests/run.sh does)")
def test_vendored_copies_equal_the_installed_packages() -> None:
    differ = [dst for src, dst in _pairs()
              if (UI / "node_modules" / src).read_bytes() != (STATIC / dst).read_bytes()]
    assert differ == [], f"stale copies, run bash ui/vendor.sh: {differ}"
