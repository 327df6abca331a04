"""Evidence as data: one stored sentence, rendered in either language; old plain strings still read."""

from __future__ import annotations

import json
import string

import pytest

from algorithms.evidence import LANGS, Evidence, ev, evidence_list, from_stored, render, stored
from algorithms.evidence_templates import TEMPLATES
from algorithms.results import Ring


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_speaks_both_languages_over_the_same_values(template_id: str) -> None:
    t = TEMPLATES[template_id]
    assert set(t) == set(LANGS)
    assert _fields(t["zh"]) == _fields(t["en"])


def test_one_stored_sentence_reads_in_chinese_and_english() -> None:
    e = ev("collusion.met", n=6, mean_present=5.4, meeting_days=4, institution="诊所1",
           first_day="2024-03-01", last_day="2024-03-22")
    assert render(e, "zh") == ("6 名成员中平均 5 人在 4 个不同日期同日到 诊所1 就诊"
                               "（2024-03-01 至 2024-03-22）")
    assert render(e, "en") == ("On average 5 of 6 members visited 诊所1 on the same day, on 4 distinct days "
                               "(2024-03-01 to 2024-03-22)")


def test_amounts_lists_and_codes_follow_the_language() -> None:
    e = ev("pharmacy.amounts", usual=85.0, round_share=0.75, common=[[1000.0, 12], [500.0, 3]])
    assert render(e, "zh") == ("每笔金额远高于该药店的通常购药金额（¥85），75% 为整百金额；"
                               "最常见金额：¥1,000（12 笔）、¥500（3 笔）")
    assert render(e, "en").endswith("most common amounts: ¥1,000 (12 purchases), ¥500 (3 purchases)")
    cause = ev("double.third_party_case", case="IC-1", cause="traffic", medical=3200.0)
    assert "交通事故" in render(cause, "zh") and "traffic accident" in render(cause, "en")


def test_stored_json_round_trips_and_old_plain_strings_still_read() -> None:
    import datetime as dt

    e = ev("care.after_death", death=dt.date(2023, 5, 1), claims=3, first_day=dt.date(2023, 6, 1),
           last_day=dt.date(2023, 7, 1), paid=1500.5)
    text = json.dumps([*stored([e]), "登记死亡后仍有结算"], ensure_ascii=False)
    back = evidence_list(json.loads(text))
    assert back[0] == e and "2023-05-01" in back[0].render("en")
    # a row written before templates shows its sentence unchanged, whatever the language
    assert back[1].render("en") == back[1].render("zh") == "登记死亡后仍有结算"
    ring = Ring(kind="collusion", score=0.5, members=[], evidence=json.loads(text))
    assert ring.evidence == back


def test_unknown_ids_are_refused_when_written_and_shown_raw_when_read() -> None:
    with pytest.raises(KeyError):
        ev("collusion.no_such_sentence", n=1)
    newer = from_stored({"id": "future.sentence", "values": {"n": 2}})
    assert render(newer, "zh") == "future.sentence: {'n': 2}"
    assert isinstance(newer, Evidence)
