"""Values cut and formatted to WeChat's and the SMS provider's field rules, for every message
type of the catalogue, with hostile values: the rules are restated here from PROTOCOLS.md (not
imported from the code under test), so a formatter that drifts from them fails."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notify.catalogue import DEFAULT_CATALOGUE, load_catalogue, parse_catalogue
from notify.formatting import FormatError, format_amount, sms_value, wechat_type, wechat_value
from notify.ledger import QuietHours, ledger_key

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

#: The documented rule of each value type (PROTOCOLS.md, "Field value limits by key prefix").
RULES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r"[^\n\r]{1,20}"),
    "number": re.compile(r"[0-9.]{1,32}"),
    "letter": re.compile(r"[A-Za-z-]{1,32}"),
    "symbol": re.compile(r"[^\n\r]{1,5}"),
    "character_string": re.compile(r"[\x21-\x7e]{1,32}"),
    "time": re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]"),
    "date": re.compile(r"\d{4}年\d{2}月\d{2}日( ([01][0-9]|2[0-3]):[0-5][0-9])?"),
    "amount": re.compile(r"[¥￥]\d{1,8}\.\d{2}元?"),
    "phone_number": re.compile(r"[0-9+\-]{1,17}"),
    "car_number": re.compile(r"[^\n\r ]{1,8}"),
    "name": re.compile(rf"([{CJK}*·]{{1,10}}|[A-Za-z .]{{1,20}})"),
    "phrase": re.compile(rf"[{CJK}]{{1,5}}"),
}

HOSTILE = [
    "第一行\n第二行",
    "很长" * 20,
    "表情😀符号🚀在这里",
    "\u202etext\u0000with\tcontrols",
    "   ",
    "a" * 40,
    "http://evil.example/phish 请点击",
]

MOMENT = datetime(2026, 12, 7, 15, 4, tzinfo=UTC)  # 23:04 in China


def value_for(name: str, text: str) -> object:
    """A value of the shape a message gives each name, with hostile text where it is text."""
    if name == "at":
        return MOMENT
    if name == "deadline":
        return date(2026, 12, 31)
    if name == "amount":
        return 1234567
    if name == "count":
        return 3
    return text


@pytest.mark.parametrize("kind", sorted(DEFAULT_CATALOGUE["types"]))
@pytest.mark.parametrize("text", HOSTILE)
def test_every_message_type_formats_within_the_wechat_rules(kind: str, text: str) -> None:
    catalogue = load_catalogue("")
    template = catalogue.wechat_for(kind)
    if template is None:
        pytest.skip("no WeChat template")
    for key, name in template.data.items():
        kind_ = wechat_type(key)
        # a phrase is a status: always some Chinese in it
        text_ = (text.strip() + "已受理") if kind_ == "phrase" else text
        value = wechat_value(key, value_for(name, text_))  # type: ignore[arg-type]
        assert RULES[kind_].fullmatch(value), (kind, key, value)
        assert "\n" not in value


@pytest.mark.parametrize("kind", sorted(DEFAULT_CATALOGUE["types"]))
@pytest.mark.parametrize("text", HOSTILE)
def test_every_sms_variable_is_one_short_line_without_links(kind: str, text: str) -> None:
    template = load_catalogue("").sms_for(kind)
    if template is None:
        pytest.skip("no SMS template")
    for _var, name in template.params.items():
        value = sms_value(value_for(name, text))  # type: ignore[arg-type]
        assert 1 <= len(value) <= 35
        assert "\n" not in value and "http" not in value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_thing_values_never_break_the_rule(text: str) -> None:
    value = wechat_value("thing3", text)
    assert RULES["thing"].fullmatch(value)
    assert not any(ord(c) > 0xFFFF for c in value)


def test_a_thing_of_forty_characters_is_cut_with_an_ellipsis() -> None:
    value = wechat_value("thing1", "一" * 40)
    assert value == "一" * 19 + "…"


def test_a_newline_becomes_a_space() -> None:
    assert wechat_value("thing1", "第一行\n第二行") == "第一行 第二行"


def test_dates_and_times_are_shown_on_china_time() -> None:
    assert wechat_value("date4", MOMENT) == "2026年12月07日 23:04"
    assert wechat_value("time2", MOMENT) == "23:04"
    assert wechat_value("date3", date(2026, 1, 2)) == "2026年01月02日"


def test_amounts_are_yuan_with_two_decimals() -> None:
    assert format_amount(1230) == "¥12.30元"
    assert format_amount(5) == "¥0.05元"
    with pytest.raises(FormatError):
        format_amount(-1)
    with pytest.raises(FormatError):
        format_amount(10**11)


def test_a_phrase_keeps_five_chinese_characters() -> None:
    assert wechat_value("phrase3", "已受理（窗口）OK") == "已受理窗口"
    with pytest.raises(FormatError):
        wechat_value("phrase3", "OK")


def test_unknown_key_types_are_refused() -> None:
    with pytest.raises(FormatError):
        wechat_type("title1")


def test_a_catalogue_naming_a_missing_template_is_refused() -> None:
    broken = {**DEFAULT_CATALOGUE, "types": {"case.accepted": ["user", "nope", None]}}
    with pytest.raises(ValueError, match="no WeChat template"):
        parse_catalogue(broken)


def test_a_deployment_replaces_template_ids() -> None:
    catalogue = load_catalogue(
        '{"wechat": {"progress": {"template_id": "REAL-ID", "title": "办件进度",'
        ' "data": {"thing1": "item"}}}}'
    )
    assert catalogue.wechat_for("case.accepted").template_id == "REAL-ID"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(21, 59), False),
        (time(22, 0), True),
        (time(3, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_cross_midnight(local: time, quiet: bool) -> None:
    hours = QuietHours.parse("22:00-08:00")
    moment = datetime(2026, 12, 7, local.hour, local.minute, tzinfo=UTC).replace(tzinfo=None)
    # local China time -> UTC
    from datetime import timedelta, timezone

    aware = moment.replace(tzinfo=timezone(timedelta(hours=8)))
    assert hours.quiet(aware) is quiet
    if quiet:
        allowed = hours.next_allowed(aware).astimezone(timezone(timedelta(hours=8)))
        assert allowed.hour == 8 and allowed.minute == 0
        assert allowed > aware
    else:
        assert hours.next_allowed(aware) == aware


def test_ledger_keys_are_stable_short_and_distinct() -> None:
    a = ledger_key("outbox:1:case.accepted", "wechat", "user:1")
    assert a == ledger_key("outbox:1:case.accepted", "wechat", "user:1")
    assert re.fullmatch(r"w[0-9a-f]{40}", a)
    assert a != ledger_key("outbox:1:case.accepted", "wechat", "user:2")
    assert ledger_key("outbox:1:case.accepted", "sms", "user:1").startswith("s")
