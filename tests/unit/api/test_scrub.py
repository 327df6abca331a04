"""Free text shown to masked roles: identifiers by shape, the involved persons by name."""

from __future__ import annotations

from api.security.scrub import scrub


def test_identifiers_are_masked_wherever_they_stand() -> None:
    text = "张三(110101195001011234)与李四共用电话138 0013 8000,账户6222000011112222;旧证号110101500101123"
    assert scrub(text, ["张三", "李四"]) == (
        "张*(110101********1234)与李*共用电话138****8000,账户****2222;旧证号110101********1123"
    )


def test_text_without_personal_data_is_unchanged() -> None:
    text = "3 patients co-visited 康乐诊所 on 4 distinct days (claim M-P4-1, 2024-03-03)"
    assert scrub(text, ["张三"]) == text


def test_a_longer_name_is_masked_before_a_name_inside_it() -> None:
    assert scrub("欧阳修和欧阳", ["欧阳", "欧阳修"]) == "欧*和欧*"
