"""The current moment, in one place: every use case takes ``now`` from its caller, and callers
take it from here, so tests can pass any moment they need.

Every day-based rule (working-day limits, daily attempt counts, ages, mandates' end dates) is
counted in China's local date of that moment: ``local_today``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

#: China Standard Time has no daylight saving: a fixed UTC+8.
CHINA = timedelta(hours=8)
#: The same offset as a time zone, for showing a moment as people in China read it.
LOCAL_TZ = timezone(CHINA, "CST")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today(now: datetime) -> date:
    """The date in China (UTC+8) at ``now``."""
    return (now.astimezone(UTC) + CHINA).date()


def local_time(now: datetime) -> datetime:
    """``now`` on China's clock (UTC+8)."""
    return now.astimezone(LOCAL_TZ)
