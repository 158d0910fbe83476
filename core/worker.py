"""The outbox worker: delivers events to their handlers, and runs the scheduled jobs.

Delivery is at least once, and effectively once per handler:

* A worker *claims* a batch of pending events whose time has come. On PostgreSQL one
  ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`` does it, so any number
  of workers claim disjoint batches without waiting on each other. On SQLite (the embedded
  profile, one worker) a compare-and-set ``UPDATE`` per row repeats the claim's condition.
* A claim is a *lease*: ``locked_by`` names the worker and ``locked_until`` ends the claim. The
  worker pushes ``locked_until`` out while it works; a worker that is killed stops doing so, and
  its events become claimable again when the lease runs out. That is the whole crash recovery:
  nothing has to notice the crash.
* Each handler that succeeds is recorded in ``done_handlers`` at once, so a retry (after a failure
  of another handler, or a crash) never runs it again for that event. The only repeat left is a
  handler that finished but died before its success was written: handlers must be idempotent by
  event id, and that is their whole contract.
* A failure is retried after an exponential backoff with full jitter (so events that failed
  together do not come back together); ``attempts`` counts claims, so an event whose delivery
  kills the worker every time also ends up ``dead`` rather than looping for ever. A dead event
  stays until an administrator replays it.

Scheduled jobs run one instance at a time across all workers (a Redis lock with an owner token),
and each job's last run is stored, so its interval holds across restarts.

This module knows no context: the composition root (``api/wiring.py``) registers the handlers and
jobs of each context in a ``Registry``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import re
import secrets
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from redis.asyncio import Redis
from tortoise import connections
from tortoise.expressions import F, Q

from core.locks import RedisLock
from core.logging import redact
from core.models import OutboxEvent
from core.queries import CLAIM_OUTBOX_SQL, SETTLE_OUTBOX_SQL, for_dialect

log = logging.getLogger("zhangban.worker")

#: ``async (event_id, topic, payload) -> None``; raising means "retry this event later".
Handler = Callable[[int, str, dict[str, Any]], Awaitable[None]]
#: ``async () -> anything``; the result is logged (keep it small: counts, not rows).
Job = Callable[[], Awaitable[Any]]
Clock = Callable[[], datetime]
#: ``async (wake) -> settled``: one pass of a context's own queue (the notify ledger); every
#: worker runs every pump, again at once while it finds work, else after ``wake`` or a poll.
Pump = Callable[[], Awaitable[int]]
Outcome = Literal["delivered", "retry", "dead", "lost"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
_TOPIC = re.compile(r"^(\*|[a-z0-9][a-z0-9_.-]*(\.\*|\*)?)$")
#: ``last_error`` is for a person reading the dead letters, not a dump.
MAX_ERROR_CHARS = 2000


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


def topic_matches(pattern: str, topic: str) -> bool:
    """``*`` matches every topic; ``case.*`` every topic under ``case.`` (not ``case`` itself);
    ``case*`` every topic starting with ``case``; anything else only itself."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        return topic.startswith(prefix) and len(topic) > len(prefix)
    if pattern.endswith("*"):
        return topic.startswith(pattern[:-1])
    return topic == pattern


@dataclass(frozen=True)
class HandlerSpec:
    topic: str
    name: str
    fn: Handler


@dataclass(frozen=True)
class JobSpec:
    name: str
    interval_s: float
    fn: Job


class Registry:
    """What a worker delivers to and what it runs on schedule.

    Handler names are stored in ``done_handlers`` of every event they handled: they must stay
    the same across releases (rename one and it runs again for events in flight).
    """

    def __init__(self) -> None:
        self._handlers: list[HandlerSpec] = []
        self._jobs: dict[str, JobSpec] = {}
        self._pumps: dict[str, tuple[Pump, asyncio.Event | None]] = {}

    def register_handler(self, topic: str, name: str, fn: Handler) -> None:
        if not _TOPIC.match(topic):
            raise ValueError(f"invalid topic pattern {topic!r} (exact, prefix.*, prefix* or *)")
        if not _NAME.match(name):
            raise ValueError(f"invalid handler name {name!r}")
        if any(h.name == name for h in self._handlers):
            raise ValueError(f"handler {name!r} is already registered")
        self._handlers.append(HandlerSpec(topic=topic, name=name, fn=fn))

    def register_job(self, name: str, interval_s: float, fn: Job) -> None:
        if not _NAME.match(name):
            raise ValueError(f"invalid job name {name!r}")
        if name in self._jobs:
            raise ValueError(f"job {name!r} is already registered")
        if interval_s <= 0:
            raise ValueError("a job's interval must be positive")
        self._jobs[name] = JobSpec(name=name, interval_s=float(interval_s), fn=fn)

    def register_pump(self, name: str, fn: Pump, *, wake: asyncio.Event | None = None) -> None:
        """A queue of a context's own that every worker drains concurrently (its rows are
        claimed with ``SKIP LOCKED``, like events). ``wake`` lets work published in this
        process start at once instead of at the next poll."""
        if not _NAME.match(name):
            raise ValueError(f"invalid pump name {name!r}")
        if name in self._pumps:
            raise ValueError(f"pump {name!r} is already registered")
        self._pumps[name] = (fn, wake)

    @property
    def pumps(self) -> dict[str, tuple[Pump, asyncio.Event | None]]:
        return dict(self._pumps)

    def handlers_for(self, topic: str) -> list[HandlerSpec]:
        """The handlers of ``topic``, in registration order."""
        return [h for h in self._handlers if topic_matches(h.topic, topic)]

    @property
    def handlers(self) -> list[HandlerSpec]:
        return list(self._handlers)

    @property
    def jobs(self) -> list[JobSpec]:
        return list(self._jobs.values())


# --------------------------------------------------------------------------------------------
# Retry timing
# --------------------------------------------------------------------------------------------


def backoff_ceiling_s(attempt: int, *, base_s: float, cap_s: float) -> float:
    """The longest wait after failed attempt number ``attempt`` (1 for the first)."""
    exponent = min(max(attempt - 1, 0), 62)  # 2**62 seconds is already beyond any cap
    return float(min(cap_s, base_s * (2**exponent)))


def backoff_s(
    attempt: int, *, base_s: float, cap_s: float, rng: random.Random | None = None
) -> float:
    """Full jitter: uniform between 0 and the exponential ceiling, so events that failed together
    (a platform outage) spread out instead of returning in one burst."""
    ceiling = backoff_ceiling_s(attempt, base_s=base_s, cap_s=cap_s)
    return (rng or random).uniform(0.0, ceiling)


# --------------------------------------------------------------------------------------------
# Job state
# --------------------------------------------------------------------------------------------


class JobState(Protocol):
    """Where each job's last run is kept (epoch seconds)."""

    async def last_run(self, name: str) -> float | None: ...

    async def set_last_run(self, name: str, at: float) -> None: ...

    async def init_last_run(self, name: str, at: float) -> float:
        """Record ``at`` unless a run is already recorded; the recorded value either way."""
        ...


class RedisJobState:
    """Shared by every worker of a deployment; survives worker restarts with Redis."""

    def __init__(self, redis: Redis, key: str = "worker:jobs:last_run") -> None:
        self._redis = redis
        self._key = key

    async def last_run(self, name: str) -> float | None:
        raw = await self._redis.hget(self._key, name)
        return float(raw) if raw is not None else None

    async def set_last_run(self, name: str, at: float) -> None:
        await self._redis.hset(self._key, name, repr(at))

    async def init_last_run(self, name: str, at: float) -> float:
        await self._redis.hsetnx(self._key, name, repr(at))
        return await self.last_run(name) or at


class FileJobState:
    """A JSON file, for the embedded profile: its Redis lives in the server process and would
    forget every last run at each restart."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, data: dict[str, float]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(f"{self._path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        tmp.replace(self._path)  # atomic: a crash leaves the old file or the new one

    async def last_run(self, name: str) -> float | None:
        return self._read().get(name)

    async def set_last_run(self, name: str, at: float) -> None:
        data = self._read()
        data[name] = at
        self._write(data)

    async def init_last_run(self, name: str, at: float) -> float:
        data = self._read()
        if name not in data:
            data[name] = at
            self._write(data)
        return data[name]


# --------------------------------------------------------------------------------------------
# The worker
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 10
    poll_s: float = 0.5
    lease_s: float = 60.0
    handler_timeout_s: float = 30.0
    max_attempts: int = 10
    backoff_base_s: float = 5.0
    backoff_max_s: float = 3600.0
    #: events of one batch delivered at once (1: one after the other)
    concurrency: int = 1

    @classmethod
    def from_settings(cls, settings: Any) -> WorkerConfig:
        return cls(
            concurrency=settings.worker_concurrency,
            batch_size=settings.worker_batch_size,
            poll_s=settings.worker_poll_s,
            lease_s=settings.worker_lease_s,
            handler_timeout_s=settings.worker_handler_timeout_s,
            max_attempts=settings.worker_max_attempts,
            backoff_base_s=settings.worker_backoff_base_s,
            backoff_max_s=settings.worker_backoff_max_s,
        )


@dataclass
class ClaimedEvent:
    id: int
    topic: str
    payload: dict[str, Any]
    attempts: int
    done_handlers: list[str] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def new_worker_id() -> str:
    """Unique per process and start, readable in ``locked_by`` (which host, which pid)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def _json(value: Any, default: Any) -> Any:
    """asyncpg hands JSONB back as text; the ORM hands it back decoded."""
    if value is None:
        return default
    return json.loads(value) if isinstance(value, str | bytes) else value


def _claimable(now: datetime) -> Q:
    return Q(status="pending", available_at__lte=now) & (
        Q(locked_until=None) | Q(locked_until__lte=now)
    )


class Worker:
    """One worker: claims and delivers events, and runs the jobs that are due.

    ``clock`` is the source of "now" for leases, backoff and job intervals (tests move it).
    """

    def __init__(
        self,
        *,
        registry: Registry,
        redis: Redis,
        job_state: JobState,
        config: WorkerConfig | None = None,
        worker_id: str | None = None,
        clock: Clock = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.registry = registry
        self.redis = redis
        self.job_state = job_state
        self.config = config or WorkerConfig()
        self.id = (worker_id or new_worker_id())[:64]
        self.clock = clock
        self._rng = rng or random.Random()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    # -- claiming ----------------------------------------------------------------------------

    async def claim_batch(self, limit: int | None = None) -> list[ClaimedEvent]:
        """Claim up to ``limit`` due events for this worker, oldest first."""
        limit = limit or self.config.batch_size
        now = self.clock()
        until = now + timedelta(seconds=self.config.lease_s)
        conn = connections.get("default")
        if conn.capabilities.dialect == "postgres":
            rows = await conn.execute_query_dict(CLAIM_OUTBOX_SQL, [self.id, until, now, limit])
            events = [
                ClaimedEvent(
                    id=int(row["id"]),
                    topic=str(row["topic"]),
                    payload=_json(row["payload"], {}),
                    attempts=int(row["attempts"]),
                    done_handlers=list(_json(row["done_handlers"], [])),
                )
                for row in rows
            ]
            return sorted(events, key=lambda e: e.id)
        # SQLite: one writer at a time; the update repeats the claim's condition, so a row taken
        # between the SELECT and the UPDATE (another process) is simply not ours.
        ids: list[int] = await (
            OutboxEvent.filter(_claimable(now))
            .order_by("id")
            .limit(limit)
            .values_list("id", flat=True)
        )  # type: ignore[assignment]
        claimed: list[int] = []
        for event_id in ids:
            taken = await OutboxEvent.filter(_claimable(now), id=event_id).update(
                locked_by=self.id, locked_until=until, attempts=F("attempts") + 1
            )
            if taken:
                claimed.append(int(event_id))
        if not claimed:
            return []
        rows_ = await OutboxEvent.filter(id__in=claimed, locked_by=self.id).order_by("id")
        return [
            ClaimedEvent(
                id=r.id,
                topic=r.topic,
                payload=_json(r.payload, {}),
                attempts=r.attempts,
                done_handlers=list(_json(r.done_handlers, [])),
            )
            for r in rows_
        ]

    async def extend_leases(self) -> int:
        """Push out the lease of every event this worker holds."""
        until = self.clock() + timedelta(seconds=self.config.lease_s)
        return await OutboxEvent.filter(locked_by=self.id, status="pending").update(
            locked_until=until
        )

    async def release(self, events: Iterable[ClaimedEvent]) -> int:
        """Give back claimed events not attempted (a stop between events): no attempt is spent
        and no other worker has to wait for the lease to run out."""
        ids = [e.id for e in events]
        if not ids:
            return 0
        return await OutboxEvent.filter(id__in=ids, locked_by=self.id, status="pending").update(
            locked_by="", locked_until=None, attempts=F("attempts") - 1
        )

    # -- delivery ----------------------------------------------------------------------------

    async def deliver(self, event: ClaimedEvent) -> Outcome:
        """Run every handler of the event not yet done, and settle the event."""
        if event.attempts > self.config.max_attempts:
            # Its lease ran out during the last allowed attempt: the worker holding it died.
            return await self._failed(
                event,
                "-",
                "the worker stopped during the last allowed attempt",
                list(event.done_handlers),
            )
        done = list(event.done_handlers)
        pending = [h for h in self.registry.handlers_for(event.topic) if h.name not in done]
        for index, handler in enumerate(pending):
            try:
                await asyncio.wait_for(
                    handler.fn(event.id, event.topic, event.payload),
                    timeout=self.config.handler_timeout_s,
                )
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                return await self._failed(event, handler.name, reason, done)
            done.append(handler.name)
            if index == len(pending) - 1:
                break  # the settlement below records it: one statement fewer per event
            recorded = await OutboxEvent.filter(id=event.id, locked_by=self.id).update(
                done_handlers=done
            )
            if not recorded:
                return self._lost(event)
        conn = connections.get("default")
        settled, _ = await conn.execute_query(
            for_dialect(SETTLE_OUTBOX_SQL, conn.capabilities.dialect),
            [self.clock(), json.dumps(done), self.id, event.id],
        )
        if not settled:
            return self._lost(event)
        log.debug("outbox event delivered", extra={"event_id": event.id, "topic": event.topic})
        return "delivered"

    async def _failed(
        self, event: ClaimedEvent, handler: str, reason: str, done: list[str]
    ) -> Outcome:
        # Exception texts may quote what a platform answered: mask identifiers and tokens.
        error = redact(f"{handler}: {reason}")[:MAX_ERROR_CHARS]
        now = self.clock()
        info: dict[str, Any] = {
            "event_id": event.id,
            "topic": event.topic,
            "handler": handler,
            "attempt": event.attempts,
            "error": error,
        }
        # The lease is given up either way, with what was learnt.
        released = {
            "last_error": error,
            "locked_by": "",
            "locked_until": None,
            "done_handlers": done,
        }
        if event.attempts >= self.config.max_attempts:
            changed = await OutboxEvent.filter(id=event.id, locked_by=self.id).update(
                status="dead", dead_at=now, **released
            )
            if not changed:
                return self._lost(event)
            log.error("outbox event dead", extra=info)
            return "dead"
        delay = backoff_s(
            event.attempts,
            base_s=self.config.backoff_base_s,
            cap_s=self.config.backoff_max_s,
            rng=self._rng,
        )
        changed = await OutboxEvent.filter(id=event.id, locked_by=self.id).update(
            available_at=now + timedelta(seconds=delay), **released
        )
        if not changed:
            return self._lost(event)
        log.warning("outbox delivery failed", extra={**info, "retry_in_s": round(delay, 3)})
        return "retry"

    def _lost(self, event: ClaimedEvent) -> Outcome:
        """Another worker took the event over after our lease ran out (we were stalled): it
        owns the outcome now, so we write nothing more."""
        log.warning("outbox lease lost", extra={"event_id": event.id, "topic": event.topic})
        return "lost"

    async def run_once(self) -> int:
        """Claim one batch and deliver it; stops between events when asked. Returns the number
        of events settled."""
        batch = await self.claim_batch()
        if self.config.concurrency > 1 and len(batch) > 1:
            return await self._deliver_concurrently(batch)
        settled = 0
        for index, event in enumerate(batch):
            if self._stop.is_set():
                await self.release(batch[index:])
                break
            await self.deliver(event)
            settled += 1
        return settled

    async def _deliver_concurrently(self, batch: list[ClaimedEvent]) -> int:
        """Up to ``concurrency`` events of the batch at once. Handlers are idempotent per event
        and events carry no order between them (several workers never did), so this is what
        several workers would do, without their connections. A stop lets the started ones
        finish and gives the others back."""
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one(event: ClaimedEvent) -> bool:
            async with gate:
                if self._stop.is_set():
                    return False
                await self.deliver(event)
                return True

        done = await asyncio.gather(*(one(e) for e in batch))
        await self.release([e for e, ok in zip(batch, done, strict=True) if not ok])
        return sum(done)

    # -- scheduled jobs ----------------------------------------------------------------------

    async def run_due_jobs(self) -> list[str]:
        """Run every job whose interval has passed and that no other worker is running."""
        ran: list[str] = []
        for job in self.registry.jobs:
            if self._stop.is_set():
                break
            if await self._run_job_if_due(job):
                ran.append(job.name)
        return ran

    async def _due(self, job: JobSpec, now: float) -> bool:
        last = await self.job_state.last_run(job.name)
        if last is None:
            # A new deployment (or job) starts counting now rather than running everything at
            # once on its first start.
            last = await self.job_state.init_last_run(job.name, now)
        return now - last >= job.interval_s

    async def _run_job_if_due(self, job: JobSpec) -> bool:
        now = self.clock().timestamp()
        if not await self._due(job, now):
            return False
        lock = RedisLock(
            self.redis, f"worker:job-lock:{job.name}", ttl_ms=int(self.config.lease_s * 1000)
        )
        if not await lock.acquire():
            return False  # another worker is running it
        keeper = asyncio.create_task(self._keep_lock(lock))
        try:
            # A peer may have finished a run between our first look and the lock.
            if not await self._due(job, now):
                return False
            started = time.monotonic()
            try:
                result = await job.fn()
            except Exception:
                log.exception("scheduled job failed", extra={"job": job.name})
            else:
                log.info(
                    "scheduled job done",
                    extra={
                        "job": job.name,
                        "result": result,
                        "duration_ms": round((time.monotonic() - started) * 1000),
                    },
                )
            # A failed run also waits for its next interval: a broken job should not run in
            # a tight loop; the log line says it failed.
            await self.job_state.set_last_run(job.name, now)
            return True
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await lock.release()

    async def _keep_lock(self, lock: RedisLock) -> None:
        while True:
            await asyncio.sleep(self.config.lease_s / 3)
            if not await lock.extend():
                log.warning("scheduled job lock lost", extra={"lock": lock.key})
                return

    # -- the loop ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for events now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current event (and job, and pump pass), then return from ``run``."""
        self._stop.set()
        self._wake.set()
        for _, wake in self.registry.pumps.values():
            if wake is not None:
                wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> None:
        """Deliver and run jobs until ``stop``."""
        log.info("outbox worker started", extra={"worker": self.id})
        heartbeat = asyncio.create_task(self._heartbeat())
        jobs = asyncio.create_task(self._jobs_loop())
        pumps = [
            asyncio.create_task(self._pump_loop(name, fn, wake), name=f"pump-{name}")
            for name, (fn, wake) in self.registry.pumps.items()
        ]
        try:
            while not self._stop.is_set():
                try:
                    settled = await self.run_once()
                except Exception:  # the database went away: keep trying, slowly
                    log.exception("outbox poll failed")
                    settled = 0
                if settled == 0 and not self._stop.is_set():
                    await self._idle()
        finally:
            self._stop.set()
            self._wake.set()
            with contextlib.suppress(Exception):
                await jobs  # lets a running job finish
            for pump in pumps:
                with contextlib.suppress(Exception):
                    await pump  # lets a running pass finish
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            log.info("outbox worker stopped", extra={"worker": self.id})

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_s)
        self._wake.clear()

    async def _pump_loop(self, name: str, fn: Pump, wake: asyncio.Event | None) -> None:
        while not self._stop.is_set():
            try:
                settled = await fn()
            except Exception:  # the database or a channel went away: the next pass tries again
                log.exception("pump pass failed", extra={"pump": name})
                settled = 0
            if settled or self._stop.is_set():
                continue
            signal_ = wake if wake is not None else self._stop
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal_.wait(), timeout=self.config.poll_s)
            if wake is not None:
                wake.clear()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease_s / 3)
            try:
                await self.extend_leases()
            except Exception:
                log.exception("outbox lease extension failed")

    async def _jobs_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_due_jobs()
            except Exception:  # Redis or the job state went away: the next round tries again
                log.exception("scheduled jobs round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=max(self.config.poll_s, 1.0))


async def run_worker(worker: Worker, *, handle_signals: bool = True) -> None:
    """Run ``worker`` until SIGTERM or SIGINT, which let the current event and job finish."""
    if handle_signals:
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            log.info("stop requested", extra={"signal": signal.Signals(signum).name})
            worker.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
    await worker.run()
