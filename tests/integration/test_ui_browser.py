"""The /ui page in Debian's headless chromium, against the real app over real HTTP: the picture.

It opens ``/ui#token=...&ring=...``, waits until the page says it has drawn the ring, then reads
the page (the cytoscape.js instance is ``window.medfraudView.cy``), checks that every request
stayed on the server (the page must work offline) and saves a screenshot. The case flows, the
police view and the language switch are in test_ui_cases_browser.py. Harness: chromium.py.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.chromium import (
    CHROMIUM,
    PAGE_SETTLED,
    STATIC_DIR,
    Browser,
    LiveApp,
    assert_offline_and_clean,
    drawn_ids,
    make_ui_city_store,
    needs_chromium,
    screenshot_dir,
    start_live_app,
    tap,
)

# a scheme://host, a protocol-relative //host in src/href/url(), or an @import of anything; XML
# namespace names (www.w3.org) are identifiers that no browser fetches
_EXTERNAL = re.compile(
    r"""[a-z][a-z0-9+.-]*://(?!www\.w3\.org/)[^\s'"`)]+|(?:src|href)\s*=\s*["']//|url\(\s*["']?//|@import""",
    re.I,
)


def test_ui_assets_reference_no_external_host() -> None:
    # the vendored libraries are checked against the npm lock file instead (test_ui_vendor.py);
    # whatever they mention, the CSP keeps the browser from fetching it
    files = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file() and not p.name.startswith("vendor-"))
    assert {p.name for p in files} >= {"index.html", "app.js", "graph.js", "style.css", "cases.js",
                                       "i18n.js", "timeline.js"}
    offenders = [
        f"{p.relative_to(STATIC_DIR)}: {m.group(0)}"
        for p in files
        for m in _EXTERNAL.finditer(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_ui_router_serves_the_page_and_only_its_assets() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.http.ui import router

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    page = client.get("/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assets = re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', page.text)
    assert "/ui/static/vendor-cytoscape.min.js" in assets and "/ui/static/vendor-cytoscape-fcose.js" in assets
    for asset in assets:
        resp = client.get(asset)
        assert resp.status_code == 200, asset
        assert resp.headers["content-security-policy"]
    assert client.get("/ui/static/app.js").headers["content-type"].startswith("text/javascript")
    for bad in ("/ui/static/..%2Fui.py", "/ui/static/.hidden.js", "/ui/static/nope.js", "/ui/static/ui.py"):
        assert client.get(bad).status_code == 404, bad
    messages = client.get("/ui/messages.json").json()
    assert messages["default"] == "zh" and set(messages["languages"]) == {"zh", "en"}
    assert messages["messages"]["zh"]["kind.collusion"] == "合谋团伙"
    assert set(messages["messages"]["zh"]) == set(messages["messages"]["en"])


@pytest.fixture(scope="module")
def live_app(city_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    store_path = make_ui_city_store(city_db_path, tmp_path_factory.mktemp("ui-city"))
    with start_live_app(store_path, tmp_path_factory.mktemp("ui-app")) as app:
        yield app


def _open_ring(browser: Browser, live_app: LiveApp, token: str, extra: str = "") -> None:
    browser.navigate(f"{live_app.base_url}/ui#token={token}&ring={live_app.ring_id}{extra}")
    browser.wait_for(f"({PAGE_SETTLED}) && document.body.dataset.ring === {json.dumps(live_app.ring_id)}")


@needs_chromium
def test_investigator_sees_the_ring_drawn_with_its_members_and_evidence(
    live_app: LiveApp, tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    token = live_app.token("investigator")
    with Browser(CHROMIUM) as browser:
        _open_ring(browser, live_app, token)
        assert browser.evaluate("document.body.dataset.state") == "ready", browser.evaluate(
            "document.querySelector('#status').textContent"
        )
        shot = browser.screenshot(screenshot_dir(tmp_path) / "ui-ring.png")
        listed = set(
            browser.evaluate(
                "Array.from(document.querySelectorAll('#members li')).map(li => li.dataset.member)"
            )
        )
        drawn = drawn_ids(browser)
        highlighted = set(browser.evaluate("medfraudView.cy.nodes('.ring-member').map(n => n.id())"))
        evidence = browser.evaluate(
            "Array.from(document.querySelectorAll('#evidence li')).map(li => li.textContent)"
        )
        edges = int(browser.evaluate("document.querySelector('#graph').dataset.edges"))
        legend = set(
            browser.evaluate(
                "Array.from(document.querySelectorAll('[data-legend-label]')).map(d => d.dataset.legendLabel)"
            )
        )
        # Chinese by default: the page, the kind and the evidence the server wrote
        assert browser.evaluate("document.documentElement.lang") == "zh-CN"
        assert "合谋团伙" in browser.evaluate("document.querySelector('#ring-facts').textContent")
        # the timeline shows the ring's meeting days against the institution's usual traffic
        assert int(browser.evaluate("document.querySelector('#timeline').dataset.days")) > 0
        assert browser.evaluate("document.querySelectorAll('#timeline .tl-bar').length") > 0
        # the token must not stay in the address bar
        assert "token=" not in browser.evaluate("window.location.href")
        assert_offline_and_clean(browser, live_app.base_url)

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert listed == live_app.ring_members
    patients = {m for m in live_app.ring_members if m.startswith("Patient:")}
    assert patients <= drawn, "every patient of the ring is in the picture"
    assert patients <= highlighted and highlighted <= live_app.ring_members
    assert len(drawn) > len(live_app.ring_members) and edges > 0
    assert evidence and all(line.strip() for line in evidence)
    assert any(re.search(r"[\u4e00-\u9fff]", line) for line in evidence)
    assert {"Patient", "Claim"} <= legend


@needs_chromium
def test_clicking_a_node_expands_it_in_place_and_search_opens_a_person(
    live_app: LiveApp, tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    token = live_app.token("investigator")
    with Browser(CHROMIUM) as browser:
        _open_ring(browser, live_app, token)
        before = drawn_ids(browser)
        positions = browser.evaluate(
            "Object.fromEntries(medfraudView.cy.nodes().map(n => [n.id(), n.position()]))"
        )
        # a doctor or institution of the ring reaches beyond the ring's own claims
        target = next(
            m for m in sorted(live_app.ring_members) if m.split(":")[0] in ("Institution", "Doctor")
        )
        if target not in before:
            target = sorted(before)[0]
        requests_before = browser.log.requests.count(f"{live_app.base_url}/graphql")
        tap(browser, target)
        browser.wait_for(
            f"document.querySelector('#details-title').textContent && ({PAGE_SETTLED}) === 'ready' "
            f"&& document.querySelector('#status').textContent.includes('图中共')"
        )
        after = drawn_ids(browser)
        moved = browser.evaluate(
            f"(() => {{ const old = {json.dumps(positions)}; return medfraudView.cy.nodes()"
            ".filter(n => old[n.id()] && (Math.abs(n.position('x') - old[n.id()].x) > 0.5"
            " || Math.abs(n.position('y') - old[n.id()].y) > 0.5)).map(n => n.id()); })()"
        )
        assert before < after, "the expansion brought new nodes"
        assert moved == [], "an expansion leaves the nodes already drawn where they were"
        assert browser.log.requests.count(f"{live_app.base_url}/graphql") > requests_before
        assert not browser.evaluate("document.querySelector('#details-panel').hidden")
        assert browser.evaluate("medfraudView.cy.nodes(':selected').map(n => n.id())") == [target]

        browser.evaluate(
            f"document.querySelector('#search-text').value = {json.dumps(live_app.patient_name)};"
            "document.querySelector('#search-form').requestSubmit()"
        )
        browser.wait_for(f"document.querySelectorAll('#search-results li').length > 0 && ({PAGE_SETTLED})")
        browser.evaluate("document.querySelector('#search-results li button').click()")
        browser.wait_for(
            f"!document.querySelector('#details-panel').hidden && ({PAGE_SETTLED}) === 'ready' "
            "&& document.body.dataset.view === 'node'"
        )
        assert int(browser.evaluate("document.querySelector('#graph').dataset.nodes")) > 1
        assert browser.evaluate("document.querySelector('#ring-panel').hidden") is True
        # a person's timeline: claims by scheme, stays as bars
        assert browser.evaluate("document.querySelector('#timeline').dataset.mode") == "person"
        browser.screenshot(screenshot_dir(tmp_path) / "ui-person.png")
        assert_offline_and_clean(browser, live_app.base_url)


@needs_chromium
def test_box_select_hide_a_label_change_layout_and_export(live_app: LiveApp, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    token = live_app.token("investigator")
    with Browser(CHROMIUM) as browser:
        _open_ring(browser, live_app, token)
        total = int(browser.evaluate("document.querySelector('#graph').dataset.nodes"))
        claims = int(browser.evaluate("medfraudView.cy.nodes('[label = \"Claim\"]').length"))
        assert claims > 0
        browser.evaluate("document.querySelector('[data-legend-label=\"Claim\"]').click()")
        visible = "Number(document.querySelector('#graph').dataset.visibleNodes)"
        assert browser.evaluate(visible) == total - claims
        browser.evaluate("document.querySelector('[data-legend-label=\"Claim\"]').click()")
        assert browser.evaluate(visible) == total

        # box mode: a plain drag over the whole picture selects every node
        browser.evaluate("document.querySelector('#box-select').click()")
        assert browser.evaluate("medfraudView.cy.userPanningEnabled()") is False
        box = browser.evaluate(
            "(() => { const r = document.querySelector('#graph').getBoundingClientRect();"
            " return [r.left + 3, r.top + 3, r.right - 3, r.bottom - 3]; })()"
        )
        drag = (("mousePressed", box[0], box[1]), ("mouseMoved", (box[0] + box[2]) / 2, box[3] / 2),
                ("mouseMoved", box[2], box[3]), ("mouseReleased", box[2], box[3]))
        for kind, x, y in drag:
            browser.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                         buttons=0 if kind == "mouseReleased" else 1, clickCount=1)
        browser.wait_for("Number(document.body.dataset.selected || 0) > 1")
        assert not browser.evaluate("document.querySelector('#selection-bar').hidden")
        selected = int(browser.evaluate("document.body.dataset.selected"))
        assert selected > total // 2

        browser.evaluate("document.querySelector('#layout').value = 'concentric';"
                         "document.querySelector('#layout').dispatchEvent(new Event('change'))")
        assert browser.evaluate("document.querySelector('#graph').dataset.layout") == "concentric"
        png = browser.evaluate("medfraudView.pngDataUrl()")
        svg = browser.evaluate("medfraudView.svgText()")
        assert png.startswith("data:image/png;base64,") and len(png) > 10_000
        assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
        assert svg.count("<") > total
        time.sleep(0.2)
        assert_offline_and_clean(browser, live_app.base_url)


@needs_chromium
def test_analyst_sees_masked_identities_and_can_still_expand(live_app: LiveApp) -> None:
    assert CHROMIUM is not None
    token = live_app.token("analyst")
    with Browser(CHROMIUM) as browser:
        _open_ring(browser, live_app, token)
        members = browser.evaluate(
            "Array.from(document.querySelectorAll('#members li')).map(li => "
            "[li.dataset.member, li.querySelector('span + span').textContent])"
        )
        patients = [(ref, title) for ref, title in members if ref.startswith("Patient:")]
        assert len(members) == len(live_app.ring_members) and patients
        assert all(title.endswith("*") for _, title in patients), patients
        assert live_app.patient_name not in browser.evaluate("document.documentElement.outerHTML")
        patient_node = patients[0][0]
        assert patient_node not in live_app.ring_members  # an opaque key, not the ID number
        # analysts neither review rings nor open cases: the page does not offer it
        assert browser.evaluate("document.querySelector('#ring-actions').hidden") is True
        tap(browser, patient_node)
        browser.wait_for(
            f"({PAGE_SETTLED}) && document.querySelector('#status').textContent.includes('图中共')"
        )
        assert browser.evaluate("document.body.dataset.state") == "ready"
        assert browser.evaluate("document.querySelector('#details-title').textContent").endswith("*")
        assert_offline_and_clean(browser, live_app.base_url)
