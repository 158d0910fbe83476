"""Composition root of the outbox worker: which handlers receive which events, which jobs run.

``core.worker`` knows no context, and contexts know no worker: this module is where the two
meet. ``install`` is called once per worker (the ``zhangban worker`` process, or the one inside
the embedded server) with that process's resources.

Handler names end up in ``done_handlers`` of every event they handled, so never rename one that
has run in production. Handlers must be idempotent by event id (at-least-once delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from dataclasses import dataclass
from functools import partial

from redis.asyncio import Redis

from api.jobs import run_cleanup
from cases import handlers as cases_handlers
from cases import jobs as cases_jobs
from core.settings import Settings
from core.worker import FileJobState, JobState, RedisJobState, Registry, Worker, WorkerConfig
from storage.base import ObjectStore

log = logging.getLogger("zhangban.worker")


@dataclass(frozen=True)
class WorkerDeps:
    """What handlers and jobs may use; one set per worker process."""

    settings: Settings
    store: ObjectStore
    redis: Redis


def install(registry: Registry, deps: WorkerDeps) -> Registry:
    """Register every handler and job of the deployment."""
    registry.register_job(
        "cleanup",
        deps.settings.cleanup_interval_s,
        partial(run_cleanup, settings=deps.settings, store=deps.store, redis=deps.redis),
    )
    # Contexts register their handlers and jobs here.
    cases_handlers.register(registry)  # duration statistics of case.grant / case.deny
    registry.register_job(
        "cases.article32", cases_jobs.ARTICLE32_INTERVAL_S, cases_jobs.article32_auto_acceptance
    )
    _install_extra(registry, deps.settings.worker_extra_handlers)
    return registry


def _install_extra(registry: Registry, spec: str) -> None:
    """``ZB_WORKER_EXTRA_HANDLERS``: ``module:function`` entries, each called with the registry.

    A hook for what is not part of this code base (a deployment's own audit sink) and for tests
    that need a handler inside a real worker process (the crash test).
    """
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        module_name, _, function_name = entry.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        function(registry)
        log.info("extra worker handlers installed", extra={"hook": entry})


def job_state(settings: Settings, redis: Redis) -> JobState:
    """Shared Redis when there is one; a file next to the embedded database otherwise (the
    in-process Redis stand-in forgets everything at restart)."""
    if settings.redis_url:
        return RedisJobState(redis)
    return FileJobState(settings.var_dir / "worker-jobs.json")


def build_worker(deps: WorkerDeps, *, worker_id: str | None = None) -> Worker:
    registry = install(Registry(), deps)
    return Worker(
        registry=registry,
        redis=deps.redis,
        job_state=job_state(deps.settings, deps.redis),
        config=WorkerConfig.from_settings(deps.settings),
        worker_id=worker_id,
    )


#: How long the server's shutdown waits for the in-process worker's current event or job.
IN_PROCESS_STOP_TIMEOUT_S = 10.0


class InProcessWorker:
    """The one worker of the embedded profile, living in the server process.

    ``stop`` lets the current event finish (bounded: the server must shut down); a cancelled
    delivery is not lost, its lease runs out and the next start takes it again. Tests stop it to
    drive delivery themselves, and start it again afterwards.
    """

    def __init__(self, deps: WorkerDeps) -> None:
        self.deps = deps
        self.worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Worker:
        if self._task is not None and not self._task.done():
            assert self.worker is not None
            return self.worker
        self.worker = build_worker(self.deps)
        self._task = asyncio.create_task(self.worker.run(), name="outbox-worker")
        return self.worker

    async def stop(self) -> None:
        if self.worker is None or self._task is None:
            return
        self.worker.stop()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), IN_PROCESS_STOP_TIMEOUT_S)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()
