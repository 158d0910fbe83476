"""Outbox handlers of case events (registered by the composition root, ``api/wiring.py``).

``record_duration`` keeps ``ItemDurationStats``: for every decision (``case.grant``,
``case.deny``) the working days the case took from acceptance to the decision day, less the
working days its clock stood still, go into the item's histogram. ``cases.views.predicted_on``
reads it.

Delivery is at least once. The worker's ``done_handlers`` already keeps a handler from running
twice for one event, except when the worker dies between the handler's commit and recording
it; so the handler also writes an internal timeline line ``duration_recorded`` in the same
transaction as the histogram, and counts a case only when that line is not there yet. The
histogram row is updated as a compare-and-set on ``count`` (its version): concurrent workers
counting cases of the same item retry instead of losing an increment, on SQLite and PostgreSQL
alike.
"""

from __future__ import annotations

import logging
from typing import Any

from tortoise.exceptions import IntegrityError

from cases.kernel import SYSTEM, note
from cases.models import Case, CaseEvent, ItemDurationStats
from core.calendar import calendar_source
from core.clock import local_today, utcnow
from core.db import in_transaction
from core.worker import Registry

log = logging.getLogger(__name__)

DURATION_TOPICS = ("case.grant", "case.deny")
MARKER = "duration_recorded"
_MAX_TRIES = 20


class _Retry(Exception):
    """The row changed under us: roll back and read it again."""


async def record_duration(event_id: int, topic: str, payload: dict[str, Any]) -> None:
    if topic not in DURATION_TOPICS:
        return
    case = await Case.get_or_none(id=int(payload.get("case_id") or 0))
    if case is None or case.accepted_on is None or case.decided_at is None:
        log.warning(
            "duration not recorded: case without acceptance or decision",
            extra={"event_id": event_id, "case_id": payload.get("case_id")},
        )
        return
    calendar = await calendar_source.get()
    decided_on = local_today(case.decided_at)
    days = max(
        calendar.working_days_between(case.accepted_on, decided_on) - case.paused_working_days, 0
    )
    for _ in range(_MAX_TRIES):
        try:
            await _add(case, days, event_id)
            return
        except (_Retry, IntegrityError):
            continue
    raise RuntimeError(f"duration of case {case.id} not recorded: too much contention")


async def _add(case: Case, days: int, event_id: int) -> None:
    async with in_transaction() as conn:
        if (
            await CaseEvent.filter(case_id=case.id, action=MARKER).using_db(conn).exists()
        ):  # counted already (a redelivery)
            return
        stats = await ItemDurationStats.filter(item_code=case.item_code).using_db(conn).first()
        if stats is None:
            # A concurrent first case of the item makes this fail on the unique code: retry.
            await ItemDurationStats.create(
                item_code=case.item_code, count=1, histogram={str(days): 1}, using_db=conn
            )
        else:
            histogram = dict(stats.histogram or {})
            histogram[str(days)] = int(histogram.get(str(days), 0)) + 1
            moved = (
                await ItemDurationStats.filter(id=stats.id, count=stats.count)
                .using_db(conn)
                .update(count=stats.count + 1, histogram=histogram, updated_at=utcnow())
            )
            if not moved:
                raise _Retry()
        await note(
            conn,
            case,
            MARKER,
            SYSTEM,
            details={"internal": True, "event_id": event_id, "working_days": days},
            now=utcnow(),
        )


def register(registry: Registry) -> None:
    """The case handlers of a worker; names are recorded in ``done_handlers``: never rename."""
    registry.register_handler("case.grant", "cases.duration.grant", record_duration)
    registry.register_handler("case.deny", "cases.duration.deny", record_duration)
