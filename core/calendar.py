"""Working days (工作日): the unit of every legal time limit.

Three sources, in this order of precedence:

1. administrator overrides (``CalendarOverride``): the State Council's notice for a year the
   package does not know yet, or a local change;
2. ``chinesecalendar``, which carries the official holidays and make-up working days (调休) of the
   years it covers (up to 2026 in version 1.11);
3. for a year neither covers, a rule: Monday to Friday are working days, except the statutory
   public holidays whose dates are fixed by the calendar (``fallback_holidays``). Make-up working
   days cannot be guessed; the overrides supply them when the notice is published.

Periods follow the civil rule: the day an event happens is not counted, so "5 working days from
acceptance" ends on the fifth working day after the day of acceptance.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

#: Public holidays by the 2024 revision of 全国年节及纪念日放假办法 that fall on fixed solar dates.
#: The lunar ones (Spring Festival, Qingming, Dragon Boat, Mid-Autumn) are listed per year in
#: ``_LUNAR_HOLIDAYS`` for the years after the package's data ends.
_SOLAR_HOLIDAYS: tuple[tuple[int, int], ...] = (
    (1, 1),  # 元旦
    (5, 1),
    (5, 2),  # 劳动节
    (10, 1),
    (10, 2),
    (10, 3),  # 国庆节
)

#: Lunar-calendar holidays in Gregorian dates: Spring Festival eve and the first three days,
#: Qingming, Dragon Boat, Mid-Autumn. Years beyond these fall back to weekends and solar holidays.
_LUNAR_HOLIDAYS: dict[int, tuple[date, ...]] = {
    2027: (
        date(2027, 2, 5),
        date(2027, 2, 6),
        date(2027, 2, 7),
        date(2027, 2, 8),  # 除夕、春节
        date(2027, 4, 5),  # 清明
        date(2027, 6, 9),  # 端午
        date(2027, 9, 15),  # 中秋
    ),
    2028: (
        date(2028, 1, 25),
        date(2028, 1, 26),
        date(2028, 1, 27),
        date(2028, 1, 28),
        date(2028, 4, 4),
        date(2028, 5, 28),
        date(2028, 10, 3),
    ),
}

_PACKAGE_YEARS = range(2004, max(chinese_calendar.holidays).year + 1)


def fallback_holidays(year: int) -> frozenset[date]:
    solar = {date(year, month, day) for month, day in _SOLAR_HOLIDAYS}
    return frozenset(solar | set(_LUNAR_HOLIDAYS.get(year, ())))


def package_covers(year: int) -> bool:
    return year in _PACKAGE_YEARS


@dataclass(frozen=True)
class WorkCalendar:
    """A snapshot of the calendar: the package's data plus the overrides read at one moment."""

    overrides: dict[date, bool] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override
        if package_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5 and day not in fallback_holidays(day.year)

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted); ``start``
        when ``days`` is 0."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``: how many the clock consumed from one to the other;
        negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        """Years neither the package nor any override speaks for: the operator should load the
        State Council's notice for them (``zhangban calendar set``)."""
        with_overrides = {day.year for day in self.overrides}
        return [y for y in years if not package_covers(y) and y not in with_overrides]


class CalendarSource:
    """Per-worker snapshot of the overrides, re-read at most every ``ttl_s`` seconds or at once
    after ``invalidate`` (an administrator's change on this worker)."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self._ttl_s = ttl_s
        self._calendar: WorkCalendar | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        self._calendar = None

    async def get(self) -> WorkCalendar:
        now = time.monotonic()
        if self._calendar is None or now - self._loaded_at > self._ttl_s:
            from core.models import CalendarOverride

            rows = await CalendarOverride.all().values_list("day", "is_workday")
            self._calendar = WorkCalendar(overrides={day: bool(flag) for day, flag in rows})
            self._loaded_at = now
        return self._calendar


calendar_source = CalendarSource()
