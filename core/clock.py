"""The current moment, in one place: every use case takes ``now`` from its caller, and callers
take it from here, so tests can pass any moment they need.

Every day-based rule (working-day limits, daily attempt counts, ages, mandates' end dates) is
counted in China's local date of that moment: ``local_today``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

#: China Standard Time has no daylight saving: a fixed UTC+8.
CHINA = timedelta(hours=8)


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today(now: datetime) -> date:
    """The date in China (UTC+8) at ``now``."""
    return (now.astimezone(UTC) + CHINA).date()
