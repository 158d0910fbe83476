"""Amounts as a receipt writes them: figures and Chinese capitals (大写), by the usual rules of
会计基础工作规范 art. 52 (whole yuan end in 整, zeros inside read once, cents alone read alone)."""

from __future__ import annotations

import pytest

from payments.money import capitals, figures


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "零元整"),
        (5, "伍分"),
        (60, "陆角整"),
        (100, "壹元整"),
        (2000, "贰拾元整"),
        (5000, "伍拾元整"),
        (1050, "壹拾元伍角整"),
        (10005, "壹佰元零伍分"),
        (100010, "壹仟元壹角整"),
        (123400, "壹仟贰佰叁拾肆元整"),
        (1000500, "壹万零伍元整"),
        (1234567, "壹万贰仟叁佰肆拾伍元陆角柒分"),
        (20000000, "贰拾万元整"),
        (100000000, "壹佰万元整"),
        (10000000000, "壹亿元整"),
        (10001000000, "壹亿零壹万元整"),
        (10000000100, "壹亿零壹元整"),
        (12345678900, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整"),
    ],
)
def test_capitals(fen: int, words: str) -> None:
    assert capitals(fen) == words


def test_figures() -> None:
    assert figures(0) == "0.00"
    assert figures(5) == "0.05"
    assert figures(123456789) == "1,234,567.89"


def test_no_negative_or_absurd_amounts() -> None:
    for fen in (-1, 10**18):
        with pytest.raises(ValueError):
            capitals(fen)
