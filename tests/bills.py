"""A channel's daily bill exists from the next day (WeChat Pay's from 10:00 China time): how far
to move a sandbox peer's clock for today's bill to be ready, whatever hour the test runs at (a
fixed day's advance found it still "being generated" from 00:00 to 10:00 Beijing time)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta, timezone

_CHINA = timezone(timedelta(hours=8))


def seconds_until_todays_bill(now: datetime | None = None) -> int:
    """At least a day, and past 11:00 China time tomorrow."""
    now = now or datetime.now(UTC)
    tomorrow = now.astimezone(_CHINA).date() + timedelta(days=1)
    ready = datetime.combine(tomorrow, time(11), _CHINA)
    return max(86400, math.ceil((ready - now).total_seconds()))
