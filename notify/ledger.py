"""Publishing a message (inbox, consent, channels) and sending it at most once per channel.

``publish`` runs in the orchestrator's outbox handler, never inside the transaction that changed
the case. In one transaction it writes the inbox line (the guard: an event redelivered finds its
line and publishes nothing again), spends a consent grant, and records what each channel is to
send (the ledger, ``Delivery``), before any call.

``Sender`` drains the ledger in every worker: it takes a batch of due rows (``sending``, with a
lease), sends them concurrently, and settles each with its outcome and an attempt record.

* sent: done; an SMS kept in reserve for the same event is dropped.
* transient (busy, 5xx, a timeout): queued again after an exponential backoff with full jitter,
  until ``notify_max_attempts``; then failed. Before sending again after a timeout, a channel
  that can tell (SMS) is asked whether the first one arrived.
* permanent (47003, 40003, 40037, 41030, an illegal number): failed at once, never repeated; a
  47003 logs the field and the template for whoever owns the catalogue.
* no consent (43101): our count was wrong; the grant is zeroed, the WeChat row skipped, the SMS
  in reserve released.

A worker killed during a call leaves its rows ``sending`` after the lease: the next pass asks the
channel (``lookup``) and settles them as sent, queues them again (not sent), or records them as
uncertain (WeChat cannot tell): nothing is sent twice on its own account.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any, NamedTuple

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from core.clock import LOCAL_TZ, utcnow
from core.crypto import FieldCipher
from core.db import in_transaction
from core.logging import redact
from core.queries import for_dialect
from core.worker import backoff_s
from notify import queries
from notify.catalogue import Catalogue
from notify.consent import spend_grant, zero_grant
from notify.formatting import COUNT_PLACEHOLDER, Value, sms_value, wechat_value
from notify.models import Delivery, DeliveryAttempt, DeliveryStatus, SmsOptOut
from notify.providers.base import Channel, Envelope, Known, Outcome, SendResult

log = logging.getLogger("zhangban.notify")

ADDRESS_CONTEXT = "notify_delivery.address"
#: A mainland mobile number: the only kind our SMS templates are registered for.
MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
DETAIL_MAX = 300
S = DeliveryStatus


@dataclass(frozen=True)
class Recipient:
    """Who a message is for, with the addresses the orchestrator knows: an openid when the
    person uses the mini-program, a phone number only when it is verified (bound through
    WeChat's phone-number button), never one typed into a form."""

    ref: str
    openid: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Message:
    kind: str
    #: unique per event (``outbox:<id>``); with the recipient it makes every key of the ledger
    event_key: str
    recipient: Recipient
    #: the inbox's title and text, in Chinese
    title: str
    body: str
    #: the named values the templates show (``notify.catalogue``)
    values: Mapping[str, Value]
    event_at: datetime
    link: str = ""
    subject: str = ""
    #: an SMS that may not wait for the morning (a correction deadline running, a fee due
    #: tomorrow)
    urgent: bool = False
    #: staff queue messages: those with the same batch for the same person within
    #: ``notify_staff_batch_s`` become one message counting them (``{count}`` in a value)
    batch: str = ""


@dataclass(frozen=True)
class QuietHours:
    start: clock_time
    end: clock_time

    @classmethod
    def parse(cls, spec: str) -> QuietHours:
        start, _, end = spec.partition("-")
        return cls(clock_time.fromisoformat(start), clock_time.fromisoformat(end))

    def quiet(self, now: datetime) -> bool:
        local = now.astimezone(LOCAL_TZ).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, now: datetime) -> datetime:
        """``now``, or the end of the quiet hours it falls in."""
        if not self.quiet(now):
            return now
        local = now.astimezone(LOCAL_TZ)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end


@dataclass(frozen=True)
class SendPolicy:
    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_max_s: float = 1800.0
    batch_size: int = 200
    concurrency: int = 64
    lease_s: float = 60.0
    staff_batch_s: int = 180

    @classmethod
    def from_settings(cls, settings: Any) -> SendPolicy:
        return cls(
            max_attempts=settings.notify_max_attempts,
            backoff_base_s=settings.notify_backoff_base_s,
            backoff_max_s=settings.notify_backoff_max_s,
            batch_size=settings.notify_batch_size,
            concurrency=settings.notify_concurrency,
            lease_s=settings.notify_lease_s,
            staff_batch_s=settings.notify_staff_batch_s,
        )


@dataclass
class NotifyDeps:
    """What publishing and sending use; one set per process (``api/wiring.py``)."""

    catalogue: Catalogue
    cipher: FieldCipher
    #: the enabled outward channels by name
    channels: Mapping[str, Channel]
    quiet_hours: QuietHours
    policy: SendPolicy = field(default_factory=SendPolicy)
    #: set by ``publish`` so the sender of this process looks at once (no poll wait)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


def ledger_key(event_key: str, channel: str, recipient: str) -> str:
    """The row's key and the SMS ``OutId``: 41 characters of ``[0-9a-z]``."""
    digest = hashlib.sha256(f"{event_key}|{channel}|{recipient}".encode()).hexdigest()
    return f"{channel[0]}{digest[:40]}"


def _dialect() -> str:
    return str(connections.get("default").capabilities.dialect)


# --------------------------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------------------------


async def publish(messages: Sequence[Message], *, deps: NotifyDeps, now: datetime) -> int:
    """Write every message's inbox line and ledger rows in one transaction; returns how many
    were new (a redelivered event's messages are not)."""
    fresh = 0
    async with in_transaction() as conn:
        dialect = str(conn.capabilities.dialect)
        for message in messages:
            opted_out = await _write_inbox(conn, message, now, dialect)
            if opted_out is not None:
                fresh += 1
                await _plan(conn, message, deps=deps, opted_out=opted_out, now=now)
    if fresh:
        deps.wake.set()
    return fresh


async def _opted_out(refs: set[str]) -> set[str]:
    if not refs:
        return set()
    rows = await SmsOptOut.filter(recipient__in=sorted(refs)).values_list("recipient", flat=True)
    return {str(r) for r in rows}


async def _write_inbox(
    conn: BaseDBAsyncClient, message: Message, now: datetime, dialect: str
) -> bool | None:
    """The inbox line; ``None`` if this event wrote it already, else whether the recipient
    opted out of SMS."""
    rows = await conn.execute_query_dict(
        for_dialect(queries.INSERT_INBOX_SQL, dialect),
        [
            message.recipient.ref,
            f"{message.event_key}|{message.recipient.ref}"[:160],
            message.kind,
            message.title[:64],
            message.body[:500],
            message.link[:256],
            message.subject[:64],
            now,
        ],
    )
    return bool(rows[0]["opted_out"]) if rows else None


class _Row(NamedTuple):
    """One ledger row to write, its fields in ``queries.INSERT_DELIVERIES_SQL``'s order (a
    tuple: its values are the statement's parameters as they stand)."""

    key: str
    event_key: str
    channel: str
    recipient: str
    kind: str
    template: str
    address_sealed: str
    data: str
    page: str
    urgent: bool
    status: str
    next_at: datetime
    last_code: str
    event_at: datetime
    created_at: datetime


async def _plan(
    conn: BaseDBAsyncClient,
    message: Message,
    *,
    deps: NotifyDeps,
    opted_out: bool,
    now: datetime,
) -> None:
    """Which channels carry ``message``: WeChat if a grant is left (spent now), the SMS if
    WeChat cannot (or in reserve while it tries), never an unverified number or one that
    opted out."""
    catalogue = deps.catalogue
    recipient = message.recipient
    wechat_template = catalogue.wechat_for(message.kind) if "wechat" in deps.channels else None
    sms_template = catalogue.sms_for(message.kind) if "sms" in deps.channels else None
    phone = (
        recipient.phone if recipient.phone and MAINLAND_MOBILE.fullmatch(recipient.phone) else None
    )
    rows: list[_Row] = []
    wechat_queued = False

    def row(
        channel: str,
        template: str,
        address: str,
        data: dict[str, str],
        *,
        status: S = S.queued,
        next_at: datetime = now,
        last_code: str = "",
    ) -> _Row:
        return _Row(
            key=ledger_key(message.event_key, channel, recipient.ref),
            event_key=message.event_key[:96],
            channel=channel,
            recipient=recipient.ref,
            kind=message.kind,
            template=template,
            address_sealed=deps.cipher.encrypt(address, context=ADDRESS_CONTEXT),
            data=json.dumps(data, ensure_ascii=False),
            page=message.link[:256],
            urgent=message.urgent,
            status=status.value,
            next_at=next_at,
            last_code=last_code,
            event_at=message.event_at,
            created_at=now,
        )

    if wechat_template is not None and recipient.openid:
        data = {
            key: wechat_value(key, message.values[name])
            for key, name in wechat_template.data.items()
        }
        template_id = wechat_template.template_id
        if await spend_grant(
            conn, openid=recipient.openid, template_id=template_id, cipher=deps.cipher, now=now
        ):
            wechat_queued = True
            if message.batch:
                await _upsert_batch(
                    conn,
                    row(
                        "wechat",
                        template_id,
                        recipient.openid,
                        data,
                        next_at=now + timedelta(seconds=deps.policy.staff_batch_s),
                    ),
                    batch=f"{message.batch}|{recipient.ref}"[:96],
                )
            else:
                rows.append(row("wechat", template_id, recipient.openid, data))
        else:
            rows.append(
                row(
                    "wechat",
                    template_id,
                    recipient.openid,
                    data,
                    status=S.skipped,
                    last_code="no_grant",
                )
            )
    if sms_template is not None and phone is not None and not opted_out:
        params = {var: sms_value(message.values[name]) for var, name in sms_template.params.items()}
        rows.append(
            row(
                "sms",
                sms_template.code,
                phone,
                params,
                status=S.held if wechat_queued else S.queued,
                next_at=now if message.urgent else deps.quiet_hours.next_allowed(now),
            )
        )
    if rows:
        sql = queries.INSERT_DELIVERIES_SQL.format(values=queries.delivery_values(len(rows)))
        await conn.execute_query(
            for_dialect(sql, str(conn.capabilities.dialect)),
            [value for r in rows for value in r],
        )


async def _upsert_batch(conn: BaseDBAsyncClient, row: _Row, *, batch: str) -> None:
    sql = for_dialect(queries.UPSERT_BATCH_SQL, str(conn.capabilities.dialect))
    await conn.execute_query(
        sql,
        [
            row.key,
            row.event_key,
            row.channel,
            row.recipient,
            row.kind,
            row.template,
            row.address_sealed,
            row.data,
            row.page,
            row.urgent,
            batch,
            row.next_at,
            row.event_at,
            row.created_at,
        ],
    )


# --------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """One ledger row a worker holds."""

    id: int
    key: str
    event_key: str
    channel: str
    recipient: str
    kind: str
    template: str
    address_sealed: str
    data: dict[str, str]
    page: str
    batch_count: int
    attempts: int
    last_code: str
    urgent: bool
    event_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Taken:
        data = row["data"]
        return cls(
            id=int(row["id"]),
            key=str(row["key"]),
            event_key=str(row["event_key"]),
            channel=str(row["channel"]),
            recipient=str(row["recipient"]),
            kind=str(row["kind"]),
            template=str(row["template"]),
            address_sealed=str(row["address_sealed"]),
            data=json.loads(data) if isinstance(data, str) else dict(data),
            page=str(row["page"]),
            batch_count=int(row["batch_count"]),
            attempts=int(row["attempts"]),
            last_code=str(row["last_code"]),
            urgent=bool(row["urgent"]),
            event_at=_aware(row["event_at"]),
            updated_at=_aware(row["updated_at"]),
        )


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class Settled:
    taken: Taken
    result: SendResult
    at: datetime
    duration_ms: int


class Sender:
    """Drains the ledger; one per worker process. ``run_once`` is one pass."""

    def __init__(self, deps: NotifyDeps, *, worker_id: str, rng: random.Random | None = None):
        self.deps = deps
        self.worker_id = worker_id[:64]
        self._rng = rng or random.Random()
        self._semaphore = asyncio.Semaphore(deps.policy.concurrency)

    async def run_once(self, *, now: datetime) -> int:
        """Recover rows of stopped workers, then take and send one batch; returns how many
        rows were settled."""
        recovered = await self.recover(now=now)
        taken = await self.take(now=now)
        if not taken:
            return recovered
        sendable = await self._hold_back(taken, now=now)
        settled = await asyncio.gather(*(self._send(t) for t in sendable))
        await self.settle(list(settled))
        return recovered + len(taken)

    async def _hold_back(self, taken: list[Taken], *, now: datetime) -> list[Taken]:
        """What is decided at send time, not only at publish time: an SMS to someone who has
        opted out since is dropped; a non-urgent SMS whose time (a retry, a replay) falls in the
        quiet hours waits for the morning. Returns the rows to send now."""
        sms = [t for t in taken if t.channel == "sms"]
        if not sms:
            return taken
        opted_out = await _opted_out({t.recipient for t in sms})
        quiet = self.deps.quiet_hours
        kept: list[Taken] = []
        for t in taken:
            if t.channel == "sms" and t.recipient in opted_out:
                await Delivery.filter(id=t.id, locked_by=self.worker_id).update(
                    status=S.skipped.value,
                    last_code="opted_out",
                    locked_by="",
                    locked_until=None,
                    updated_at=now,
                )
            elif t.channel == "sms" and not t.urgent and quiet.quiet(now):
                await Delivery.filter(id=t.id, locked_by=self.worker_id).update(
                    status=S.queued.value,
                    next_at=quiet.next_allowed(now),
                    attempts=max(t.attempts - 1, 0),
                    locked_by="",
                    locked_until=None,
                    updated_at=now,
                )
            else:
                kept.append(t)
        return kept

    async def take(self, *, now: datetime) -> list[Taken]:
        """Take no more rows than are sent at once: a row taken is a row on the wire, so a
        worker killed mid-batch leaves uncertain only the messages it had really sent."""
        policy = self.deps.policy
        sql = for_dialect(queries.CLAIM_SQL, _dialect())
        limit = min(policy.batch_size, policy.concurrency)
        rows = await connections.get("default").execute_query_dict(
            sql, [self.worker_id, now, limit, now + timedelta(seconds=policy.lease_s)]
        )
        return [Taken.of(r) for r in rows]

    def envelope(self, taken: Taken) -> Envelope:
        fields = {
            k: v.replace(COUNT_PLACEHOLDER, str(taken.batch_count)) for k, v in taken.data.items()
        }
        return Envelope(
            key=taken.key,
            address=self.deps.cipher.decrypt(taken.address_sealed, context=ADDRESS_CONTEXT),
            template=taken.template,
            fields=fields,
            page=taken.page,
        )

    async def _send(self, taken: Taken) -> Settled:
        async with self._semaphore:
            started = time.monotonic()
            channel = self.deps.channels.get(taken.channel)
            if channel is None:
                result = SendResult(Outcome.permanent, "channel_disabled", "channel not enabled")
            else:
                envelope = self.envelope(taken)
                result = await self._send_once(channel, envelope, taken)
            return Settled(taken, result, utcnow(), int((time.monotonic() - started) * 1000))

    async def _send_once(self, channel: Channel, envelope: Envelope, taken: Taken) -> SendResult:
        if taken.last_code == "timeout":
            # The last try may have arrived: ask first where the channel can tell.
            known = await channel.lookup(envelope, sent_at=taken.updated_at)
            if known is Known.sent:
                return SendResult(Outcome.sent, "0", "found after a timeout")
        try:
            return await channel.send(envelope)
        except Exception as exc:  # an adapter's bug must not lose the row's lease
            log.exception("notify channel raised", extra={"channel": taken.channel})
            return SendResult(Outcome.transient, "adapter_error", type(exc).__name__)

    async def settle(self, settled: list[Settled]) -> None:
        """Record every outcome: the sent ones in one statement, the others row by row (few)."""
        if not settled:
            return
        policy = self.deps.policy
        dialect = _dialect()
        attempts = [
            DeliveryAttempt(
                delivery_id=s.taken.id,
                at=s.at,
                outcome=s.result.outcome.value,
                code=s.result.code[:64],
                detail=redact(s.result.detail)[:DETAIL_MAX],
                duration_ms=s.duration_ms,
            )
            for s in settled
        ]
        sent = [s for s in settled if s.result.outcome is Outcome.sent]
        async with in_transaction() as tx:
            if sent:
                await tx.execute_many(
                    for_dialect(queries.MARK_SENT_SQL, dialect),
                    [
                        [
                            s.at,
                            s.result.reference[:64],
                            s.result.code[:64],
                            s.taken.id,
                            self.worker_id,
                        ]
                        for s in sent
                    ],
                )
                await _release_reserve(tx, [s.taken for s in sent], to=S.skipped)
            for s in settled:
                if s.result.outcome is not Outcome.sent:
                    await self._settle_other(tx, s, policy)
            await DeliveryAttempt.bulk_create(attempts, using_db=tx)

    async def _settle_other(self, tx: BaseDBAsyncClient, s: Settled, policy: SendPolicy) -> None:
        taken, result = s.taken, s.result
        base = {
            "locked_by": "",
            "locked_until": None,
            "last_code": result.code[:64],
            "last_error": redact(result.detail)[:DETAIL_MAX],
            "updated_at": s.at,
        }
        mine = Delivery.filter(id=taken.id, locked_by=self.worker_id).using_db(tx)
        if result.outcome is Outcome.no_consent:
            await mine.update(status=S.skipped.value, **base)
            await zero_grant(
                tx,
                openid=self.envelope(taken).address,
                template_id=taken.template,
                cipher=self.deps.cipher,
                now=s.at,
            )
            await _release_reserve(tx, [taken], to=S.queued, now=s.at, quiet=self.deps.quiet_hours)
            return
        if result.outcome is Outcome.transient and taken.attempts < policy.max_attempts:
            delay = backoff_s(
                taken.attempts,
                base_s=policy.backoff_base_s,
                cap_s=policy.backoff_max_s,
                rng=self._rng,
            )
            await mine.update(
                status=S.queued.value, next_at=s.at + timedelta(seconds=delay), **base
            )
            return
        await mine.update(status=S.failed.value, failed_field=result.field[:32], **base)
        await _release_reserve(tx, [taken], to=S.queued, now=s.at, quiet=self.deps.quiet_hours)
        log.error(
            "notify message failed",
            extra={
                "delivery_id": taken.id,
                "kind": taken.kind,
                "channel": taken.channel,
                "template": taken.template,
                "code": result.code,
                "field": result.field or None,
                "attempts": taken.attempts,
            },
        )

    async def recover(self, *, now: datetime) -> int:
        """Rows whose worker stopped during the call: settled by asking the channel."""
        stale = await Delivery.filter(status=S.sending.value, locked_until__lt=now).values_list(
            "id", flat=True
        )
        count = 0
        for delivery_id in list(stale)[: self.deps.policy.batch_size]:
            sql = for_dialect(queries.TAKE_STALE_SQL, _dialect())
            rows = await connections.get("default").execute_query_dict(
                sql,
                [
                    self.worker_id,
                    now,
                    now + timedelta(seconds=self.deps.policy.lease_s),
                    int(str(delivery_id)),
                ],
            )
            if not rows:
                continue  # another worker took it over
            taken = Taken.of(rows[0])
            channel = self.deps.channels.get(taken.channel)
            known = (
                await channel.lookup(self.envelope(taken), sent_at=taken.updated_at)
                if channel is not None
                else Known.unknown
            )
            await self._settle_recovered(taken, known, now=now)
            count += 1
        return count

    async def _settle_recovered(self, taken: Taken, known: Known, *, now: datetime) -> None:
        async with in_transaction() as tx:
            mine = Delivery.filter(id=taken.id, locked_by=self.worker_id).using_db(tx)
            base = {"locked_by": "", "locked_until": None, "updated_at": now}
            if known is Known.sent:
                await mine.update(status=S.sent.value, sent_at=now, last_code="recovered", **base)
                await _release_reserve(tx, [taken], to=S.skipped)
            elif known is Known.not_sent:
                await mine.update(status=S.queued.value, next_at=now, last_code="recovered", **base)
            else:
                await mine.update(
                    status=S.uncertain.value,
                    last_code="uncertain",
                    last_error="工作进程在发送途中停止，渠道无法确认是否送达",
                    **base,
                )
                # The person hears of it at least once: the SMS in reserve goes out.
                await _release_reserve(
                    tx, [taken], to=S.queued, now=now, quiet=self.deps.quiet_hours
                )
            await DeliveryAttempt.create(
                delivery_id=taken.id,
                at=now,
                outcome=f"recovered_{known.value}"[:16],
                code="recovered",
                using_db=tx,
            )
        log.warning(
            "notify message recovered after a stopped worker",
            extra={"delivery_id": taken.id, "channel": taken.channel, "known": known.value},
        )


async def _release_reserve(
    tx: BaseDBAsyncClient,
    rows: Sequence[Taken],
    *,
    to: DeliveryStatus,
    now: datetime | None = None,
    quiet: QuietHours | None = None,
) -> None:
    """The SMS kept in reserve for the same events: dropped (WeChat took the message) or
    queued (WeChat could not)."""
    keys = [ledger_key(r.event_key, "sms", r.recipient) for r in rows if r.channel == "wechat"]
    if not keys:
        return
    held = Delivery.filter(key__in=keys, status=S.held.value).using_db(tx)
    if to is S.skipped:
        await held.update(status=S.skipped.value, last_code="wechat_sent")
        return
    assert now is not None and quiet is not None
    for delivery in await held:
        next_at = now if delivery.urgent else quiet.next_allowed(now)
        await (
            Delivery.filter(id=delivery.id, status=S.held.value)
            .using_db(tx)
            .update(status=S.queued.value, next_at=next_at, updated_at=now)
        )


#: The shape of every key ``ledger_key`` makes: anything else in a receipt is not ours.
_KEY_SHAPE = re.compile(r"[a-z][0-9a-f]{40}")


async def record_receipts(receipts: Sequence[tuple[str, bool]], *, now: datetime) -> int:
    """SMS delivery receipts (``OutId``, delivered?): the handset's answer, kept on the row.
    The first receipt of a message is its answer: a repeated, late or out-of-order one changes
    nothing, and one for a key we cannot have made (another sender's, a forged one) is
    skipped, not a failure of the whole batch."""
    changed = 0
    for key, delivered in receipts:
        if not _KEY_SHAPE.fullmatch(key):
            continue
        changed += await Delivery.filter(key=key, channel="sms", receipt="").update(
            receipt="delivered" if delivered else "undelivered", updated_at=now
        )
    return changed


async def readdress(
    *,
    recipient: str,
    channel: str,
    address: str | None,
    cipher: FieldCipher | None = None,
    now: datetime,
) -> int:
    """A person's address on ``channel`` changed (a newly bound number, a staff member bound
    again) or is gone (a deactivated account): the messages not sent yet follow it, or are
    dropped. Returns how many rows changed."""
    waiting = Delivery.filter(
        recipient=recipient, channel=channel, status__in=(S.queued.value, S.held.value)
    )
    if address is None:
        return await waiting.update(
            status=S.skipped.value, last_code="address_gone", updated_at=now
        )
    assert cipher is not None, "a new address is sealed"
    return await waiting.update(
        address_sealed=cipher.encrypt(address, context=ADDRESS_CONTEXT), updated_at=now
    )
