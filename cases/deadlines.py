"""Deadlines of a case: the answer limit of article 32, and how a stopped clock moves the due
dates. Counted in working days on the calendar of ``core.calendar``."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from cases.models import Case
from core.calendar import WorkCalendar

log = logging.getLogger(__name__)


#: Article 32 of the Administrative Licensing Law: unanswered for this many days = accepted.
ANSWER_LIMIT_WORKING_DAYS = 5


def resume_clock(case: Case, calendar: WorkCalendar, today: date) -> dict[str, Any]:
    """The due dates move by the working days the clock stood still."""
    if case.paused_on is None:
        return {}
    stopped = max(calendar.working_days_between(case.paused_on, today), 0)
    updates: dict[str, Any] = {
        "paused_on": None,
        "paused_working_days": case.paused_working_days + stopped,
    }
    if case.statutory_due_on is not None:
        updates["statutory_due_on"] = calendar.add_working_days(case.statutory_due_on, stopped)
    if case.promised_due_on is not None:
        updates["promised_due_on"] = calendar.add_working_days(case.promised_due_on, stopped)
    return updates
