"""Resident ID numbers and unified social credit codes: every failure code, message and order."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth.identifiers import IdNumberInfo, check_id_number, check_uscc
from core.errors import ValidationFailed

TODAY = date(2025, 6, 15)

# Independent re-implementations of the check characters from PROTOCOLS.md, so the tests do not
# trust the library they exercise.
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK_CHARS = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

# County codes that GB/T 2260 lists, with their province, across several provinces and eras.
KNOWN_REGIONS = {
    "360426": "江西省",  # 德安县, code since 1983
    "110105": "北京市",  # 朝阳区
    "310115": "上海市",  # 浦东新区, code since 1992
    "310225": "上海市",  # 南汇县, 1982-2001 (abolished, old numbers remain valid)
    "440305": "广东省",  # 南山区
    "330110": "浙江省",  # 余杭区, code since 2001
    "130184": "河北省",  # 新乐市
}
UNKNOWN_REGIONS = ["990101", "000000", "360499", "369999"]


def id_check_char(body: str) -> str:
    assert len(body) == 17 and body.isdigit(), body
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def id_number(
    region: str = "360426",
    born: date | str = date(1991, 1, 1),
    seq: int = 7,
    check: str | None = None,
) -> str:
    """A valid ID number by default; any part can be overridden, the check char is recomputed."""
    birth = born if isinstance(born, str) else born.strftime("%Y%m%d")
    body = f"{region}{birth}{seq:03d}"
    return body + (check if check is not None else id_check_char(body))


def wrong_id_check_char(number: str) -> str:
    return next(c for c in ID_CHECK_CHARS if c != number[-1])


def uscc_check_char(body: str) -> str:
    assert len(body) == 17, body
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_code(body: str = "91110000600037341") -> str:
    return body + uscc_check_char(body)


def only_field_error(exc: ValidationFailed) -> dict[str, Any]:
    fields = exc.details["fields"]
    assert len(fields) == 1, fields
    error: dict[str, Any] = fields[0]
    return error


def id_failure(value: str, today: date = TODAY) -> dict[str, Any]:
    with pytest.raises(ValidationFailed) as info:
        check_id_number(value, today=today)
    error = only_field_error(info.value)
    assert error["field"] == "id_number"
    assert info.value.status == 400
    assert info.value.code == "request.validation_failed"
    return error


def uscc_failure(value: str) -> dict[str, Any]:
    with pytest.raises(ValidationFailed) as info:
        check_uscc(value)
    error = only_field_error(info.value)
    assert error["field"] == "uscc"
    return error


# --- the helpers themselves ------------------------------------------------------------------


def test_helpers_reproduce_the_protocol_examples() -> None:
    assert id_number() == "360426199101010071"
    assert id_check_char("11010519491231002") == "X"
    assert uscc_code() == "91110000600037341L"


# --- resident ID numbers: success ------------------------------------------------------------


def test_protocol_example_is_valid() -> None:
    info = check_id_number("360426199101010071", today=TODAY)
    assert info == IdNumberInfo(
        number="360426199101010071",
        birth_date=date(1991, 1, 1),
        sex="M",
        region_code="360426",
        province="江西省",
    )


@pytest.mark.parametrize(
    "spelling",
    [
        " 11010519491231002x ",
        "11010519491231002x",
        "\t11010519491231002X\n",
        "１１０１０５１９４９１２３１００２ｘ",
    ],
)
def test_normalises_spaces_lower_case_x_and_full_width(spelling: str) -> None:
    info = check_id_number(spelling, today=TODAY)
    assert info.number == "11010519491231002X"
    assert info.sex == "F"
    assert info.province == "北京市"


@pytest.mark.parametrize(("seq", "sex"), [(1, "M"), (2, "F"), (7, "M"), (10, "F"), (999, "M")])
def test_sex_comes_from_the_17th_digit(seq: int, sex: str) -> None:
    assert check_id_number(id_number(seq=seq), today=TODAY).sex == sex


@pytest.mark.parametrize(("region", "province"), sorted(KNOWN_REGIONS.items()))
def test_known_regions_give_their_province(region: str, province: str) -> None:
    info = check_id_number(id_number(region=region), today=TODAY)
    assert info.region_code == region
    assert info.province == province


@pytest.mark.parametrize(
    ("region", "born"),
    [
        ("360426", date(1960, 5, 20)),  # born before the code existed (1983)
        ("310115", date(1950, 1, 1)),  # Pudong: code from 1992
        ("330110", date(1975, 3, 3)),  # Yuhang district: code from 2001
        ("310225", date(2005, 1, 1)),  # after the county was merged: still accepted
    ],
)
def test_region_is_not_tied_to_the_birth_year(region: str, born: date) -> None:
    """The region is where the number was issued, often long after birth (stdnum would refuse)."""
    assert check_id_number(id_number(region=region, born=born), today=TODAY).birth_date == born


@pytest.mark.parametrize(
    "born", [date(1900, 1, 1), date(2000, 2, 29), TODAY, TODAY - timedelta(days=1)]
)
def test_birth_date_boundaries_that_are_accepted(born: date) -> None:
    assert check_id_number(id_number(born=born), today=TODAY).birth_date == born


def test_info_is_frozen_and_keeps_the_number_out_of_repr() -> None:
    info = check_id_number(id_number(), today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.sex = "F"  # type: ignore[misc]
    assert info.number not in repr(info)
    assert "1991" in repr(info)


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1991, 1, 1), date(2025, 1, 1), 34),
        (date(1991, 1, 1), date(2024, 12, 31), 33),
        (date(1991, 6, 15), date(2025, 6, 14), 33),
        (date(1991, 6, 15), date(2025, 6, 15), 34),
        (date(2000, 2, 29), date(2023, 2, 28), 22),
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2025, 6, 15), date(2025, 6, 15), 0),
    ],
)
def test_age_on(born: date, day: date, age: int) -> None:
    info = check_id_number(id_number(born=born), today=TODAY)
    assert info.age_on(day) == age


# --- resident ID numbers: failures -----------------------------------------------------------

FORMAT_MESSAGE = "身份证号码应为18位，由17位数字和最后1位数字或字母X组成，请核对。"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "36042619910101007",  # 17 characters
        "3604261991010100711",  # 19 characters
        "36042619910101007A",  # last character neither digit nor X
        "3604261991010100X1",  # X not in last place
        "X60426199101010071",
        "360426 199101010071",  # inner space
        "360426-19910101-0071",
        "٣٦٠٤٢٦١٩٩١٠١٠١٠٠٧١",  # Arabic-Indic digits: isdigit() but not ASCII
        "36042619910101007１1",  # length 19 after normalisation
    ],
)
def test_format_failures(value: str) -> None:
    assert id_failure(value) == {"field": "id_number", "code": "format", "message": FORMAT_MESSAGE}


@pytest.mark.parametrize(
    "value", ["360426910101007", " 360426910101007 ", "１１０１０５４９１２３１００２"]
)
def test_old_15_digit_numbers_are_refused(value: str) -> None:
    error = id_failure(value)
    assert error["code"] == "format"
    assert error["message"].startswith("身份证号码应为18位")
    assert "15位" in error["message"]


BIRTH_DATE_MESSAGE = "身份证号码中的出生日期无效，请核对。"


@pytest.mark.parametrize(
    "born",
    [
        "20991340",  # month 13, day 40
        "19910230",  # 30 February
        "19900229",  # 29 February of a non-leap year
        "19910001",
        "19910100",
        "00000101",
        "18991231",  # before 1900
        (TODAY + timedelta(days=1)).strftime("%Y%m%d"),  # tomorrow
        "20990101",
    ],
)
def test_birth_date_failures(born: str) -> None:
    error = id_failure(id_number(born=born))
    assert error == {"field": "id_number", "code": "birth_date", "message": BIRTH_DATE_MESSAGE}
    assert "出生日期无效" in error["message"]


def test_the_brief_example_2099_13_40_is_a_birth_date_failure_even_with_a_bad_check_char() -> None:
    number = id_number(born="20991340")
    assert id_failure(number)["code"] == "birth_date"
    assert id_failure(number[:-1] + wrong_id_check_char(number))["code"] == "birth_date"


def test_future_is_relative_to_the_given_today() -> None:
    number = id_number(born=date(2030, 1, 1))
    assert id_failure(number, today=date(2029, 12, 31))["code"] == "birth_date"
    assert check_id_number(number, today=date(2030, 1, 1)).birth_date == date(2030, 1, 1)


REGION_MESSAGE = "身份证号码中的地区代码无效，请核对。"


@pytest.mark.parametrize("region", UNKNOWN_REGIONS)
def test_region_failures(region: str) -> None:
    error = id_failure(id_number(region=region))
    assert error == {"field": "id_number", "code": "region", "message": REGION_MESSAGE}


CHECK_DIGIT_MESSAGE = "身份证号码校验位不正确，请核对。"


@pytest.mark.parametrize("check", [c for c in ID_CHECK_CHARS if c != id_number()[-1]])
def test_check_digit_failures(check: str) -> None:
    number = id_number()
    error = id_failure(number[:-1] + check)
    assert error == {"field": "id_number", "code": "check_digit", "message": CHECK_DIGIT_MESSAGE}


def test_swapped_digits_fail_the_check_digit() -> None:
    number = id_number(seq=123)
    swapped = number[:14] + number[15] + number[14] + number[16:]
    assert swapped != number
    assert id_failure(swapped)["code"] == "check_digit"


def test_failure_order_birth_date_before_region_before_check_digit() -> None:
    bad_both = id_number(region="990101", born="19910230")
    assert id_failure(bad_both)["code"] == "birth_date"
    bad_region = id_number(region="990101")
    assert id_failure(bad_region[:-1] + wrong_id_check_char(bad_region))["code"] == "region"


def test_the_message_never_echoes_the_number() -> None:
    number = id_number()
    error = id_failure(number[:-1] + wrong_id_check_char(number))
    assert number[:17] not in error["message"]


# --- resident ID numbers: properties ---------------------------------------------------------


@st.composite
def valid_parts(draw: st.DrawFn) -> tuple[str, date, int]:
    region = draw(st.sampled_from(sorted(KNOWN_REGIONS)))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    seq = draw(st.integers(min_value=0, max_value=999))
    return region, born, seq


@given(valid_parts())
def test_any_body_with_a_valid_date_and_region_validates(parts: tuple[str, date, int]) -> None:
    region, born, seq = parts
    number = id_number(region=region, born=born, seq=seq)
    info = check_id_number(number, today=TODAY)
    assert info.number == number
    assert info.birth_date == born
    assert info.region_code == region
    assert info.province == KNOWN_REGIONS[region]
    assert info.sex == ("M" if seq % 2 else "F")
    assert 0 <= info.age_on(TODAY) <= TODAY.year - 1900


@given(valid_parts(), st.sampled_from(list("0123456789X")))
def test_changing_the_check_char_fails(parts: tuple[str, date, int], check: str) -> None:
    region, born, seq = parts
    number = id_number(region=region, born=born, seq=seq)
    if check == number[-1]:
        return
    assert id_failure(number[:-1] + check)["code"] == "check_digit"


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_arbitrary_18_character_strings_fail_only_with_validation_errors(value: str) -> None:
    try:
        info = check_id_number(value, today=TODAY)
    except ValidationFailed as exc:
        assert only_field_error(exc)["code"] in {"birth_date", "region", "check_digit"}
    else:
        assert info.number == value


@given(st.text(max_size=30))
def test_arbitrary_text_never_crashes(value: str) -> None:
    try:
        check_id_number(value, today=TODAY)
    except ValidationFailed as exc:
        assert only_field_error(exc)["field"] == "id_number"


# --- unified social credit codes -------------------------------------------------------------


def test_uscc_protocol_example_is_valid() -> None:
    assert check_uscc("91110000600037341L") == "91110000600037341L"


@pytest.mark.parametrize(
    "spelling",
    ["91110000600037341l", " 91110000600037341L\n", "９１１１００００６０００３７３４１Ｌ"],
)
def test_uscc_is_normalised(spelling: str) -> None:
    assert check_uscc(spelling) == "91110000600037341L"


@pytest.mark.parametrize(
    "body",
    [
        "91350100M000100Y4",  # organisation code with letters
        "12100000400000624",  # public institution (机构编制)
        "51100000500002718",  # social organisation (民政)
        "Y1110000MA0000001",  # other registering authority: a letter in first place
        "N2330106MF0000001",  # rural collective economic organisation
    ],
)
def test_uscc_variants_with_a_computed_check_char_are_valid(body: str) -> None:
    code = uscc_code(body)
    assert check_uscc(code) == code


LENGTH_MESSAGE = "统一社会信用代码应为18位，请核对。"


@pytest.mark.parametrize(
    "value", ["", "9111000060003734", "91110000600037341", "91110000600037341LL"]
)
def test_uscc_length_failures(value: str) -> None:
    assert uscc_failure(value) == {"field": "uscc", "code": "format", "message": LENGTH_MESSAGE}


@pytest.mark.parametrize("letter", list("IOSVZ"))
@pytest.mark.parametrize("position", [0, 1, 8, 12, 17])
def test_uscc_excluded_letters_are_named(letter: str, position: int) -> None:
    code = list(uscc_code())
    code[position] = letter
    error = uscc_failure("".join(code))
    assert error["code"] == "format"
    assert "含有不允许的字母 I、O、S、V、Z" in error["message"]
    assert error["message"] != LENGTH_MESSAGE


def test_uscc_lower_case_excluded_letter_is_named_too() -> None:
    error = uscc_failure("91110000600o37341L")
    assert "不允许的字母" in error["message"]


@pytest.mark.parametrize(
    "value",
    [
        "9111000060003734#L",  # punctuation
        "91A10000600037341L",  # letter in the region part (characters 3-8)
        "9111000060003734中L",
        "911100006000373٤1L",  # a non-ASCII digit
    ],
)
def test_uscc_other_character_failures(value: str) -> None:
    error = uscc_failure(value)
    assert error["code"] == "format"
    assert error["message"] not in (LENGTH_MESSAGE,)
    assert "不允许的字母" not in error["message"]


def test_uscc_check_digit_failure() -> None:
    error = uscc_failure("91110000600037341M")
    assert error == {
        "field": "uscc",
        "code": "check_digit",
        "message": "统一社会信用代码校验位不正确，请核对。",
    }


_USCC_FREE = st.sampled_from(USCC_ALPHABET)
_DIGIT = st.sampled_from("0123456789")


@st.composite
def uscc_bodies(draw: st.DrawFn) -> str:
    head = draw(st.text(_USCC_FREE, min_size=2, max_size=2))
    region = draw(st.text(_DIGIT, min_size=6, max_size=6))
    organisation = draw(st.text(_USCC_FREE, min_size=9, max_size=9))
    return head + region + organisation


@given(uscc_bodies())
def test_any_uscc_body_with_its_check_char_validates(body: str) -> None:
    assert check_uscc(uscc_code(body)) == uscc_code(body)


@given(uscc_bodies(), _USCC_FREE)
def test_changing_the_uscc_check_char_fails(body: str, check: str) -> None:
    if check == uscc_check_char(body):
        return
    assert uscc_failure(body + check)["code"] == "check_digit"
