"""The composition root of every process: the server, the outbox worker and the command line.

``build_resources`` is the one place a process's resources are made: the database connections
(``open_resources``), Redis, the HTTP client shared by every outward call, the object store, the
WeChat platform client and the identity providers the settings name. Each process builds them
once (a Sanic worker at start-up, ``zhangban worker``, a ``zhangban`` command) and closes them
once (``close_resources``); a command that needs the database only runs with ``run_with_db``.

Then the outbox worker: which handlers receive which events, which jobs run. ``core.worker``
knows no context, and contexts know no worker: this module is where the two meet. ``install`` is
called once per worker (the ``zhangban worker`` process, or the one inside the embedded server)
with that process's resources (``WorkerDeps``).

Handler names end up in ``done_handlers`` of every event they handled, so never rename one that
has run in production. Handlers must be idempotent by event id (at-least-once delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import httpx
from redis.asyncio import Redis

from api.jobs import run_cleanup
from auth.common import AuthDeps
from auth.notices import AuthNotices
from auth.providers.factory import company_registry, realname_provider
from auth.tokens import TokenService
from cases import fees as cases_fees
from cases import handlers as cases_handlers
from cases import jobs as cases_jobs
from cases import notices as cases_notices
from core.cache import GenerationalCache
from core.clock import utcnow
from core.crypto import FieldCipher
from core.db import close_db, init_db, ping_db
from core.redis import create_redis
from core.settings import Settings
from core.worker import (
    FileJobState,
    JobState,
    RedisJobState,
    Registry,
    Worker,
    WorkerConfig,
    new_worker_id,
)
from notify import admin as notify_admin
from notify.catalogue import load_catalogue
from notify.ledger import NotifyDeps, QuietHours, Sender, SendPolicy
from notify.providers.factory import notify_channels
from payments import jobs as payments_jobs
from payments import refunds as payments_refunds
from payments.channels import Channels
from payments.providers.factory import payment_channels
from platforms.wechat import WeChatClient
from sandbox.keys import ensure_sandbox_keys
from storage.base import ObjectStore
from storage.factory import create_object_store

log = logging.getLogger("zhangban.worker")

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Resources of a process
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resources:
    """What a process of the deployment works with; one set per process."""

    settings: Settings
    redis: Redis
    #: one connection pool for every outward call: WeChat, the providers, and next payments,
    #: messages and couriers
    http: httpx.AsyncClient
    store: ObjectStore
    wechat: WeChatClient
    auth: AuthDeps
    catalog_cache: GenerationalCache
    #: every enabled payment channel, and where their callbacks reach this deployment
    payments: Channels
    #: the message catalogue, the enabled message channels and how they send
    notify: NotifyDeps


def new_http_client() -> httpx.AsyncClient:
    """The one outward HTTP client. It keeps alive as many connections as a worker's sender
    uses at once (``notify_concurrency``, 32): with fewer, every batch of messages opened and
    closed the rest again (bench/notify.sh, py-spy); far more makes httpcore's pool, which
    scans every connection for each request, a cost of its own."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=3.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=64),
    )


def build_resources(settings: Settings) -> Resources:
    """Every resource but the database, made without any I/O (connections open on first use)."""
    redis = create_redis(settings)
    http = new_http_client()
    wechat = WeChatClient(settings=settings, redis=redis, http=http)
    auth = AuthDeps(
        settings=settings,
        redis=redis,
        wechat=wechat,
        tokens=TokenService.from_settings(settings, redis),
        cipher=FieldCipher.from_settings(settings),
        realname=realname_provider(settings, http),
        registry=company_registry(settings, http),
    )
    return Resources(
        settings=settings,
        redis=redis,
        http=http,
        store=create_object_store(settings),
        wechat=wechat,
        auth=auth,
        catalog_cache=GenerationalCache(
            redis, "catalog", ttl_s=settings.cache_ttl_s, local_s=settings.local_cache_s
        ),
        payments=build_channels(settings, http),
        notify=build_notify(settings, http=http, wechat=wechat, cipher=auth.cipher),
    )


def build_notify(
    settings: Settings, *, http: httpx.AsyncClient, wechat: WeChatClient, cipher: FieldCipher
) -> NotifyDeps:
    return NotifyDeps(
        catalogue=load_catalogue(settings.notify_templates),
        cipher=cipher,
        channels=notify_channels(settings, http=http, wechat=wechat),
        quiet_hours=QuietHours.parse(settings.notify_quiet_hours),
        policy=SendPolicy.from_settings(settings),
    )


def sandbox_messaging(settings: Settings) -> Any:
    """What the messaging peers must know of this deployment (its subscribe templates, SMS
    account, signature, templates and receipt URL), as the platforms' consoles would: a
    ``sandbox.app.MessagingSetup``."""
    # Deferred: only a process that mounts or drives the peers loads their code.
    from sandbox.app import MessagingSetup  # deferred, as said above
    from sandbox.wechat import SubscribeTemplate  # deferred, as said above

    catalogue = load_catalogue(settings.notify_templates)
    base = settings.payment_notify_base_url or settings.effective_public_base_url
    return MessagingSetup(
        subscribe_templates={
            t.template_id: SubscribeTemplate(keys=tuple(t.data), long_term=t.long_term)
            for t in catalogue.wechat.values()
        },
        sms_access_key_id=settings.sms_access_key_id,
        sms_access_key_secret=settings.sms_access_key_secret,
        sms_signs=(settings.sms_sign_name,),
        sms_templates={t.code: tuple(t.params) for t in catalogue.sms.values()},
        sms_report_url=f"{base}/callbacks/sms/aliyun?token={settings.sms_report_token}",
    )


def build_channels(settings: Settings, http: httpx.AsyncClient) -> Channels:
    """The enabled payment channels. With the sandbox on, its generated keys stand in for the
    merchant's (made here if this process is the first to need them)."""
    if settings.payments_use_sandbox:
        ensure_sandbox_keys(settings.effective_sandbox_keys_dir)
    return Channels(
        by_name=payment_channels(settings, http),
        public_base_url=settings.payment_notify_base_url or settings.effective_public_base_url,
    )


async def open_resources(settings: Settings) -> Resources:
    """The database opened (and its pool with it), then everything else."""
    await init_db(settings)
    # Open the pool now: a request cancelled while it opened the first connection lazily
    # would leave Tortoise's connection lock held and every later query hanging.
    await ping_db()
    return build_resources(settings)


async def close_resources(resources: Resources) -> None:
    await resources.http.aclose()
    await resources.redis.aclose()
    await close_db()


def run_with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """A command's ``work`` with this process's database connections open (and nothing else)."""

    async def run() -> T:
        await init_db(settings)
        try:
            return await work()
        finally:
            await close_db()

    return asyncio.run(run())


def run_with_resources(settings: Settings, work: Callable[[Resources], Awaitable[T]]) -> T:
    """A command's ``work`` with every resource of the process, closed afterwards."""

    async def run() -> T:
        resources = await open_resources(settings)
        try:
            return await work(resources)
        finally:
            await close_resources(resources)

    return asyncio.run(run())


# --------------------------------------------------------------------------------------------
# The outbox worker
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerDeps:
    """What handlers and jobs may use; one set per worker process. The HTTP client and the
    WeChat client are for the handlers of payments (a refund, a query) and notify (a subscribe
    message)."""

    settings: Settings
    store: ObjectStore
    redis: Redis
    http: httpx.AsyncClient
    wechat: WeChatClient
    payments: Channels
    notify: NotifyDeps
    cipher: FieldCipher

    @classmethod
    def of(cls, resources: Resources) -> WorkerDeps:
        return cls(
            settings=resources.settings,
            store=resources.store,
            redis=resources.redis,
            http=resources.http,
            wechat=resources.wechat,
            payments=resources.payments,
            notify=resources.notify,
            cipher=resources.auth.cipher,
        )


def install(registry: Registry, deps: WorkerDeps, *, worker_id: str = "") -> Registry:
    """Register every handler, job and pump of the deployment."""
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
    _install_payments(registry, deps.payments)
    _install_notify(registry, deps, worker_id=worker_id or new_worker_id())
    _install_extra(registry, deps.settings.worker_extra_handlers)
    return registry


def _install_notify(registry: Registry, deps: WorkerDeps, *, worker_id: str) -> None:
    """Cases and auth orchestrate what an event means to whom; notify sends it (the pump)."""
    case_notices = cases_notices.CaseNotices(notify=deps.notify, cipher=deps.cipher)
    auth_notices = AuthNotices(notify=deps.notify, cipher=deps.cipher)
    for name in cases_notices.APPLICANT_SIDE:
        registry.register_handler(
            f"case.{name}", f"cases.notify.{name}", case_notices.on_transition
        )
    for topic in ("payment.reminder", "payment.refunded"):
        registry.register_handler(topic, f"cases.notify.{topic}", case_notices.on_payment)
    for topic in (
        "case.task_reassigned",
        "case.supervision_notice",
        "case.evaluated",
        "case.card",
    ):
        registry.register_handler(topic, f"cases.notify.{topic}", case_notices.on_staff_event)
    for topic in ("mandate.granted", "mandate.ended"):
        registry.register_handler(topic, f"auth.notify.{topic}", auth_notices.on_mandate)
    for topic in ("company.agent_added", "company.agent_removed"):
        registry.register_handler(topic, f"auth.notify.{topic}", auth_notices.on_agent)
    settings = deps.settings
    registry.register_job(
        "cases.cards",
        CARDS_INTERVAL_S,
        _now_partial(cases_notices.emit_cards, yellow_days=settings.case_yellow_card_days),
    )
    registry.register_job(
        "notify.alerts",
        ALERTS_INTERVAL_S,
        _now_partial(notify_admin.raise_alerts, threshold=settings.notify_alert_failures_per_hour),
    )
    sender = Sender(deps.notify, worker_id=worker_id)

    async def send_pass() -> int:
        return await sender.run_once(now=utcnow())

    registry.register_pump("notify.send", send_pass, wake=deps.notify.wake)


#: How often running cases are looked at for a new yellow or red card.
CARDS_INTERVAL_S = 900
#: How often failures per message type are counted.
ALERTS_INTERVAL_S = 300


def _now_partial(fn: Callable[..., Awaitable[T]], **bound: object) -> Callable[[], Awaitable[T]]:
    """A job that takes ``now`` from the clock at each run."""

    async def job() -> T:
        return await fn(**bound, now=utcnow())

    return job


def _install_payments(registry: Registry, channels: Channels) -> None:
    """Payments serve and cases orchestrate: payments' own handlers (a refund sent, an ended
    order's attempts closed) and jobs, then what each payment event means to a case."""

    async def send_refund(event_id: int, topic: str, payload: dict[str, Any]) -> None:
        await payments_jobs.on_refund_requested(payload, channels=channels, now=utcnow())

    async def close_ended(event_id: int, topic: str, payload: dict[str, Any]) -> None:
        await payments_jobs.on_order_ended(payload, channels=channels, now=utcnow())

    registry.register_handler("payment.refund_requested", "payments.refund.send", send_refund)
    registry.register_handler("payment.order_cancelled", "payments.attempts.close", close_ended)
    registry.register_handler("payment.order_lapsed", "payments.attempts.close_lapsed", close_ended)
    registry.register_handler("payment.paid", "cases.fee.paid", cases_fees.on_paid)
    registry.register_handler("payment.order_lapsed", "cases.fee.lapsed", cases_fees.on_lapsed)
    registry.register_handler("payment.surplus", "cases.fee.surplus", cases_fees.on_surplus)
    registry.register_handler("payment.refunded", "cases.fee.refunded", cases_fees.on_refunded)
    registry.register_handler(
        "payment.refund_failed", "cases.fee.refund_failed", cases_fees.on_refund_failed
    )
    registry.register_job(
        "payments.attempts",
        PAYMENT_CHECK_INTERVAL_S,
        _now_partial(payments_jobs.check_attempts, channels=channels),
    )
    registry.register_job(
        "payments.refunds",
        PAYMENT_CHECK_INTERVAL_S,
        _now_partial(payments_refunds.check_refunds, channels=channels),
    )
    registry.register_job("payments.lapse", 900, _now_partial(payments_jobs.lapse_orders))
    registry.register_job("payments.remind", 3600, _now_partial(payments_jobs.remind))
    registry.register_job(
        "payments.reconcile", 6 * 3600, _now_partial(payments_jobs.reconcile_day, channels=channels)
    )


#: How often open attempts and refunds are looked at (each run asks only those due).
PAYMENT_CHECK_INTERVAL_S = 30


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
    worker_id = worker_id or new_worker_id()
    registry = install(Registry(), deps, worker_id=worker_id)
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
