"""The send ledger survives a killed worker: a real ``zhangban worker`` process is killed
(SIGKILL) while its batch of messages is on the wire to slow peers, and a second one settles
the batch: nothing lost, nothing sent twice on any channel, the uncertain ones listed.

Six messages: three to people who allowed the WeChat template (WeChat carries them), three to
people with only a verified number (SMS). Both peers answer after 3 s, and the first worker takes
and sends two at a time (it takes no more than it sends at once), so at the kill two messages
have reached a peer without an answer and four wait in the ledger. The second worker finds the
two ``sending`` with a lapsed lease and asks their channel: the SMS provider's query finds an SMS
that arrived (settled sent, not sent again); WeChat cannot be asked, so a WeChat message in
flight ends ``uncertain`` — listed for the administrators, never sent a second time by the
worker. The four that waited are sent once each.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sanic import Sanic

from notify import consent
from notify.catalogue import load_catalogue
from notify.ledger import Message, QuietHours, Recipient, publish
from notify.models import Delivery
from tests.conftest import SANDBOX_APPID, SANDBOX_SECRET
from tests.functional.test_worker_process import paused, wait_for, worker_process  # noqa: F401
from tests.processes import clean_env

CATALOGUE = load_catalogue("")
PROGRESS = CATALOGUE.wechat["progress"].template_id
SLOW_S = 3


def _env(app: Sanic, var_dir: Path) -> dict[str, str]:
    settings = app.ctx.settings
    return clean_env(
        ZB_DATABASE_URL=settings.database_url,
        ZB_REDIS_URL=settings.redis_url,
        ZB_VAR_DIR=str(var_dir),
        ZB_SECRET_KEY=settings.secret_key,
        ZB_LOG_LEVEL="INFO",
        ZB_WORKER_IN_PROCESS="false",
        ZB_WORKER_POLL_S="0.1",
        ZB_SANDBOX_ENABLED="false",
        ZB_SANDBOX_BASE_URL=settings.sandbox_base_url,
        ZB_SANDBOX_KEYS_DIR=str(settings.effective_sandbox_keys_dir),
        ZB_WECHAT_APPID=SANDBOX_APPID,
        ZB_WECHAT_SECRET=SANDBOX_SECRET,
        ZB_NOTIFY_LEASE_S="4",
        ZB_NOTIFY_CONCURRENCY="2",
        ZB_NOTIFY_QUIET_HOURS="00:00-00:00",
        ZB_PAYMENT_NOTIFY_BASE_URL=settings.payment_notify_base_url,
    )


async def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    paused: Sanic,  # noqa: F811
    sandbox: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    # never quiet, as the workers below (ZB_NOTIFY_QUIET_HOURS): published in the quiet hours,
    # an SMS would wait for the morning and the test would depend on the hour it runs at
    deps = replace(paused.ctx.resources.notify, quiet_hours=QuietHours.parse("00:00-00:00"))
    now = datetime.now(UTC)
    recipients = []
    for n in range(3):
        openid = (await sandbox.post("/wechat/_control/login-code", json={})).json()["openid"]
        allowed = await sandbox.post(
            "/wechat/_control/subscribe", json={"openid": openid, "results": {PROGRESS: "accept"}}
        )
        assert allowed.status_code == 200, allowed.text
        await consent.report(
            openid=openid,
            results={PROGRESS: "accept"},
            catalogue=deps.catalogue,
            cipher=deps.cipher,
            now=now,
        )
        recipients.append(Recipient(ref=f"user:{900 + n}", openid=openid))
    for n in range(3):
        recipients.append(Recipient(ref=f"user:{950 + n}", phone=f"1360000{n:04d}"))
    messages = [
        Message(
            kind="case.accepted",
            event_key=f"outbox:{800 + i}:case.accepted",
            recipient=r,
            title="申请已受理",
            body="测试",
            values={
                "item": "测试事项",
                "number": f"A{i}",
                "status": "已受理",
                "at": now,
                "note": "-",
            },
            event_at=now,
        )
        for i, r in enumerate(recipients)
    ]
    assert await publish(messages, deps=deps, now=now) == 6
    for path, body in (
        ("/wechat/_control/subscribe-faults", {"mode": "slow", "delay_s": SLOW_S, "count": 0}),
        ("/sms/_control/faults", {"mode": "slow", "delay_s": SLOW_S, "action": "SendSms"}),
    ):
        answer = await sandbox.post(path, json=body)
        assert answer.status_code == 200, answer.text

    async def received() -> tuple[int, int]:
        wx = sms = 0
        for r in recipients:
            if r.openid:
                got = await sandbox.get(
                    "/wechat/_control/subscribe-messages", params={"openid": r.openid}
                )
                wx += len(got.json()["messages"])
            else:
                got = await sandbox.get("/sms/_control/messages", params={"phone": r.phone})
                sms += len(got.json()["messages"])
        return wx, sms

    log_path = tmp_path / "worker.log"
    env = _env(paused, tmp_path / "var")
    with worker_process(env, log_path) as first:
        deadline = asyncio.get_running_loop().time() + 60
        while sum(await received()) < 2:
            assert asyncio.get_running_loop().time() < deadline, log_path.read_text()
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
    in_flight = await received()
    assert sum(in_flight) == 2
    taken = await Delivery.filter(status="sending")
    assert len(taken) == 2  # on the wire at the kill: taken, not settled
    for path, body in (
        ("/wechat/_control/subscribe-faults", {"mode": "normal"}),
        ("/sms/_control/faults", {}),
    ):
        assert (await sandbox.post(path, json=body)).status_code == 200
    await asyncio.sleep(SLOW_S + 0.5)  # the slow peers finish what they were holding

    with worker_process(env, log_path) as second:

        async def settled() -> bool:
            return not await Delivery.filter(status__in=("sending", "queued")).exists()

        deadline = asyncio.get_running_loop().time() + 60
        while not await settled():
            assert asyncio.get_running_loop().time() < deadline, log_path.read_text()
            await asyncio.sleep(0.1)
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    # Nothing lost, nothing sent twice: exactly one message per person on their channel.
    for r in recipients:
        if r.openid:
            got = await sandbox.get(
                "/wechat/_control/subscribe-messages", params={"openid": r.openid}
            )
        else:
            got = await sandbox.get("/sms/_control/messages", params={"phone": r.phone})
        assert len(got.json()["messages"]) == 1, (r, got.json())
    rows = {d.id: d for d in await Delivery.all()}
    on_the_wire = {d.id for d in taken}
    for d in rows.values():
        if d.id in on_the_wire and d.channel == "wechat":
            assert d.status == "uncertain"  # WeChat cannot be asked; not sent again
        else:
            assert d.status == "sent", d
    wait_for(lambda: "recovered" in log_path.read_text(errors="replace"), "the log", log_path, 1)
