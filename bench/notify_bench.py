"""The outbox handler of bench/notify.sh: one progress message per ``bench.notify`` event.

A real ``zhangban worker`` loads it through the documented hook for handlers that are not part
of the code base::

    PYTHONPATH=<project root> ZB_WORKER_EXTRA_HANDLERS=bench.notify_bench:register zhangban worker

Each event's payload names its recipient as the orchestrator would have found them (``ref``
``user:<n>``, ``openid``, a verified ``phone``) and a sequence number ``n``; the handler builds
the ``case.accepted`` message cases would (``cases.notices``: the item, the case number, the
status, the time and the promise), keyed ``outbox:<event id>:bench``, and hands it to
``notify.ledger.publish``, as ``cases.notices.CaseNotices._publish`` does. From there on
everything is the application's own: consent spent or not, the WeChat row and the SMS in
reserve, or the SMS alone, the ledger drained by every worker's ``notify.send`` pump.

What the real handler does and this one does not: read the case and the people's contacts
(``auth.contacts``: the openid and the phone decrypted). The benchmark is about the drain.

**Which NotifyDeps.** ``_install_extra`` calls ``register(registry)`` with the registry only.
``api.wiring._install_notify`` has already registered the case handlers, bound methods of a
``CaseNotices`` that holds the worker's own ``NotifyDeps``: ``register`` takes that one, so
``publish`` sets the very ``wake`` event the worker's ``notify.send`` pump waits on, exactly as
for a case event (the pump of the worker that published starts at once; the other worker's
polls). If that ever fails (the wiring changed), it builds a ``NotifyDeps`` of its own from the
settings (``api.wiring.build_notify``) with the pump's ``wake`` event, and says so on stderr.
Either way one line on stderr (the worker's log) says which, and bench/notify.sh checks it.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime, timedelta
from typing import Any

from core.clock import utcnow
from core.worker import Registry
from notify.ledger import Message, NotifyDeps, Recipient, publish

TOPIC = "bench.notify"
HANDLER = "bench.notify.publish"
KIND = "case.accepted"
PUMP = "notify.send"
ITEM = "居民身份证换领"
#: What bench/notify.sh looks for in each worker's log.
READY_LINE = "bench.notify_bench: handler registered"


def message_for(event_id: int, payload: dict[str, Any], now: datetime) -> Message:
    """The message of one ``bench.notify`` event, shaped like ``cases.notices``' acceptance."""
    n = int(payload.get("n", event_id))
    promised = now + timedelta(days=20)
    note = f"承诺{promised:%m月%d日}前办结"
    number = f"ZB2026{n:010d}"
    return Message(
        kind=KIND,
        event_key=f"outbox:{event_id}:bench",
        recipient=Recipient(
            ref=str(payload["ref"]),
            openid=payload.get("openid") or None,
            phone=payload.get("phone") or None,
        ),
        title="申请已受理",
        body=f"{ITEM}（{number}）：{note}。",
        values={"item": ITEM, "number": number, "status": "已受理", "at": now, "note": note},
        event_at=now,
        link=f"pages/case/detail?id={n}",
        subject=f"case:{n}",
    )


def _worker_deps(registry: Registry) -> NotifyDeps | None:
    """The worker's own NotifyDeps, held by the case handlers ``_install_notify`` registered."""
    for spec in registry.handlers:
        deps = getattr(getattr(spec.fn, "__self__", None), "notify", None)
        if isinstance(deps, NotifyDeps):
            return deps
    return None


def _built_deps(registry: Registry) -> NotifyDeps:
    """A NotifyDeps from the settings, sharing the pump's wake event (the fallback)."""
    import httpx  # deferred: only the fallback needs them

    from api.wiring import build_notify
    from core.crypto import FieldCipher
    from core.redis import create_redis
    from core.settings import get_settings
    from platforms.wechat import WeChatClient

    settings = get_settings()
    http = httpx.AsyncClient()  # publish only reads which channels exist; nothing is sent here
    wechat = WeChatClient(settings=settings, redis=create_redis(settings), http=http)
    deps = build_notify(
        settings, http=http, wechat=wechat, cipher=FieldCipher.from_settings(settings)
    )
    _, wake = registry.pumps.get(PUMP, (None, None))
    return dataclasses.replace(deps, wake=wake) if wake is not None else deps


def register(registry: Registry) -> None:
    deps = _worker_deps(registry)
    source = "the worker's own NotifyDeps"
    if deps is None:
        deps = _built_deps(registry)
        source = "a NotifyDeps built from the settings (the worker's was not found)"
    _, pump_wake = registry.pumps.get(PUMP, (None, None))
    shared = pump_wake is not None and deps.wake is pump_wake
    notify = deps

    async def on_event(event_id: int, topic: str, payload: dict[str, Any]) -> None:
        now = utcnow()
        await publish([message_for(event_id, payload, now)], deps=notify, now=now)

    registry.register_handler(TOPIC, HANDLER, on_event)
    print(
        f"{READY_LINE}: {TOPIC} -> {HANDLER}, publishing with {source}; "
        f"wake shared with the {PUMP} pump: {'yes' if shared else 'NO'}",
        file=sys.stderr,
        flush=True,
    )
