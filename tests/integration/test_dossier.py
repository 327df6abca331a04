"""The referral dossier (移送材料) of a case, as a police liaison would receive it.

Over the fixture city with one detection run, an investigator opens a case on a collusion ring,
confirms the ring, writes a note and shares the case with a police agency, all through /graphql.
Then the dossier is fetched over HTTP and checked the way a reader would: ``pdftotext`` finds the
Chinese headings, the members' names and the evidence; ``pdftoppm`` renders the pages and the
network picture is there (its node colours are on the page); other callers get what the access
rules give them (the liaison of another agency nothing, an analyst — a masked role, who may not
read cases — a refusal that names no one). Needs poppler-utils (tests/run.sh installs it).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.chromium import make_ui_city_store, screenshot_dir

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="needs poppler-utils (apt-get install poppler-utils)",
)
SECRET = "dossier-test-secret-0123456789abcdef0123"
POLICE = "police-7"


@dataclass
class Setup:
    client: TestClient
    case_id: str
    ring_id: str
    patient_names: list[str]
    store_path: Path
    audit_log: Path

    def headers(self, role: str, agency: str = "bureau-1", lang: str = "zh-CN") -> dict[str, str]:
        from api.security.auth import issue_token

        token = issue_token(SECRET, sub=f"dossier-{role}", role=role, agency=agency, ttl_s=600)
        return {"Authorization": f"Bearer {token}", "Accept-Language": lang}

    def gql(self, query: str, variables: dict[str, Any], role: str = "investigator") -> dict[str, Any]:
        resp = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers(role)
        )
        body = resp.json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture(scope="module")
def setup(city_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    from api.http.app import create_app
    from api.settings import ApiSettings
    from graph.duckdb.store import DuckDBStore
    from graph.settings import Settings

    store_path = make_ui_city_store(city_db_path, tmp_path_factory.mktemp("dossier-city"))
    audit_log = tmp_path_factory.mktemp("dossier-audit") / "audit.log"
    settings = Settings(env="dev", store="duckdb", duckdb_path=store_path, secret=SECRET)
    store = DuckDBStore.from_settings(settings)
    rings = store.nodes_frame("Ring", ["ring_id", "kind", "score"])
    ring_id = str(
        rings[rings["kind"] == "collusion"].sort_values("score", ascending=False).iloc[0]["ring_id"]
    )
    app = create_app(settings, store=store, api_settings=ApiSettings(audit_log=audit_log, audit_fsync=False))
    try:
        with TestClient(app) as client:
            s = Setup(client, "", ring_id, [], store_path, audit_log)
            opened = s.gql(
                'mutation($r: [String!]) { openCase(title: "老百姓医养中心团伙", ringIds: $r) { caseId } }',
                {"r": [ring_id]},
            )
            s.case_id = opened["openCase"]["caseId"]
            s.gql(
                "mutation($r: String!) { reviewRing(ringId: $r, verdict: CONFIRMED, "
                'reason: "多次同日集中就诊") { ringId } }',
                {"r": ring_id},
            )
            s.gql(
                'mutation($c: String!) { addCaseNote(caseId: $c, text: "已调取监控录像") { noteId } }',
                {"c": s.case_id},
            )
            s.gql(
                "mutation($c: String!, $a: String!) { shareCase(caseId: $c, agency: $a) { caseId } }",
                {"c": s.case_id, "a": POLICE},
            )
            members = s.gql("query($r: ID!) { ring(id: $r) { members { type title } } }", {"r": ring_id})
            s.patient_names = [m["title"] for m in members["ring"]["members"] if m["type"] == "Patient"]
            yield s
    finally:
        store.close()


def _text(pdf: bytes, tmp: Path) -> str:
    path = tmp / "dossier.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _pages(pdf: bytes, tmp: Path) -> list[Path]:
    path = tmp / "dossier.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(path), str(tmp / "page")], check=True)
    return sorted(tmp.glob("page-*.png"))


def _coloured_pixels(png: Path, rgb: tuple[int, int, int], tolerance: int = 24) -> int:
    from PIL import Image

    with Image.open(png) as img:
        raw = img.convert("RGB").tobytes()
    return sum(
        1
        for i in range(0, len(raw), 3)
        if all(abs(raw[i + k] - rgb[k]) <= tolerance for k in range(3))
    )


@needs_poppler
def test_the_police_get_a_chinese_dossier_with_picture_members_evidence_and_audit(
    setup: Setup, tmp_path: Path
) -> None:
    resp = setup.client.get(f"/cases/{setup.case_id}/dossier.pdf", headers=setup.headers("police", POLICE))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.headers["cache-control"] == "no-store"
    text = _text(resp.content, tmp_path)
    for heading in (
        "移送材料",
        "一、疑点摘要",
        "二、关系网络图",
        "三、涉案人员及机构",
        "四、证据",
        "五、结算明细",
        "六、时间线",
        "七、调查备注",
        "八、操作记录",
    ):
        assert heading in text, heading
    flat = " ".join(text.split())
    assert setup.case_id in flat and "老百姓医养中心团伙" in flat and "合谋团伙" in flat
    assert "已移送公安" not in flat  # the status is what it is: open, shown in Chinese
    assert "已立案" in flat
    # the liaison sees full identities inside the shared case
    assert sum(name in flat for name in setup.patient_names) >= len(setup.patient_names) // 2
    assert "同日" in flat and "就诊" in flat  # an evidence sentence, in Chinese
    assert "已调取监控录像" in flat
    # the audit excerpt names who opened, reviewed and shared it
    assert "dossier-investigator" in flat and "立案" in flat and "共享给 police:police-7" in flat
    assert "已确认" in flat

    pages = _pages(resp.content, tmp_path)
    assert len(pages) >= 2
    shutil.copyfile(pages[0], screenshot_dir(tmp_path) / "dossier-page1.png")
    picture_page = pages[0] if _coloured_pixels(pages[0], (0x1F, 0x77, 0xB4)) else pages[1]
    assert _coloured_pixels(picture_page, (0x1F, 0x77, 0xB4)) > 50, "patients drawn in the network picture"
    assert _coloured_pixels(picture_page, (0xF2, 0xB7, 0x05)) > 20, "ring members outlined in gold"


@needs_poppler
def test_the_dossier_speaks_english_on_request(setup: Setup, tmp_path: Path) -> None:
    resp = setup.client.get(
        f"/cases/{setup.case_id}/dossier.pdf", headers=setup.headers("investigator", lang="en")
    )
    assert resp.status_code == 200
    flat = " ".join(_text(resp.content, tmp_path).split())
    assert "Referral dossier" in flat and "collusive ring" in flat and "Summary of findings" in flat
    assert "移送材料" not in flat


def test_the_claims_spreadsheet_has_one_sheet_per_finding_and_all_claims(setup: Setup) -> None:
    from openpyxl import load_workbook

    resp = setup.client.get(f"/cases/{setup.case_id}/dossier.xlsx", headers=setup.headers("investigator"))
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == [setup.ring_id, "结算单"]
    head = [c.value for c in wb["结算单"][1]]
    assert head[:3] == ["结算单", "日期", "出院日期"] and head[-1] == "报销金额"
    ring_rows = wb[setup.ring_id].max_row - 1
    assert ring_rows > 0 and wb["结算单"].max_row - 1 >= ring_rows


def test_others_get_what_the_access_rules_give_them(setup: Setup) -> None:
    url = f"/cases/{setup.case_id}/dossier.pdf"
    other = setup.client.get(url, headers=setup.headers("police", "police-other"))
    assert other.status_code == 404 and other.json()["detail"]["code"] == "NOT_FOUND"
    # analysts work on masked identities and may not read cases: refused, naming no one
    analyst = setup.client.get(url, headers=setup.headers("analyst"))
    assert analyst.status_code == 403 and analyst.json()["detail"]["code"] == "FORBIDDEN"
    assert not any(name.rstrip("*") in analyst.text for name in setup.patient_names)
    assert setup.client.get(url).status_code == 401
    assert (
        setup.client.get("/cases/CASE-nope/dossier.pdf", headers=setup.headers("investigator")).status_code
        == 404
    )
    # every one of those reads is in the audit log, as for /graphql
    log = setup.audit_log.read_text(encoding="utf-8")
    assert log.count('"operation":"Dossier"') >= 3 and '"outcome":"denied"' in log
    assert '"outcome":"invalid_token"' in log


@needs_poppler
def test_medfraud_dossier_writes_the_same_pdf_from_the_command_line(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    # a copy of the store: the server's connection holds the original
    copy = tmp_path / "city.duckdb"
    setup.client.post(
        "/graphql", json={"query": "{ cases { totalCount } }"}, headers=setup.headers("investigator")
    )
    shutil.copyfile(setup.store_path, copy)
    wal = setup.store_path.with_name(setup.store_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    monkeypatch.setenv("MEDFRAUD_DUCKDB_PATH", str(copy))
    monkeypatch.setenv("MEDFRAUD_SECRET", SECRET)
    monkeypatch.setenv("MEDFRAUD_API_AUDIT_LOG", str(tmp_path / "cli-audit.log"))
    monkeypatch.setenv("MEDFRAUD_API_AUDIT_FSYNC", "false")
    out = tmp_path / "out" / "dossier.pdf"
    result = CliRunner().invoke(app, ["dossier", setup.case_id, str(out)])
    assert result.exit_code == 0, result.output
    flat = " ".join(_text(out.read_bytes(), tmp_path).split())
    assert "移送材料" in flat and setup.case_id in flat
    assert '"sub":"cli:' in (tmp_path / "cli-audit.log").read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, ["dossier", setup.case_id, str(tmp_path / "x.docx")])
    assert bad.exit_code != 0 and ".pdf or .xlsx" in str(bad.exception)
