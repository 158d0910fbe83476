"""The statistics handler behind the predicted completion date: decisions delivered through the
outbox by the server's own worker fill the item's histogram, and once enough cases finished
quickly the date a phone shows moves before the promised one."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sanic import Sanic

from cases.handlers import record_duration
from cases.models import Case, CaseEvent, ItemDurationStats
from cases.views import PREDICTION_MIN_CASES
from core.calendar import calendar_source
from core.models import OutboxEvent
from tests.cases_flow import Scene, pass_step
from tests.oversight_flow import accepted, denied


async def _delivered(app: Sanic, item_code: str, count: int, timeout_s: float = 60.0) -> None:
    """Wait for the in-process worker to have counted ``count`` decisions of the item."""
    app.ctx.worker.start()  # running already unless a test stopped it; then again
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        stats = await ItemDurationStats.get_or_none(item_code=item_code)
        if stats is not None and stats.count >= count:
            return
        app.ctx.worker.wake()
        await asyncio.sleep(0.2)
    raise AssertionError(f"{item_code}: {count} decisions not counted within {timeout_s} s")


async def test_quick_decisions_bring_the_predicted_date_forward(scene: Scene, clean: Sanic) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    item = cat.paid_item

    # Decided the day they were accepted: 0 working days each, granted and denied alike.
    for index in range(PREDICTION_MIN_CASES):
        if index % 2:
            await denied(person, cat, staff)
        else:
            case_id = await accepted(person, cat, staff, item)
            assert (await pass_step(staff.reviewer, case_id)).json()["status"] == "fee_due"
    await _delivered(clean, item, PREDICTION_MIN_CASES)
    stats = await ItemDurationStats.get(item_code=item)
    assert (stats.count, stats.histogram) == (PREDICTION_MIN_CASES, {"0": PREDICTION_MIN_CASES})

    waiting = await accepted(person, cat, staff, item)
    detail = (await person.call("GET", f"/api/v1/cases/{waiting}")).json()
    assert detail["predicted_on"] == detail["accepted_on"]
    assert date.fromisoformat(detail["predicted_on"]) < date.fromisoformat(
        detail["promised_due_on"]
    )

    # A redelivery (a worker that died before recording its success) counts nothing twice.
    event = await OutboxEvent.filter(topic="case.deny").order_by("id").first()
    assert event is not None
    await record_duration(event.id, event.topic, event.payload)
    assert (await ItemDurationStats.get(item_code=item)).count == PREDICTION_MIN_CASES


async def test_the_duration_counts_working_days_less_the_clock_stops(
    scene: Scene, clean: Sanic
) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    await clean.ctx.worker.stop()  # this test delivers by hand
    try:
        case_id = await denied(person, cat, staff)
        case = await Case.get(id=case_id)
        assert case.decided_at is not None
        calendar = await calendar_source.get()
        decided_on = (case.decided_at + timedelta(hours=8)).date()
        # Arrangement: accepted twelve working days before the decision, stopped for five.
        accepted_on = decided_on
        while calendar.working_days_between(accepted_on, decided_on) < 12:
            accepted_on -= timedelta(days=1)
        await Case.filter(id=case_id).update(accepted_on=accepted_on, paused_working_days=5)
        event = await OutboxEvent.get(topic="case.deny")

        await record_duration(event.id, "case.refuse", event.payload)  # not a decision topic
        assert await ItemDurationStats.get_or_none(item_code=cat.paid_item) is None

        await record_duration(event.id, event.topic, event.payload)
        stats = await ItemDurationStats.get(item_code=cat.paid_item)
        assert (stats.count, stats.histogram) == (1, {"7": 1})
        await record_duration(event.id, event.topic, event.payload)
        assert (await ItemDurationStats.get(item_code=cat.paid_item)).count == 1
        marker = await CaseEvent.get(case_id=case_id, action="duration_recorded")
        assert marker.details == {"internal": True, "event_id": event.id, "working_days": 7}
    finally:
        if clean.ctx.settings.worker_runs_in_process:
            clean.ctx.worker.start()


async def test_concurrent_decisions_of_one_item_are_all_counted(scene: Scene, clean: Sanic) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    await clean.ctx.worker.stop()
    try:
        for _ in range(4):
            await denied(person, cat, staff)
        events = await OutboxEvent.filter(topic="case.deny").order_by("id")
        await asyncio.gather(*(record_duration(e.id, e.topic, e.payload) for e in events))
        stats = await ItemDurationStats.get(item_code=cat.paid_item)
        assert (stats.count, sum(stats.histogram.values())) == (4, 4)
    finally:
        if clean.ctx.settings.worker_runs_in_process:
            clean.ctx.worker.start()
