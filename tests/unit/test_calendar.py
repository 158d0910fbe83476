"""The working-day calendar: deadlines across National Day, Spring Festival and the turn of 2026
to 2027, acceptances on and before a holiday, overrides, the rule for years the package does not
cover (checked against the package's real data where both speak), and the counting properties.

Expected dates are worked out by hand from the State Council's notices (2026) and the lunar
calendar (2027), not computed by the code under test.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import (
    CalendarYearUnsupported,
    WorkCalendar,
    fallback_holidays,
    holiday_name,
    package_covers,
    parse_day,
)
from core.errors import ValidationFailed

CAL = WorkCalendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


# --------------------------------------------------------------------------------------------
# Deadlines on the package's data (2026)
# --------------------------------------------------------------------------------------------


def test_national_day_week_2026() -> None:
    # Accepted Wed 30 Sep; 1–7 Oct off; Sat 10 Oct is a make-up working day (调休上班).
    assert CAL.add_working_days(d("2026-09-30"), 5) == d("2026-10-13")
    assert [CAL.add_working_days(d("2026-09-30"), n) for n in range(1, 5)] == [
        d("2026-10-08"),
        d("2026-10-09"),
        d("2026-10-10"),
        d("2026-10-12"),
    ]
    assert CAL.working_days_between(d("2026-09-30"), d("2026-10-13")) == 5
    assert CAL.working_days_between(d("2026-09-30"), d("2026-10-07")) == 0


def test_spring_festival_2026() -> None:
    # 15–23 Feb off; Sat 14 Feb and Sat 28 Feb are make-up working days.
    assert CAL.is_workday(d("2026-02-14")) and CAL.is_workday(d("2026-02-28"))
    assert not any(CAL.is_workday(d("2026-02-15") + timedelta(days=n)) for n in range(9))
    assert CAL.add_working_days(d("2026-02-13"), 1) == d("2026-02-14")
    assert CAL.add_working_days(d("2026-02-13"), 3) == d("2026-02-25")
    assert CAL.add_working_days(d("2026-02-20"), 5) == d("2026-02-28")
    assert CAL.working_days_between(d("2026-02-13"), d("2026-02-24")) == 2


def test_acceptance_on_a_public_holiday() -> None:
    # Accepted online on a day off: the clock starts with the next working day.
    assert CAL.add_working_days(d("2026-10-03"), 1) == d("2026-10-08")
    assert CAL.add_working_days(d("2026-02-17"), 1) == d("2026-02-24")  # 初一
    assert CAL.add_working_days(d("2027-01-01"), 1) == d("2027-01-04")  # rule year
    assert CAL.add_working_days(d("2026-10-03"), 0) == d("2026-10-03")


def test_acceptance_on_the_day_before_a_holiday() -> None:
    # Thu 24 Sep 2026, the day before Mid-Autumn (25–27 Sep off).
    assert CAL.add_working_days(d("2026-09-24"), 1) == d("2026-09-28")
    # Tue 14 Sep 2027, the day before Mid-Autumn by the rule.
    assert CAL.add_working_days(d("2027-09-14"), 1) == d("2027-09-16")
    # Thu 4 Feb 2027: eve Fri 5, weekend, 初三 Mon 8.
    assert CAL.add_working_days(d("2027-02-04"), 1) == d("2027-02-09")


def test_turn_of_2026_to_2027() -> None:
    # Accepted Mon 28 Dec 2026 (package year), due in 2027 (rule year): 29, 30, 31 Dec;
    # 1 Jan off; 4–8 Jan; 11, 12 Jan.
    assert not package_covers(2027)
    assert CAL.add_working_days(d("2026-12-28"), 10) == d("2027-01-12")
    assert CAL.working_days_between(d("2026-12-28"), d("2027-01-12")) == 10
    assert CAL.working_days_between(d("2026-12-31"), d("2027-01-04")) == 1
    assert CAL.source_of(d("2026-12-31")) == "package"
    assert CAL.source_of(d("2027-01-01")) == "rule"


def test_package_years_follow_the_package_exactly() -> None:
    day = date(2004, 1, 1)
    while package_covers(day.year):
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
        assert CAL.source_of(day) == "package"
        day += timedelta(days=1)
    assert day == date(2027, 1, 1)


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------


def test_overrides_take_precedence() -> None:
    notice = WorkCalendar(
        overrides={
            d("2027-02-09"): False,  # the notice extends Spring Festival
            d("2027-02-10"): False,
            d("2027-02-20"): True,  # a make-up working day on a Saturday
        }
    )
    assert notice.is_workday(d("2027-02-20")) and not CAL.is_workday(d("2027-02-20"))
    assert notice.add_working_days(d("2027-02-04"), 1) == d("2027-02-11")
    assert notice.add_working_days(d("2027-02-18"), 2) == d("2027-02-20")
    assert notice.source_of(d("2027-02-20")) == "override"
    assert notice.source_of(d("2027-02-22")) == "rule"

    # Over the package too: a local day off instead of the make-up Saturday 10 Oct 2026.
    local = WorkCalendar(overrides={d("2026-10-10"): False})
    assert local.add_working_days(d("2026-09-30"), 5) == d("2026-10-14")
    # And over the rule's holidays.
    assert WorkCalendar(overrides={d("2027-10-01"): True}).is_workday(d("2027-10-01"))


def test_uncovered_years() -> None:
    assert CAL.uncovered_years([2026, 2027, 2028]) == [2027, 2028]
    entered = WorkCalendar(overrides={d("2027-02-20"): True})
    assert entered.uncovered_years([2026, 2027, 2028]) == [2028]


# --------------------------------------------------------------------------------------------
# The rule for years after the package's data
# --------------------------------------------------------------------------------------------

RULE_2027 = {
    "2027-01-01": "元旦",
    "2027-02-05": "春节",  # 除夕
    "2027-02-06": "春节",  # 初一
    "2027-02-07": "春节",
    "2027-02-08": "春节",
    "2027-04-05": "清明",
    "2027-05-01": "劳动节",
    "2027-05-02": "劳动节",
    "2027-06-09": "端午",
    "2027-09-15": "中秋",
    "2027-10-01": "国庆节",
    "2027-10-02": "国庆节",
    "2027-10-03": "国庆节",
}
RULE_2028 = {
    "2028-01-01": "元旦",
    "2028-01-25": "春节",
    "2028-01-26": "春节",
    "2028-01-27": "春节",
    "2028-01-28": "春节",
    "2028-04-04": "清明",
    "2028-05-01": "劳动节",
    "2028-05-02": "劳动节",
    "2028-05-28": "端午",
    "2028-10-01": "国庆节",
    "2028-10-02": "国庆节",
    "2028-10-03": "国庆节",  # also 中秋 this year: one day, counted once
}


@pytest.mark.parametrize("year, expected", [(2027, RULE_2027), (2028, RULE_2028)])
def test_rule_holidays_of_2027_and_2028(year: int, expected: dict[str, str]) -> None:
    assert fallback_holidays(year) == {d(day) for day in expected}
    assert {day: holiday_name(d(day)) for day in expected} == expected
    for day in expected:
        assert not CAL.is_workday(d(day))
    # A plain weekday and a plain weekend day.
    assert CAL.is_workday(d(f"{year}-03-01")) == (d(f"{year}-03-01").weekday() < 5)


@pytest.mark.parametrize("year", [2025, 2026])
def test_rule_agrees_with_the_package_where_both_speak(year: int) -> None:
    """The package's real data for a year under the 2024 law: every holiday the rule predicts is
    a holiday there, by the same name. (The package has more: make-up arrangements and bridging
    days off, which no rule predicts.)"""
    assert package_covers(year)
    for day in sorted(fallback_holidays(year)):
        assert chinese_calendar.is_holiday(day), day
        english = chinese_calendar.get_holiday_detail(day)[1]
        assert english is not None, day
        assert chinese_calendar.Holiday(english).chinese == holiday_name(day), day


def test_rule_agrees_with_the_package_under_the_older_law() -> None:
    """2008–2024: the same festivals, without the eve and 2 May the 2024 revision added."""
    for year in range(2008, 2025):
        eve = min(day for day in fallback_holidays(year) if day.month in (1, 2) and day.day > 1)
        older = fallback_holidays(year) - {eve, date(year, 5, 2)}
        assert all(not chinese_calendar.is_workday(day) for day in older), year


def test_rule_is_plausible_for_every_future_year() -> None:
    for year in range(2027, 2100):
        days = sorted(fallback_holidays(year))
        spring = [day for day in days if day.month in (1, 2) and day != date(year, 1, 1)]
        assert len(spring) == 4 and (spring[-1] - spring[0]).days == 3, year
        assert date(year, 1, 20) <= spring[0] <= date(year, 2, 19), year
        qingming = [day for day in days if day.month == 4]
        assert len(qingming) == 1 and 4 <= qingming[0].day <= 6, year
        assert 12 <= len(days) <= 13, year  # 13 unless Mid-Autumn falls on 1–3 Oct


def test_weekend_holiday_gets_no_guessed_substitute() -> None:
    # 1 May 2027 is a Saturday: the notice will name a weekday off; the rule does not guess it.
    assert CAL.is_workday(d("2027-05-03"))
    assert CAL.add_working_days(d("2027-04-30"), 1) == d("2027-05-03")


# --------------------------------------------------------------------------------------------
# Counting properties
# --------------------------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 12, 31))
OVERRIDES = st.dictionaries(DAYS, st.booleans(), max_size=8)


@settings(max_examples=200, deadline=None)
@given(start=DAYS, n=st.integers(min_value=0, max_value=80), overrides=OVERRIDES)
def test_add_and_between_agree(start: date, n: int, overrides: dict[date, bool]) -> None:
    cal = WorkCalendar(overrides=overrides)
    end = cal.add_working_days(start, n)
    assert cal.working_days_between(start, end) == n
    assert cal.working_days_between(end, start) == -n
    if n:
        assert cal.is_workday(end)
        # The deadline is the first day on which n working days have passed.
        assert cal.working_days_between(start, end - timedelta(days=1)) == n - 1


@settings(max_examples=200, deadline=None)
@given(a=DAYS, b=DAYS, c=DAYS)
def test_between_is_antisymmetric_and_additive(a: date, b: date, c: date) -> None:
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
    assert CAL.working_days_between(a, a) == 0
    assert CAL.working_days_between(a, c) == (
        CAL.working_days_between(a, b) + CAL.working_days_between(b, c)
    )


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(d("2026-01-05"), -1)


# --------------------------------------------------------------------------------------------
# Dates as administrators type them
# --------------------------------------------------------------------------------------------


def test_parse_day() -> None:
    assert parse_day("2027-02-20") == d("2027-02-20")
    for bad in ("2027-02-30", "2027-2-20", "20270220", "2027-W07-6", "２０２７-02-20", "", "x"):
        with pytest.raises(ValidationFailed) as caught:
            parse_day(bad)
        assert caught.value.details["fields"][0]["field"] == "date"
    with pytest.raises(CalendarYearUnsupported):
        parse_day("1999-12-31")
    with pytest.raises(CalendarYearUnsupported):
        parse_day("2100-01-01")
