"""The case flows of /ui in headless chromium: what an investigator and a police liaison do.

- investigator: ring → confirm with a reason → open a case → add a selection → write a note →
  share with a police agency, each through the page's own buttons (GraphQL mutations);
- police liaison of that agency: the page opens straight onto the shared case, and lists nothing else;
- language: the page, the ring's kind and the server-written evidence switch to English and back,
  and the choice survives a reload.
Screenshots: ui-case.png, ui-police.png, ui-english.png (see chromium.screenshot_dir).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.chromium import (
    CHROMIUM,
    PAGE_SETTLED,
    Browser,
    LiveApp,
    assert_offline_and_clean,
    make_ui_city_store,
    needs_chromium,
    screenshot_dir,
    start_live_app,
)

POLICE = "police-7"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def live_app(city_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    store_path = make_ui_city_store(city_db_path, tmp_path_factory.mktemp("ui-cases-city"))
    with start_live_app(store_path, tmp_path_factory.mktemp("ui-cases-app")) as app:
        yield app


def _fill(browser: Browser, selector: str, value: str) -> None:
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")


def _click(browser: Browser, selector: str) -> None:
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


def _choose_language(browser: Browser, lang: str) -> None:
    browser.evaluate(
        f"{{ const s = document.querySelector('#lang'); s.value = '{lang}';"
        " s.dispatchEvent(new Event('change')); }"
    )


def _ready(browser: Browser, condition: str) -> None:
    browser.wait_for(f"({PAGE_SETTLED}) === 'ready' && ({condition})")


@needs_chromium
def test_investigator_confirms_opens_notes_and_shares_then_police_see_only_that_case(
    live_app: LiveApp, tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    ring = json.dumps(live_app.ring_id)
    with Browser(CHROMIUM) as browser:
        browser.navigate(
            f"{live_app.base_url}/ui#token={live_app.token('investigator')}&ring={live_app.ring_id}"
        )
        _ready(browser, f"document.body.dataset.ring === {ring}")

        _click(browser, "#review-confirm")  # no reason yet: the page asks for one, nothing is sent
        assert browser.evaluate("document.querySelector('#status').textContent") == "请填写理由。"
        _fill(browser, "#review-reason", "十余次同日集中就诊，远超平常")
        _click(browser, "#review-confirm")
        _ready(browser, "document.body.dataset.review === 'CONFIRMED'")
        assert "已确认" in browser.evaluate("document.querySelector('#ring-facts').textContent")

        _fill(browser, "#case-title", "老年人集中就诊团伙")
        browser.evaluate("document.querySelector('#open-case-form').requestSubmit()")
        _ready(browser, "document.body.dataset.view === 'case'")
        case_id = browser.evaluate("document.body.dataset.case")
        assert case_id.startswith("CASE-")
        assert browser.evaluate("document.querySelector('#case-list li').dataset.case") == case_id
        assert browser.evaluate("document.body.dataset.caseStatus") == "open"
        assert int(browser.evaluate("document.querySelector('#graph').dataset.nodes")) > 10
        assert browser.evaluate("document.querySelectorAll('#case-claims tbody tr').length") > 0

        # a selection of three claims from the picture joins the case
        browser.evaluate("void medfraudView.cy.nodes('[label = \"Claim\"]').slice(0, 3).select()")
        _ready(browser, "!document.querySelector('#selection-bar').hidden")
        members_before = browser.evaluate("document.querySelectorAll('#case-members li').length")
        _click(browser, "#selection-add")
        _ready(browser, f"document.querySelectorAll('#case-members li').length === {members_before + 3}")

        _fill(browser, "#note-text", "已约谈诊所负责人，调取监控录像")
        browser.evaluate("document.querySelector('#note-form').requestSubmit()")
        _ready(browser, "document.querySelectorAll('#case-notes li').length === 1")
        assert "调取监控录像" in browser.evaluate("document.querySelector('#case-notes').textContent")

        _fill(browser, "#share-agency", POLICE)
        browser.evaluate("document.querySelector('#share-form').requestSubmit()")
        _ready(browser, f"(document.body.dataset.sharedWith || '').includes('police:{POLICE}')")
        history = browser.evaluate("document.querySelector('#case-history').textContent")
        assert "立案" in history and "添加备注" in history and "已共享给 police:police-7" in history
        browser.screenshot(screenshot_dir(tmp_path) / "ui-case.png")
        assert_offline_and_clean(browser, live_app.base_url)

    with Browser(CHROMIUM) as browser:
        browser.navigate(f"{live_app.base_url}/ui#token={live_app.token('police', agency=POLICE)}")
        _ready(browser, f"document.body.dataset.case === {json.dumps(case_id)}")
        listed = browser.evaluate(
            "Array.from(document.querySelectorAll('#case-list li')).map(li => li.dataset.case)"
        )
        assert listed == [case_id]
        assert browser.evaluate("document.querySelector('#rings-section').hidden") is True
        assert browser.evaluate("document.querySelectorAll('#ring-list li').length") == 0
        # full identities inside the shared case, and the liaison cannot move or share it
        titles = browser.evaluate("Array.from(medfraudView.nodes.values()).map(n => n.title)")
        assert live_app.patient_name in titles
        assert browser.evaluate("document.querySelector('#case-owner-actions').hidden") is True
        assert "调取监控录像" in browser.evaluate("document.querySelector('#case-notes').textContent")
        browser.screenshot(screenshot_dir(tmp_path) / "ui-police.png")
        assert_offline_and_clean(browser, live_app.base_url)

    # another police agency sees no case at all
    with Browser(CHROMIUM) as browser:
        browser.navigate(f"{live_app.base_url}/ui#token={live_app.token('police', agency='police-other')}")
        _ready(browser, "document.querySelector('#cases-total').textContent !== ''")
        assert browser.evaluate("document.querySelectorAll('#case-list li').length") == 0
        assert browser.evaluate("document.querySelector('#graph').dataset.nodes") == "0"


@needs_chromium
def test_language_switch_rewrites_the_page_and_the_evidence(live_app: LiveApp, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    ring = json.dumps(live_app.ring_id)
    evidence = "Array.from(document.querySelectorAll('#evidence li')).map(li => li.textContent)"
    with Browser(CHROMIUM) as browser:
        browser.navigate(
            f"{live_app.base_url}/ui#token={live_app.token('investigator')}&ring={live_app.ring_id}"
        )
        _ready(browser, f"document.body.dataset.ring === {ring}")
        chinese = browser.evaluate(evidence)
        assert all(CJK.search(line) for line in chinese if not line.startswith("text"))
        assert browser.evaluate("document.querySelector('#ring-panel h3').textContent") == "证据"

        _choose_language(browser, "en")
        _ready(browser, f"document.documentElement.lang === 'en' && document.body.dataset.ring === {ring}")
        browser.wait_for(f"{evidence}.some(line => /members|persons|reimbursed/.test(line))")
        english = browser.evaluate(evidence)
        assert len(english) == len(chinese) and english != chinese
        assert any("members" in line or "persons" in line for line in english)
        facts = browser.evaluate("document.querySelector('#ring-facts').textContent")
        assert "collusive ring" in facts and "合谋团伙" not in facts
        assert browser.evaluate("document.querySelector('#ring-panel h3').textContent") == "Evidence"
        assert (
            browser.evaluate("document.querySelector('[data-legend-label=\"Patient\"]').textContent")
            == "Patient"
        )
        browser.screenshot(screenshot_dir(tmp_path) / "ui-english.png")

        # the choice is the user's: kept across a reload of the page
        browser.navigate(f"{live_app.base_url}/ui#ring={live_app.ring_id}")
        browser.call("Page.reload", ignoreCache=True)
        _ready(browser, f"document.body.dataset.ring === {ring}")
        assert browser.evaluate("document.documentElement.lang") == "en"
        _choose_language(browser, "zh")
        _ready(browser, "document.documentElement.lang === 'zh-CN'")
        browser.wait_for(f"{evidence}.length > 0 && {evidence}.every(line => /[\\u4e00-\\u9fff]/.test(line))")
        assert_offline_and_clean(browser, live_app.base_url)
