"""Working days (工作日): the unit of every legal time limit.

Three sources, in this order of precedence:

1. administrator overrides (``CalendarOverride``): the State Council's notice for a year the
   package does not know yet, or a local change;
2. ``chinesecalendar``, which carries the official holidays and make-up working days (调休) of the
   years it covers (up to 2026 in version 1.11);
3. for a year neither covers, a rule: Monday to Friday are working days, except the statutory
   public holidays whose dates the calendar fixes (``fallback_holidays``): the solar ones by
   their month and day, the lunar ones computed for the year by ``lunar_python``, Qingming from
   its solar term. Two things the rule cannot know: the make-up working days and the bridging
   days off the State Council arranges each year (调休), and which working day replaces a holiday
   that falls on a weekend (放假办法 art. 6 says one is given, not which). The overrides supply
   both when the notice is published; until then the rule counts fewer days off than the notice
   will, so a deadline it computes is never later than the real one.

Periods follow the civil rule: the day an event happens is not counted, so "5 working days from
acceptance" ends on the fifth working day after the day of acceptance.

Every server worker keeps a snapshot of the overrides (``calendar_source``), re-read at most
every 60 s; a change made through this module drops the snapshot of the process that made it at
once, so other workers (and servers, after a change from the command line) follow within that
time.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Literal

import chinese_calendar
from lunar_python import Lunar
from tortoise.exceptions import IntegrityError

from core.errors import DomainError, NotFound, ValidationFailed, field_error
from core.models import CalendarOverride

log = logging.getLogger("zhangban.calendar")

Source = Literal["override", "package", "rule"]

#: Public holidays by the 2024 revision of 全国年节及纪念日放假办法 (in force from 2025) that fall
#: on fixed solar dates, with their names.
_SOLAR_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "元旦"),
    (5, 1, "劳动节"),
    (5, 2, "劳动节"),
    (10, 1, "国庆节"),
    (10, 2, "国庆节"),
    (10, 3, "国庆节"),
)

_PACKAGE_YEARS = range(2004, max(chinese_calendar.holidays).year + 1)

#: Years the calendar answers for at all (the administration API and CLI refuse others): wide
#: enough for any case, narrow enough that a typo such as 20277 is caught.
MIN_YEAR = 2000
MAX_YEAR = 2099
NOTE_MAX = 100


def _gregorian(solar: Any) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _lunar(year: int, month: int, day: int) -> date:
    """The Gregorian date of a day of lunar ``year`` (never a leap month: no festival is in one)."""
    return _gregorian(Lunar.fromYmd(year, month, day).getSolar())


@cache
def _rule_holidays(year: int) -> dict[date, str]:
    """The statutory public holidays of ``year`` by the law alone, with their names.

    The lunar ones, all inside the Gregorian year of the same number: Spring Festival eve and
    the first three days of the first month, Qingming (the day of the solar term, computed
    astronomically by lunar_python), Dragon Boat (5th of the 5th month), Mid-Autumn (15th of the
    8th). Where two fall on one day (Mid-Autumn on National Day, as in 2028) the day counts once:
    the notice will add a day then, and the overrides carry it.
    """
    days = {date(year, month, day): name for month, day, name in _SOLAR_HOLIDAYS}
    new_year = _lunar(year, 1, 1)
    for offset in range(-1, 3):  # eve, 初一, 初二, 初三
        days.setdefault(new_year + timedelta(days=offset), "春节")
    qingming = _gregorian(Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"])
    days.setdefault(qingming, "清明")
    days.setdefault(_lunar(year, 5, 5), "端午")
    days.setdefault(_lunar(year, 8, 15), "中秋")
    return days


def fallback_holidays(year: int) -> frozenset[date]:
    return frozenset(_rule_holidays(year))


def package_covers(year: int) -> bool:
    return year in _PACKAGE_YEARS


def holiday_name(day: date) -> str | None:
    """The public holiday ``day`` belongs to (Chinese), by the package or the rule; ``None`` for
    ordinary days. A make-up working day names the holiday it makes up for in the package."""
    if package_covers(day.year):
        english = chinese_calendar.holidays.get(day) or chinese_calendar.workdays.get(day)
        if english is None:
            return None
        try:
            return str(chinese_calendar.Holiday(english).chinese)
        except ValueError:
            return str(english)
    return _rule_holidays(day.year).get(day)


@dataclass(frozen=True)
class WorkCalendar:
    """A snapshot of the calendar: the package's data plus the overrides read at one moment."""

    overrides: dict[date, bool] = field(default_factory=dict)
    #: answers of ``add_working_days`` for this snapshot: every row of a list asks for the
    #: same yellow-card limit (today plus N working days).
    _added: dict[tuple[date, int], date] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def is_workday(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override
        if package_covers(day.year):
            # chinese_calendar.is_workday's own rule, without its range check: that scans the
            # whole holiday table on every call, and deadlines ask day by day.
            return day in chinese_calendar.workdays or (
                day.weekday() < 5 and day not in chinese_calendar.holidays
            )
        return day.weekday() < 5 and day not in fallback_holidays(day.year)

    def source_of(self, day: date) -> Source:
        """Which source decides ``day``: an override, the package, or the rule."""
        if day in self.overrides:
            return "override"
        return "package" if package_covers(day.year) else "rule"

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted); ``start``
        when ``days`` is 0."""
        if days < 0:
            raise ValueError("days must not be negative")
        known = self._added.get((start, days))
        if known is not None:
            return known
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        if len(self._added) >= 4096:
            self._added.clear()  # a bound: a snapshot lives a minute, lists ask a few dates
        self._added[(start, days)] = current
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
            rows = await CalendarOverride.all().values_list("day", "is_workday")
            self._calendar = WorkCalendar(overrides={day: bool(flag) for day, flag in rows})
            self._loaded_at = now
        return self._calendar


calendar_source = CalendarSource()


# --------------------------------------------------------------------------------------------
# Administration: overrides, the year's overview, the coverage warning
# --------------------------------------------------------------------------------------------


class CalendarYearUnsupported(DomainError):
    status = 400
    code = "calendar.year_unsupported"
    message = f"只能查看或修改 {MIN_YEAR} 年至 {MAX_YEAR} 年的工作日历。"


class CalendarOverrideNotFound(NotFound):
    code = "calendar.override_not_found"
    message = "这一天没有人工调整，无需撤销。"


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(text: str, *, field_name: str = "date") -> date:
    """A ``YYYY-MM-DD`` date from a path or a command line, or the envelope's field error."""
    try:
        day = date.fromisoformat(text) if _ISO_DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed(
            [field_error(field_name, "日期应为 YYYY-MM-DD 格式的有效日期。", "invalid_date")]
        )
    check_year(day.year)
    return day


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarYearUnsupported(details={"min": MIN_YEAR, "max": MAX_YEAR, "year": year})


def _day_view(calendar: WorkCalendar, day: date, row: CalendarOverride | None) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "weekday": day.isoweekday(),
        "is_workday": calendar.is_workday(day),
        "source": calendar.source_of(day),
        "holiday": holiday_name(day),
        "note": row.note if row is not None else "",
        "set_by": row.created_by if row is not None else None,
        "set_at": row.created_at.isoformat() if row is not None else None,
    }


async def _overrides_of(first: date, last: date) -> dict[date, CalendarOverride]:
    rows = await CalendarOverride.filter(day__gte=first, day__lte=last).order_by("day")
    return {row.day: row for row in rows}


async def year_overview(*, year: int) -> dict[str, Any]:
    """Every day of ``year`` with its status and the source deciding it, read from the database
    now (not this worker's snapshot), so an administrator sees every worker's changes."""
    check_year(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = await _overrides_of(first, last)
    calendar = WorkCalendar(overrides={day: row.is_workday for day, row in rows.items()})
    days = [
        _day_view(calendar, first + timedelta(days=n), rows.get(first + timedelta(days=n)))
        for n in range((last - first).days + 1)
    ]
    working = sum(1 for d in days if d["is_workday"])
    return {
        "year": year,
        "base": "package" if package_covers(year) else "rule",
        "covered": not calendar.uncovered_years([year]),
        "overrides": len(rows),
        "working_days": working,
        "non_working_days": len(days) - working,
        "days": days,
    }


async def day_view(*, day: date) -> dict[str, Any]:
    """One day as the calendar decides it now (fresh from the database)."""
    rows = await _overrides_of(day, day)
    calendar = WorkCalendar(overrides={d: row.is_workday for d, row in rows.items()})
    return _day_view(calendar, day, rows.get(day))


async def set_override(
    *, day: date, is_workday: bool, note: str, actor: str, now: datetime
) -> dict[str, Any]:
    """Make ``day`` a working day or a day off whatever the package or the rule say; replaces an
    earlier override of the same day (who set it and when describe the latest change)."""
    check_year(day.year)
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            [field_error("note", f"最多 {NOTE_MAX} 个字符。", "string_too_long")]
        )
    values: dict[str, Any] = {
        "is_workday": is_workday,
        "note": note,
        "created_by": actor,
        "created_at": now,
    }
    if not await CalendarOverride.filter(day=day).update(**values):
        try:
            await CalendarOverride.create(day=day, **values)
        except IntegrityError:  # a concurrent change of the same day won the insert
            await CalendarOverride.filter(day=day).update(**values)
    calendar_source.invalidate()
    log.info(
        "calendar override set",
        extra={"day": day.isoformat(), "is_workday": is_workday, "actor": actor},
    )
    return await day_view(day=day)


async def delete_override(*, day: date, actor: str) -> dict[str, Any]:
    """Drop the override of ``day``: the package or the rule decides it again."""
    check_year(day.year)
    if not await CalendarOverride.filter(day=day).delete():
        raise CalendarOverrideNotFound(details={"date": day.isoformat()})
    calendar_source.invalidate()
    log.info("calendar override removed", extra={"day": day.isoformat(), "actor": actor})
    return await day_view(day=day)


async def warn_uncovered(*, today: date) -> list[int]:
    """Log a warning when this year or the next has neither the package's data nor any
    override: deadlines in it follow the rule, without the make-up working days. Advisory: a
    failure to read is logged, never raised (it must not stop a server from starting)."""
    try:
        calendar = await calendar_source.get()
    except Exception:
        log.exception("working-day calendar: overrides could not be read")
        return []
    uncovered = calendar.uncovered_years([today.year, today.year + 1])
    if uncovered:
        log.warning(
            "working-day calendar: no official data for %s; deadlines there follow the rule "
            "(weekdays minus statutory holidays, no make-up days) until the State Council's "
            "notice is entered with `zhangban calendar set`",
            ", ".join(map(str, uncovered)),
            extra={"uncovered_years": uncovered},
        )
    return uncovered
