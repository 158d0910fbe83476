"""``core.identifiers.holds_identifier``: numbers as people type them are found, other numbers
are left alone. The vectors are those an outside test typed into the API."""

from __future__ import annotations

import pytest

from core.identifiers import holds_identifier, is_id_number
from core.logging import redact

HELD = [
    "13912345678",
    "太慢了 13912345678",
    "我的身份证360426197201012913写错了",
    "公园社区１３９１２３４５６７８",  # full-width digits
    "公园社区139-1234-5678",
    "公园 360426197 201012913",  # an ID number split by a space
    "+86 139 1234 5678",
    "11010819781120006x",
    "3604２６197201012913",
]
NOT_HELD = [
    "6222020200112233445",  # a bank account: 19 digits, an ID number only hides inside it
    "订单 20241201123456",
    "姓名更正",
    "2024年12月1日 10:30",
    "电话 0791-8888 8888",  # a landline
    "360426197201012914",  # the check character is wrong
    "12345678901",  # not a mobile prefix
]


@pytest.mark.parametrize("text", HELD)
def test_numbers_as_people_type_them_are_found(text: str) -> None:
    assert holds_identifier(text)


@pytest.mark.parametrize("text", NOT_HELD)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert not holds_identifier(text)


def test_the_log_still_masks_an_id_number_inside_a_longer_run() -> None:
    """The log errs the other way (a window of a longer run is masked): the two rules differ
    on purpose."""
    assert is_id_number("360426197201012913")
    assert "19720101" not in redact("6360426197201012913")
