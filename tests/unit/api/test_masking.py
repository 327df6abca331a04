"""Masking rules as an analyst would read them."""

from __future__ import annotations

import pytest

from api.security.masking import (
    KeyCipher,
    mask_account,
    mask_id,
    mask_name,
    mask_phone,
    mask_props,
    masked_title,
    unmask_key,
    unmask_params,
)
from graph.errors import InvalidRequest
from graph.model import Node


def test_field_masks_follow_the_rules() -> None:
    assert mask_id("110101195001011234") == "110101********1234"
    assert mask_name("欧阳修") == "欧*"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_account("6222000011112222") == "****2222"
    assert mask_id("12345") == "*****"


def test_patient_props_are_masked_and_extra_columns_dropped() -> None:
    props = {
        "person_id": "110101195001011234",
        "name": "张三",
        "phone": "13800138000",
        "bank_account": "6222000011112222",
        "address": "北京市东城区和平里一号",
        "birth_date": "1950-01-01",
        "gender": "M",
        "extra": '{"wechat": "zhangsan"}',
    }
    masked = mask_props("Patient", props)
    assert masked == {
        "person_id": "110101********1234",
        "name": "张*",
        "phone": "138****8000",
        "bank_account": "****2222",
        "address": "北京市东城区****",
        "birth_date": "1950-**-**",
        "gender": "M",
    }
    assert mask_props("Institution", {"name": "康乐诊所", "kind": "clinic"}) == {
        "name": "康乐诊所",
        "kind": "clinic",
    }


def test_titles_are_masked_per_label() -> None:
    assert masked_title(Node("Patient", "110101195001011234", {"name": "张三"})) == "张*"
    assert masked_title(Node("Patient", "110101195001011234", {})) == "110101********1234"
    assert masked_title(Node("Phone", "13800138000", {"phone": "13800138000"})) == "138****8000"
    assert masked_title(Node("Institution", "I1", {"name": "康乐诊所"})) == "康乐诊所"


def test_masked_keys_are_opaque_deterministic_and_bound_to_their_label() -> None:
    cipher = KeyCipher("secret-one")
    token = cipher.seal("Patient", "110101195001011234")
    assert token.startswith("~") and "1234" not in token
    assert cipher.seal("Patient", "110101195001011234") == token
    assert unmask_key(cipher, "Patient", token) == "110101195001011234"
    assert unmask_key(cipher, "Patient", "plain-key") == "plain-key"
    with pytest.raises(InvalidRequest):
        cipher.open("Phone", token)
    with pytest.raises(InvalidRequest):
        KeyCipher("secret-two").open("Patient", token)
    assert unmask_params(cipher, {"person_id": token, "n": 3}) == {"person_id": "110101195001011234", "n": 3}
