"""Scheduled jobs of the cases context, run by the outbox worker (one instance at a time)."""

from __future__ import annotations

from typing import Any

from cases.prereview import auto_accept_overdue
from core.clock import utcnow

#: How often article 32 is applied: a case is due for auto-acceptance on a whole day, so a
#: quarter of an hour's delay is immaterial, and a run finds nothing most of the time.
ARTICLE32_INTERVAL_S = 900
BATCH = 500


async def article32_auto_acceptance() -> dict[str, Any]:
    """Accept every submission left unanswered past its fifth working day (article 32 of the
    Administrative Licensing Law)."""
    total = 0
    while True:
        batch = await auto_accept_overdue(now=utcnow(), limit=BATCH)
        total += len(batch)
        if len(batch) < BATCH:
            return {"accepted": total}
