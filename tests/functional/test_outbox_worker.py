"""The outbox worker against the real database of the run (SQLite, or PostgreSQL and Redis).

The application's own in-process worker is stopped for these tests (and started again after), so
the workers built here are the only ones claiming events. Their clock is a ``FakeClock``: leases,
backoff and job intervals are driven by moving time, not by sleeping.

Covered: claiming and delivery to every matching handler, per-handler success kept across a
retry, backoff bounds, the dead state with a redacted error, replay through the admin API (and
its permission and envelope), cursor paging of the listing, lease take-over after a worker
stops, a graceful stop in the middle of a batch, scheduled jobs (one instance at a time, interval
kept across restarts), two workers claiming concurrently without delivering any event twice,
and the server's own in-process worker.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sanic import Sanic

from core.db import in_transaction
from core.models import OutboxEvent
from core.outbox import emit
from core.worker import (
    RedisJobState,
    Registry,
    Worker,
    WorkerConfig,
    backoff_ceiling_s,
)
from tests.functional.test_http_edge import assert_envelope
from tests.staff import StaffMember, staff_member

PROFILE = os.environ.get("ZB_TEST_PROFILE", "embedded")
_seq = itertools.count(1)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Recorder:
    """Handlers that record each call; ``fail`` makes a handler raise a number of times."""

    calls: list[tuple[str, int]] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)
    error: str = "platform said no"

    def handler(self, name: str) -> Any:
        async def handle(event_id: int, topic: str, payload: dict[str, Any]) -> None:
            self.calls.append((name, event_id))
            await asyncio.sleep(0)  # let concurrent workers interleave
            if self.fail.get(name, 0) > 0:
                self.fail[name] -= 1
                raise RuntimeError(self.error)

        return handle

    def count(self, name: str, event_id: int) -> int:
        return self.calls.count((name, event_id))


def recording() -> tuple[Recorder, Registry]:
    """A registry whose one handler, ``h`` for every ``case.*`` event, records its calls; and
    its recorder."""
    rec = Recorder()
    registry = Registry()
    registry.register_handler("case.*", "h", rec.handler("h"))
    return rec, registry


@pytest.fixture
async def paused(clean: Sanic) -> AsyncIterator[Sanic]:
    """The application with its in-process worker stopped (started again afterwards)."""
    await clean.ctx.worker.stop()
    yield clean
    await clean.ctx.worker.stop()
    if clean.ctx.settings.worker_runs_in_process:
        clean.ctx.worker.start()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_worker(
    app: Sanic,
    registry: Registry,
    clock: FakeClock,
    *,
    name: str | None = None,
    state_key: str = "test:jobs",
    **config: Any,
) -> Worker:
    settings = {
        "batch_size": 10,
        "poll_s": 0.05,
        "lease_s": 30.0,
        "handler_timeout_s": 5.0,
        "max_attempts": 3,
        "backoff_base_s": 10.0,
        "backoff_max_s": 1000.0,
    } | config
    return Worker(
        registry=registry,
        redis=app.ctx.redis,
        job_state=RedisJobState(app.ctx.redis, key=state_key),
        config=WorkerConfig(**settings),
        worker_id=name or f"test-worker-{next(_seq)}",
        clock=clock,
    )


async def row(event_id: int) -> OutboxEvent:
    return await OutboxEvent.get(id=event_id)


async def events(topic: str, n: int, **payload: Any) -> list[int]:
    return [(await emit(topic, {"n": i, **payload})).id for i in range(n)]


# --------------------------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------------------------


async def test_emit_commits_and_rolls_back_with_the_state_change(paused: Sanic) -> None:
    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            await emit("case.submitted", {"case_id": 1}, using_db=conn)
            raise RuntimeError("the state change failed")
    assert await OutboxEvent.all().count() == 0
    async with in_transaction() as conn:
        await emit("case.submitted", {"case_id": 2}, using_db=conn)
    assert [e.payload for e in await OutboxEvent.all()] == [{"case_id": 2}]


async def test_every_matching_handler_gets_each_event_once(paused: Sanic, clock: FakeClock) -> None:
    rec = Recorder()
    registry = Registry()
    registry.register_handler("case.*", "all-cases", rec.handler("all-cases"))
    registry.register_handler("case.decided", "decided", rec.handler("decided"))
    registry.register_handler("payment.*", "payments", rec.handler("payments"))
    decided = (await emit("case.decided", {"case_id": 1})).id
    submitted = (await emit("case.submitted", {"case_id": 1})).id
    unheard = (await emit("nobody.listens", {})).id
    worker = make_worker(paused, registry, clock)

    assert await worker.run_once() == 3
    assert rec.calls == [("all-cases", decided), ("decided", decided), ("all-cases", submitted)]
    for event_id, done in [
        (decided, ["all-cases", "decided"]),
        (submitted, ["all-cases"]),
        (unheard, []),
    ]:
        event = await row(event_id)
        assert event.status == "delivered" and event.done_handlers == done
        assert event.delivered_at is not None and event.attempts == 1
        assert event.locked_by == "" and event.locked_until is None
    assert await worker.run_once() == 0  # nothing is delivered twice
    assert len(rec.calls) == 3


async def test_a_retry_runs_only_the_handlers_that_have_not_succeeded(
    paused: Sanic, clock: FakeClock
) -> None:
    rec = Recorder(fail={"wechat": 1})
    registry = Registry()
    registry.register_handler("case.*", "inbox", rec.handler("inbox"))
    registry.register_handler("case.*", "wechat", rec.handler("wechat"))
    registry.register_handler("case.*", "sms", rec.handler("sms"))
    event_id = (await emit("case.accepted", {"case_id": 7})).id
    worker = make_worker(paused, registry, clock)

    await worker.run_once()
    event = await row(event_id)
    assert event.status == "pending" and event.attempts == 1
    assert event.done_handlers == ["inbox"]  # recorded at once, before the failure
    assert event.last_error == "wechat: RuntimeError: platform said no"
    wait = (event.available_at - clock.now).total_seconds()
    assert 0 <= wait <= backoff_ceiling_s(1, base_s=10, cap_s=1000)
    assert rec.calls == [("inbox", event_id), ("wechat", event_id)]

    if wait > 0.001:
        clock.advance(wait - 0.001)
        assert await worker.run_once() == 0  # not due yet
    clock.advance(0.01)
    assert await worker.run_once() == 1
    event = await row(event_id)
    assert event.status == "delivered" and event.attempts == 2
    assert event.done_handlers == ["inbox", "wechat", "sms"]
    assert rec.count("inbox", event_id) == 1  # never twice
    assert rec.count("wechat", event_id) == 2 and rec.count("sms", event_id) == 1


async def test_backoff_then_dead_with_an_error_that_shows_no_identifier(
    paused: Sanic, clock: FakeClock
) -> None:
    rec = Recorder(
        fail={"wechat": 99},
        error="user 110101199003078515 phone 13912345678 "
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2ln",
    )
    registry = Registry()
    registry.register_handler("case.*", "wechat", rec.handler("wechat"))
    event_id = (await emit("case.decided", {"case_id": 3})).id
    worker = make_worker(paused, registry, clock, max_attempts=4, backoff_base_s=10)

    for attempt in range(1, 4):
        assert await worker.run_once() == 1
        event = await row(event_id)
        assert event.status == "pending" and event.attempts == attempt
        wait = (event.available_at - clock.now).total_seconds()
        assert 0 <= wait <= backoff_ceiling_s(attempt, base_s=10, cap_s=1000) + 1e-6
        clock.advance(wait + 0.001)
    assert await worker.run_once() == 1
    event = await row(event_id)
    assert event.status == "dead" and event.attempts == 4 and event.dead_at is not None
    assert event.locked_by == "" and event.locked_until is None
    assert "110101********8515" in event.last_error and "1101011990030785" not in event.last_error
    assert "1391234" not in event.last_error and "eyJhbGci" not in event.last_error
    clock.advance(10_000)
    assert await worker.run_once() == 0  # dead stays dead until replayed
    assert rec.count("wechat", event_id) == 4


async def test_a_hanging_handler_times_out_and_is_retried(paused: Sanic, clock: FakeClock) -> None:
    async def hang(event_id: int, topic: str, payload: dict[str, Any]) -> None:
        await asyncio.sleep(3600)

    registry = Registry()
    registry.register_handler("case.*", "hangs", hang)
    event_id = (await emit("case.decided", {})).id
    worker = make_worker(paused, registry, clock, handler_timeout_s=0.05)
    await worker.run_once()
    event = await row(event_id)
    assert event.status == "pending" and event.last_error == "hangs: TimeoutError"


# --------------------------------------------------------------------------------------------
# Leases, crashes and stopping
# --------------------------------------------------------------------------------------------


async def test_a_stopped_workers_events_are_taken_over_when_its_lease_runs_out(
    paused: Sanic, clock: FakeClock
) -> None:
    rec, registry = recording()
    ids = await events("case.submitted", 3)
    dying = make_worker(paused, registry, clock, name="dying", lease_s=30)
    survivor = make_worker(paused, registry, clock, name="survivor", lease_s=30)

    claimed = await dying.claim_batch()  # ... and then the process is killed
    assert [e.id for e in claimed] == ids
    assert {(await row(i)).locked_by for i in ids} == {"dying"}
    assert await survivor.run_once() == 0  # leased: not claimable
    clock.advance(29)
    assert await survivor.run_once() == 0
    clock.advance(2)
    assert await survivor.run_once() == 3
    assert rec.calls == [("h", i) for i in ids]
    for i in ids:
        event = await row(i)
        assert event.status == "delivered" and event.attempts == 2

    # The stalled worker comes back to life: its writes are refused, the event stays settled.
    assert await dying.deliver(claimed[0]) == "lost"
    assert (await row(ids[0])).status == "delivered"


async def test_a_worker_keeps_its_lease_while_it_works(paused: Sanic, clock: FakeClock) -> None:
    registry = Registry()
    ids = await events("case.submitted", 2)
    worker = make_worker(paused, registry, clock, lease_s=30)
    other = make_worker(paused, registry, clock)
    await worker.claim_batch()
    clock.advance(25)
    assert await worker.extend_leases() == 2  # the heartbeat
    clock.advance(25)
    assert await other.claim_batch() == []
    assert {(await row(i)).locked_by for i in ids} == {worker.id}


async def test_the_last_attempt_cut_short_by_a_crash_ends_dead(
    paused: Sanic, clock: FakeClock
) -> None:
    rec, registry = recording()
    event_id = (await emit("case.submitted", {})).id
    crashing = make_worker(paused, registry, clock, max_attempts=2, lease_s=10)
    for _ in range(2):  # killed during each attempt
        assert len(await crashing.claim_batch()) == 1
        clock.advance(11)
    await make_worker(paused, registry, clock, max_attempts=2).run_once()
    event = await row(event_id)
    assert event.status == "dead" and "stopped during the last allowed attempt" in event.last_error
    assert rec.calls == []


async def test_stop_finishes_the_current_event_and_gives_the_rest_back(
    paused: Sanic, clock: FakeClock
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    delivered: list[int] = []

    async def slow(event_id: int, topic: str, payload: dict[str, Any]) -> None:
        started.set()
        await release.wait()
        delivered.append(event_id)

    registry = Registry()
    registry.register_handler("case.*", "slow", slow)
    ids = await events("case.submitted", 4)
    worker = make_worker(paused, registry, clock)
    run = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 10)
    worker.stop()  # what SIGTERM does
    await asyncio.sleep(0.05)
    assert not run.done()  # the current event is finishing
    release.set()
    await asyncio.wait_for(run, 10)

    assert delivered == ids[:1]
    assert (await row(ids[0])).status == "delivered"
    for i in ids[1:]:
        event = await row(i)
        # given back: claimable at once by anyone, no attempt spent
        assert event.status == "pending" and event.attempts == 0 and event.locked_by == ""


# --------------------------------------------------------------------------------------------
# Several workers
# --------------------------------------------------------------------------------------------


async def test_two_workers_claiming_concurrently_never_deliver_an_event_twice(
    paused: Sanic, clock: FakeClock
) -> None:
    rec, registry = recording()
    ids = await events("case.submitted", 120)
    workers = [make_worker(paused, registry, clock, batch_size=7) for _ in range(2)]
    by_worker: Counter[str] = Counter()

    async def loop(worker: Worker) -> None:
        idle = 0
        while idle < 3:
            settled = await worker.run_once()
            by_worker[worker.id] += settled
            idle = idle + 1 if settled == 0 else 0

    await asyncio.wait_for(asyncio.gather(*(loop(w) for w in workers)), 120)

    deliveries = Counter(event_id for _, event_id in rec.calls)
    assert set(deliveries) == set(ids)
    assert max(deliveries.values()) == 1, [i for i, n in deliveries.items() if n > 1]
    assert sum(by_worker.values()) == len(ids)
    assert await OutboxEvent.filter(status="delivered", attempts=1).count() == len(ids)
    if PROFILE == "postgres":
        # SKIP LOCKED: both made progress side by side, neither waited for the other's batch.
        assert all(by_worker[w.id] > 0 for w in workers), by_worker


# --------------------------------------------------------------------------------------------
# Scheduled jobs
# --------------------------------------------------------------------------------------------


async def test_a_job_runs_once_per_interval_across_workers_and_restarts(
    paused: Sanic, clock: FakeClock
) -> None:
    runs: list[str] = []
    gate = asyncio.Event()

    async def job() -> dict[str, int]:
        runs.append("ran")
        await gate.wait()
        return {"deleted": 0}

    def worker(name: str) -> Worker:
        registry = Registry()
        registry.register_job("sweep", 60, job)
        return make_worker(paused, registry, clock, name=name, state_key="test:jobs:sweep")

    a, b = worker("a"), worker("b")
    assert await a.run_due_jobs() == []  # a new job starts counting now
    clock.advance(61)

    first = asyncio.create_task(a.run_due_jobs())
    await asyncio.sleep(0.05)
    assert runs == ["ran"]
    assert await b.run_due_jobs() == []  # a holds the lock: b does not run it beside a
    gate.set()
    assert await first == ["sweep"]
    assert await b.run_due_jobs() == []  # and b sees the run a just recorded

    clock.advance(30)
    restarted = worker("a-restarted")
    assert await restarted.run_due_jobs() == []  # the interval holds across a restart
    clock.advance(31)
    assert await restarted.run_due_jobs() == ["sweep"]
    assert runs == ["ran", "ran"]


async def test_a_failing_job_waits_for_its_next_interval(paused: Sanic, clock: FakeClock) -> None:
    calls: list[int] = []

    async def broken() -> None:
        calls.append(1)
        raise RuntimeError("disk full")

    registry = Registry()
    registry.register_job("broken", 60, broken)
    worker = make_worker(paused, registry, clock, state_key="test:jobs:broken")
    await worker.run_due_jobs()
    clock.advance(61)
    assert await worker.run_due_jobs() == ["broken"]
    assert await worker.run_due_jobs() == []
    assert calls == [1]


# --------------------------------------------------------------------------------------------
# Dead letters through the admin API
# --------------------------------------------------------------------------------------------


async def admin(app: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient) -> StaffMember:
    return await staff_member(app, client, sandbox, department_code="DEPT-OPS", roles=["admin"])


async def kill(worker: Worker, clock: FakeClock, event_id: int) -> None:
    """Drive an event to ``dead`` (its handlers fail ``max_attempts`` times)."""
    for _ in range(worker.config.max_attempts):
        clock.advance(worker.config.backoff_max_s + 1)
        await worker.run_once()
    assert (await row(event_id)).status == "dead"


async def test_an_admin_lists_dead_letters_and_replays_one(
    paused: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient, clock: FakeClock
) -> None:
    rec = Recorder(fail={"wechat": 3})
    registry = Registry()
    registry.register_handler("case.*", "inbox", rec.handler("inbox"))
    registry.register_handler("case.*", "wechat", rec.handler("wechat"))
    event_id = (await emit("case.decided", {"case_id": 9, "phone": "13912345678"})).id
    fine = (await emit("other.submitted", {"case_id": 10})).id  # no handler: delivered
    worker = make_worker(paused, registry, clock, max_attempts=3)
    await kill(worker, clock, event_id)
    ops = await admin(paused, client, sandbox)

    listed = await ops.call("GET", "/api/v1/admin/outbox", params={"status": "dead"})
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [e["id"] for e in page["events"]] == [event_id] and page["next_cursor"] is None
    dead = page["events"][0]
    assert dead["status"] == "dead" and dead["attempts"] == 3
    assert dead["done_handlers"] == ["inbox"] and dead["dead_at"]
    assert dead["last_error"] == "wechat: RuntimeError: platform said no"
    assert dead["payload"] == {"case_id": 9, "phone": "139****5678"}  # masked like a log line
    everything = await ops.call("GET", "/api/v1/admin/outbox")
    assert [e["id"] for e in everything.json()["events"]] == [fine, event_id]

    replayed = await ops.call("POST", f"/api/v1/admin/outbox/{event_id}/replay")
    assert replayed.status_code == 200, replayed.text
    body = replayed.json()
    assert body["status"] == "pending" and body["attempts"] == 0 and body["dead_at"] is None
    assert body["done_handlers"] == ["inbox"]  # kept: inbox is not run again
    assert_envelope(
        await ops.call("POST", f"/api/v1/admin/outbox/{event_id}/replay"),
        409,
        "outbox.event_not_dead",
    )
    assert_envelope(
        await ops.call("POST", "/api/v1/admin/outbox/999999/replay"), 404, "outbox.event_not_found"
    )

    await worker.run_once()
    event = await row(event_id)
    assert event.status == "delivered" and event.done_handlers == ["inbox", "wechat"]
    assert rec.count("inbox", event_id) == 1 and rec.count("wechat", event_id) == 4


async def test_only_admins_see_the_outbox(
    paused: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    event_id = (await emit("case.decided", {})).id
    await OutboxEvent.filter(id=event_id).update(status="dead")
    clerk = await staff_member(
        paused, client, sandbox, department_code="DEPT-OPS", roles=["clerk", "catalog_admin"]
    )
    for method, path in [
        ("GET", "/api/v1/admin/outbox?status=dead"),
        ("GET", f"/api/v1/admin/outbox/{event_id}"),
        ("POST", f"/api/v1/admin/outbox/{event_id}/replay"),
    ]:
        assert_envelope(await clerk.call(method, path), 403, "auth.forbidden")
        assert_envelope(await client.request(method, path), 401, "auth.token_missing")
    assert (await row(event_id)).status == "dead"  # unchanged by the refused replay
    # An admin of any department: the outbox belongs to no one department.
    other = await staff_member(paused, client, sandbox, department_code="DEPT-X", roles=["admin"])
    assert (await other.call("GET", f"/api/v1/admin/outbox/{event_id}")).status_code == 200


async def test_the_listing_pages_with_a_cursor_bound_to_its_filters(
    paused: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    ids = await events("case.decided", 5)
    await OutboxEvent.filter(id__in=ids).update(status="dead")
    await emit("case.decided", {})  # pending: not in the dead listing
    ops = await admin(paused, client, sandbox)

    seen: list[int] = []
    cursor = None
    for expected in (2, 2, 1):
        params = {"status": "dead", "limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await ops.call("GET", "/api/v1/admin/outbox", params=params)).json()
        assert len(page["events"]) == expected
        seen += [e["id"] for e in page["events"]]
        cursor = page["next_cursor"]
    assert cursor is None and seen == sorted(ids, reverse=True)

    first = (await ops.call("GET", "/api/v1/admin/outbox?status=dead&limit=2")).json()
    wrong = await ops.call(
        "GET", "/api/v1/admin/outbox", params={"status": "pending", "cursor": first["next_cursor"]}
    )
    assert_envelope(wrong, 400, "request.validation_failed")
    assert_envelope(
        await ops.call("GET", "/api/v1/admin/outbox?status=lost"), 400, "request.validation_failed"
    )
    assert_envelope(
        await ops.call("GET", "/api/v1/admin/outbox?limit=1000"), 400, "request.validation_failed"
    )


# --------------------------------------------------------------------------------------------
# The server's own worker (embedded profile)
# --------------------------------------------------------------------------------------------


async def test_the_in_process_worker_delivers_without_help(clean: Sanic) -> None:
    runner = clean.ctx.worker
    if not clean.ctx.settings.worker_runs_in_process:
        pytest.skip("this server runs no worker of its own")
    await runner.stop()
    worker = runner.start()
    got: list[int] = []

    async def handle(event_id: int, topic: str, payload: dict[str, Any]) -> None:
        got.append(event_id)

    worker.registry.register_handler("probe.*", "in-process-probe", handle)
    try:
        event_id = (await emit("probe.ping", {})).id
        for _ in range(100):
            if (await row(event_id)).status == "delivered":
                break
            await asyncio.sleep(0.05)
        assert got == [event_id]
        assert (await row(event_id)).status == "delivered"
        assert "cleanup" in [j.name for j in worker.registry.jobs]
    finally:
        await runner.stop()  # a fresh registry, without the probe, for the tests after this one
        runner.start()
