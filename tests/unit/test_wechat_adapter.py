"""The WeChat adapter's pure rules: the face-verification ``cert_hash`` and ``out_seq_no``.

The test vector is the worked example of WeChat's queryVerifyInfo page (注意事项): cert_info
``{"cert_type": "IDENTITY_CARD", "cert_name": "张三", "cert_no": "310101199801011234"}`` joins to
``cert_type=SURFTlRJVFlfQ0FSRA==&cert_name=5byg5LiJ&cert_no=MzEwMTAxMTk5ODAxMDExMjM0`` and
hashes to ``3c241f7f…108b``.
"""

from __future__ import annotations

import re

import pytest

from platforms.wechat import (
    CERT_TYPE_ID_CARD,
    cert_hash,
    is_valid_out_seq_no,
    new_out_seq_no,
)

DOC_CERT_HASH = "3c241f7ff324977aeb91f173bb2a7b06569e6fd784d5573db34a636d8671108b"
OUT_SEQ_NO_RULE = re.compile(r"[0-9A-Za-z_-]{5,32}")


def test_cert_hash_matches_the_documented_example() -> None:
    digest = cert_hash(cert_type="IDENTITY_CARD", cert_name="张三", cert_no="310101199801011234")
    assert digest == DOC_CERT_HASH
    assert CERT_TYPE_ID_CARD == "IDENTITY_CARD"


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("张三", "310101199801011235"),
        ("张 三", "310101199801011234"),
        ("李四", "310101199801011234"),
    ],
)
def test_cert_hash_depends_on_every_field(name: str, number: str) -> None:
    assert cert_hash(cert_type="IDENTITY_CARD", cert_name=name, cert_no=number) != DOC_CERT_HASH


def test_cert_hash_is_lower_case_hex() -> None:
    digest = cert_hash(
        cert_type="IDENTITY_CARD", cert_name="欧阳·娜娜", cert_no="11010819781120006X"
    )
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_out_seq_no_is_inside_the_documented_shape_and_new_each_time() -> None:
    """getVerifyId: 5-32 characters of [0-9A-Za-z_-], unique per appid."""
    made = [new_out_seq_no() for _ in range(1000)]
    assert all(OUT_SEQ_NO_RULE.fullmatch(value) for value in made)
    assert all(is_valid_out_seq_no(value) for value in made)
    assert len(set(made)) == len(made)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("abcde", True),
        ("A" * 32, True),
        ("a_b-C9", True),
        ("abcd", False),
        ("a" * 33, False),
        ("has space", False),
        ("dot.ted", False),
        ("序列号12345", False),
        ("abcde\n", False),
    ],
)
def test_out_seq_no_rule(value: str, valid: bool) -> None:
    assert is_valid_out_seq_no(value) is valid
