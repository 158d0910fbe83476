"""Progress messages end to end: a case's steps reach the applicant and the staff through the
real outbox, the real worker (in process) and the sandbox peers in their own process, which
enforce WeChat's consent and field rules and the SMS provider's.

What a message "was sent" means is read back from the peers' control API (what WeChat or the
SMS provider received) and from our inbox, never from our own ledger alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sanic import Sanic

from core.settings import Settings
from notify.catalogue import load_catalogue
from notify.ledger import Message, QuietHours, Recipient, Sender, publish
from notify.models import ConsentGrant, Delivery, DeliveryAttempt, InboxMessage
from tests.cases_flow import Scene, draft, filed
from tests.people import Phone, uid

CATALOGUE = load_catalogue("")
PROGRESS = CATALOGUE.wechat["progress"].template_id
CORRECTION = CATALOGUE.wechat["correction"].template_id
STAFF_TASK = CATALOGUE.wechat["staff_task"].template_id


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within_s: float = 15.0, every_s: float = 0.1
) -> Any:
    """``check()``'s first truthy answer; fails after ``within_s``."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(every_s)


async def wx_messages(sandbox: httpx.AsyncClient, openid: str, template: str | None = None) -> list:
    params = {"openid": openid, **({"template_id": template} if template else {})}
    answer = await sandbox.get("/wechat/_control/subscribe-messages", params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["messages"])


async def tap_allow(sandbox: httpx.AsyncClient, person: Phone, *templates: str) -> None:
    """The phone's consent sheet: WeChat records the acceptance (the peer), and the mini-program
    reports it to us."""
    results = {t: "accept" for t in templates}
    peer = await sandbox.post(
        "/wechat/_control/subscribe", json={"openid": person.openid, "results": results}
    )
    assert peer.status_code == 200, peer.text
    ours = await person.call("POST", "/api/v1/me/subscriptions", json={"results": results})
    assert ours.status_code == 200, ours.text


async def inbox(person: Any, prefix: str = "/api/v1/me") -> dict[str, Any]:
    answer = await person.call("GET", f"{prefix}/messages")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_submission_reaches_the_applicant_in_wechat_and_the_inbox(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    person = scene.person
    await tap_allow(sandbox, person, PROGRESS)
    case_id = await filed(person, scene.cat)

    sent = await eventually(lambda: wx_messages(sandbox, person.openid or "", PROGRESS))
    assert len(sent) == 1
    message = sent[0]
    assert message["page"] == f"pages/case/detail?id={case_id}"
    assert message["data"]["phrase3"]["value"] == "已提交"
    lines = (await inbox(person))["messages"]
    assert [m["kind"] for m in lines] == ["case.submitted"]
    assert lines[0]["link"] == f"pages/case/detail?id={case_id}"
    assert (await inbox(person))["unread"] == 1
    # The one-time acceptance is spent: the next message of that template has none.
    grants = (await person.call("GET", "/api/v1/me/subscriptions")).json()["grants"]
    progress = next(g for g in grants if g["template_id"] == PROGRESS)
    assert progress["remaining"] == 0


async def test_without_consent_only_the_inbox_carries_it_and_wechat_is_not_called(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    person = scene.person
    await filed(person, scene.cat)
    await eventually(lambda: InboxMessage.filter(recipient=f"user:{uid(person)}").exists())
    await eventually(lambda: Delivery.filter(channel="wechat", status="skipped").exists())
    assert await wx_messages(sandbox, person.openid or "") == []


async def test_the_phone_asks_only_for_templates_whose_acceptances_are_used_up(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    person = scene.person
    before = (
        await person.call("GET", "/api/v1/me/subscriptions/to-ask", params={"moment": "submit"})
    ).json()
    assert PROGRESS in before["template_ids"] and len(before["template_ids"]) <= 3
    await tap_allow(sandbox, person, PROGRESS)
    after = (
        await person.call("GET", "/api/v1/me/subscriptions/to-ask", params={"moment": "submit"})
    ).json()
    assert PROGRESS not in after["template_ids"]


async def test_the_case_page_holds_what_to_ask_before_submitting(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    """wx.requestSubscribeMessage runs only inside a tap: the case itself says which templates
    the submit tap asks for, so the page needs no call of its own (found by the mini-program);
    once submitted, nothing is asked."""
    person = scene.person
    case = await draft(person, scene.cat.item)
    detail = (await person.call("GET", f"/api/v1/cases/{case['id']}")).json()
    asked = detail["subscriptions_to_ask"]
    assert asked["moment"] == "submit" and PROGRESS in asked["template_ids"]
    separate = await person.call(
        "GET", "/api/v1/me/subscriptions/to-ask", params={"moment": "submit"}
    )
    assert asked == separate.json()
    case_id = await filed(person, scene.cat)
    submitted = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()
    assert submitted["subscriptions_to_ask"] is None


async def test_grant_accounting_accept_twice_sends_twice_then_no_more(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    person = scene.person
    await tap_allow(sandbox, person, PROGRESS)
    await tap_allow(sandbox, person, PROGRESS)
    for _ in range(3):
        await filed(person, scene.cat)
    await eventually(
        lambda: InboxMessage.filter(recipient=f"user:{uid(person)}").count(),
    )
    await eventually(
        lambda: _count_is(InboxMessage.filter(recipient=f"user:{uid(person)}").count(), 3)
    )
    sent = await eventually(lambda: _len_is(wx_messages(sandbox, person.openid or ""), 2))
    assert len(sent) == 2
    assert (
        await Delivery.filter(
            channel="wechat", status="skipped", last_code="no_grant", kind="case.submitted"
        ).count()
        == 1
    )


async def _count_is(counting: Awaitable[int], wanted: int) -> bool:
    return await counting == wanted


async def _len_is(listing: Awaitable[list], wanted: int) -> list | None:
    found = await listing
    return found if len(found) == wanted else None


@pytest.mark.parametrize("answer", ["reject", "ban", "filter"])
async def test_a_refusal_grants_nothing(
    scene: Scene, sandbox: httpx.AsyncClient, answer: str
) -> None:
    person = scene.person
    reported = await person.call(
        "POST", "/api/v1/me/subscriptions", json={"results": {PROGRESS: answer}}
    )
    assert reported.status_code == 200, reported.text
    grant = next(g for g in reported.json()["grants"] if g["template_id"] == PROGRESS)
    assert grant["remaining"] == 0 and grant["last_result"] == answer
    to_ask = (
        await person.call("GET", "/api/v1/me/subscriptions/to-ask", params={"moment": "submit"})
    ).json()["template_ids"]
    assert (PROGRESS in to_ask) is (answer != "ban")


async def test_wechat_43101_zeroes_our_count_and_falls_back(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    """We were told "accept" but WeChat holds no acceptance (the peer was never told): WeChat
    answers 43101, our count goes to zero, and the message is skipped on WeChat."""
    person = scene.person
    ours = await person.call(
        "POST", "/api/v1/me/subscriptions", json={"results": {PROGRESS: "accept"}}
    )
    assert ours.status_code == 200
    await filed(person, scene.cat)
    row = await eventually(
        lambda: Delivery.filter(channel="wechat", status="skipped", last_code="43101").first()
    )
    assert row is not None
    grant = await ConsentGrant.get(template_id=PROGRESS)
    assert grant.remaining == 0 and grant.refused_at is not None


async def test_consent_reports_are_bounded(scene: Scene) -> None:
    person = scene.person
    unknown = await person.call(
        "POST", "/api/v1/me/subscriptions", json={"results": {"NotOurTemplate": "accept"}}
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "notify.unknown_template"
    four = {t.template_id: "accept" for t in list(CATALOGUE.wechat.values())[:4]}
    too_many = await person.call("POST", "/api/v1/me/subscriptions", json={"results": four})
    assert too_many.status_code == 400
    wrong = await person.call(
        "POST", "/api/v1/me/subscriptions", json={"results": {PROGRESS: "yes"}}
    )
    assert wrong.status_code == 400
    assert await ConsentGrant.all().count() == 0


async def test_nobody_reads_or_marks_someone_elses_messages(
    scene: Scene, stranger: Phone, sandbox: httpx.AsyncClient
) -> None:
    person = scene.person
    await filed(person, scene.cat)
    lines = await eventually(lambda: _inbox_lines(person))
    mine = lines[0]["id"]
    assert (await inbox(stranger))["messages"] == []
    marked = await stranger.call("POST", f"/api/v1/me/messages/{mine}/read")
    assert marked.status_code == 404
    assert marked.json()["error"]["code"] == "notify.message_not_found"
    everything = await stranger.call("POST", "/api/v1/me/messages/read-all")
    assert everything.json()["marked"] == 0
    assert (await InboxMessage.get(id=mine)).read_at is None
    # staff see their own inbox, never a citizen's line
    staff_mark = await scene.staff.clerk.call("POST", f"/api/v1/staff/messages/{mine}/read")
    assert staff_mark.status_code == 404
    # the owner marks it, once
    first = await person.call("POST", f"/api/v1/me/messages/{mine}/read")
    again = await person.call("POST", f"/api/v1/me/messages/{mine}/read")
    assert first.status_code == again.status_code == 200
    assert first.json()["read_at"] == again.json()["read_at"]
    assert first.json()["unread"] == 0


async def _inbox_lines(person: Phone) -> list:
    return list((await inbox(person))["messages"])


async def test_the_clerks_hear_of_new_cases_in_one_batched_message(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    clerk = scene.staff.clerk
    peer = await sandbox.post(
        "/wechat/_control/subscribe",
        json={"openid": clerk.openid, "results": {STAFF_TASK: "accept"}},
    )
    assert peer.status_code == 200, peer.text
    reported = await clerk.call(
        "POST", "/api/v1/staff/subscriptions", json={"results": {STAFF_TASK: "accept"}}
    )
    assert reported.status_code == 200, reported.text
    deps = scene.app.ctx.resources.notify
    original = deps.policy
    from dataclasses import replace

    deps.policy = replace(original, staff_batch_s=2)
    try:
        for _ in range(3):
            await filed(scene.person, scene.cat)
        sent = await eventually(lambda: wx_messages(sandbox, clerk.openid or "", STAFF_TASK))
        await asyncio.sleep(1.0)
        sent = await wx_messages(sandbox, clerk.openid or "", STAFF_TASK)
    finally:
        deps.policy = original
    assert len(sent) == 1, sent
    assert sent[0]["data"]["number2"]["value"] == "3"
    # the inbox has one line per case
    lines = (await inbox(clerk, "/api/v1/staff"))["messages"]
    assert [m["kind"] for m in lines] == ["staff.queue"] * 3


async def test_a_replayed_event_publishes_nothing_twice(scene: Scene) -> None:
    deps = scene.app.ctx.resources.notify
    person = scene.person
    now = datetime.now(UTC)
    message = Message(
        kind="case.accepted",
        event_key="outbox:999999:case.accepted",
        recipient=Recipient(ref=f"user:{uid(person)}", openid=person.openid),
        title="申请已受理",
        body="测试",
        values={"item": "测试事项", "number": "A1", "status": "已受理", "at": now, "note": "-"},
        event_at=now,
    )
    assert await publish([message], deps=deps, now=now) == 1
    assert await publish([message], deps=deps, now=now) == 0
    assert await InboxMessage.filter(recipient=f"user:{uid(person)}").count() == 1
    assert await Delivery.filter(event_key="outbox:999999:case.accepted").count() == 1


async def test_a_busy_wechat_is_tried_again_until_it_takes_the_message(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    deps = scene.app.ctx.resources.notify
    original = deps.policy
    from dataclasses import replace

    deps.policy = replace(original, backoff_base_s=0.05, backoff_max_s=0.2)
    person = scene.person
    await tap_allow(sandbox, person, PROGRESS)
    fault = await sandbox.post(
        "/wechat/_control/subscribe-faults", json={"mode": "busy", "count": 2}
    )
    assert fault.status_code == 200, fault.text
    try:
        await filed(person, scene.cat)
        sent = await eventually(lambda: wx_messages(sandbox, person.openid or "", PROGRESS))
    finally:
        deps.policy = original
        await sandbox.post("/wechat/_control/subscribe-faults", json={"mode": "normal"})
    assert len(sent) == 1
    row = await Delivery.get(channel="wechat", status="sent", kind="case.submitted")
    assert row.attempts == 3
    assert await DeliveryAttempt.filter(delivery_id=row.id).count() == 3


async def test_a_worker_stopped_mid_send_leaves_uncertain_rows_never_sent_twice(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    """A sender takes a batch and dies while WeChat is answering slowly (the message arrives,
    the answer never does): the next pass finds the rows after their lease, cannot ask WeChat,
    and records them uncertain; nothing is sent again; administrators list them."""
    app: Sanic = scene.app
    deps = app.ctx.resources.notify
    person = scene.person
    from tests.cases_service import worker_paused

    await tap_allow(sandbox, person, PROGRESS)
    async with worker_paused(app):
        case_id = await filed(person, scene.cat)
        # deliver the outbox event by hand: the message is published, not sent
        from api.wiring import WorkerDeps, build_worker

        worker = build_worker(WorkerDeps.of(app.ctx.resources))
        while await worker.run_once():
            pass
        await sandbox.post(
            "/wechat/_control/subscribe-faults", json={"mode": "slow", "delay_s": 3, "count": 1}
        )
        dying = Sender(deps, worker_id="dying-worker")
        task = asyncio.create_task(dying.run_once(now=datetime.now(UTC)))
        await eventually(lambda: wx_messages(sandbox, person.openid or "", PROGRESS))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        row = await Delivery.get(channel="wechat", kind="case.submitted")
        assert row.status == "sending"
        later = datetime.now(UTC) + timedelta(seconds=deps.policy.lease_s + 1)
        assert await Sender(deps, worker_id="next-worker").run_once(now=later) >= 1
        await sandbox.post("/wechat/_control/subscribe-faults", json={"mode": "normal"})
    row = await Delivery.get(channel="wechat", kind="case.submitted")
    assert row.status == "uncertain"
    assert len(await wx_messages(sandbox, person.openid or "", PROGRESS)) == 1
    admin = await _admin(scene)
    listed = await admin.call(
        "GET", "/api/v1/admin/notify/deliveries", params={"status": "uncertain"}
    )
    assert listed.status_code == 200, listed.text
    assert [d["id"] for d in listed.json()["deliveries"]] == [row.id]
    assert case_id


async def _admin(scene: Scene) -> Any:
    from tests.staff import staff_member

    return await staff_member(
        scene.app,
        scene.person.api,
        scene.person.sandbox,
        department_code=scene.cat.lead,
        roles=["admin"],
    )


# --- SMS: the verified number only, consent to none needed, quiet hours, opt-out, receipts ------


async def bind_phone(person: Phone, number: str) -> None:
    """The phone-number button: WeChat vouches for the number; the only one SMS goes to."""
    issued = await person.sandbox.post(
        "/wechat/_control/phone-code", json={"openid": person.openid, "phone_number": number}
    )
    assert issued.status_code == 200, issued.text
    bound = await person.call("POST", "/api/v1/me/phone", json={"code": issued.json()["code"]})
    assert bound.status_code == 200, bound.text


def a_number() -> str:
    import secrets

    return "137" + f"{secrets.randbelow(10**8):08d}"


async def sms_to(sandbox: httpx.AsyncClient, number: str) -> list:
    answer = await sandbox.get("/sms/_control/messages", params={"phone": number})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["messages"])


async def test_without_wechat_consent_the_verified_number_gets_an_sms_and_its_receipt(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    person, number = scene.person, a_number()
    await bind_phone(person, number)
    deps = scene.app.ctx.resources.notify
    original = deps.quiet_hours
    deps.quiet_hours = QuietHours.parse("00:00-00:00")  # never quiet: the test runs any hour
    try:
        case_id = await filed(person, scene.cat)
        await _accept(scene, case_id)
        sent = await eventually(lambda: sms_to(sandbox, number))
    finally:
        deps.quiet_hours = original
    assert [m["template"] for m in sent] == [CATALOGUE.sms["progress"].code]
    assert "已受理" in sent[0]["content"]
    row = await Delivery.get(channel="sms", kind="case.accepted")
    assert sent[0]["out_id"] == row.key
    await sandbox.post("/sms/_control/push")
    receipt = await eventually(
        lambda: Delivery.filter(id=row.id, receipt="delivered").exists(), within_s=20
    )
    assert receipt


async def _accept(scene: Scene, case_id: int) -> None:
    from tests.cases_flow import open_task  # noqa: F401 - the clerk's pre-review

    accepted = await scene.staff.clerk.call(
        "POST", f"/api/v1/staff/cases/{case_id}/accept", json={}
    )
    assert accepted.status_code == 200, accepted.text


async def test_quiet_hours_defer_an_sms_that_can_wait_and_not_an_urgent_one(
    scene: Scene,
) -> None:
    deps = scene.app.ctx.resources.notify
    person = scene.person
    night = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # 23:30 in China
    recipient = Recipient(ref=f"user:{uid(person)}", openid=None, phone="13912345678")

    def message(key: str, urgent: bool) -> Message:
        return Message(
            kind="case.fee_reminder",
            event_key=key,
            recipient=recipient,
            title="缴费提醒",
            body="测试",
            values={
                "item": "测试事项",
                "amount": 1000,
                "deadline": night.date(),
                "status": "待缴费",
                "note": "-",
                "number": "A1",
                "at": night,
            },
            event_at=night,
            urgent=urgent,
        )

    async with _paused(scene.app):
        await publish([message("outbox:1:a", False)], deps=deps, now=night)
        await publish([message("outbox:2:b", True)], deps=deps, now=night)
    waits = await Delivery.get(event_key="outbox:1:a", channel="sms")
    now = await Delivery.get(event_key="outbox:2:b", channel="sms")
    assert waits.next_at.astimezone(UTC) == datetime(2026, 12, 8, 0, 0, tzinfo=UTC)  # 08:00
    assert now.next_at.astimezone(UTC) == night


def _paused(app: Sanic) -> Any:
    from tests.cases_service import worker_paused

    return worker_paused(app)


async def test_no_sms_after_opting_out_or_without_a_verified_number(
    scene: Scene, stranger: Phone, sandbox: httpx.AsyncClient
) -> None:
    person = scene.person
    await bind_phone(person, a_number())
    off = await person.call("PUT", "/api/v1/me/notification-settings", json={"sms": False})
    assert off.status_code == 200 and off.json() == {"sms": False}
    deps = scene.app.ctx.resources.notify
    now = datetime.now(UTC)
    from auth import contacts

    people = await contacts.users([uid(person), uid(stranger)], cipher=deps.cipher)
    assert people[1].phone is None  # the stranger never bound a number
    messages = [
        Message(
            kind="case.accepted",
            event_key="outbox:7:x",
            recipient=r,
            title="申请已受理",
            body="测试",
            values={"item": "测试", "number": "A1", "status": "已受理", "at": now, "note": "-"},
            event_at=now,
        )
        for r in people
    ]
    await publish(messages, deps=deps, now=now)
    assert await Delivery.filter(channel="sms").count() == 0
    assert await InboxMessage.filter(dedupe__startswith="outbox:7:x").count() == 2


async def test_receipts_need_the_secret_url(client: httpx.AsyncClient) -> None:
    report = (
        b'[{"phone_number":"13912345678","send_time":"2026-12-07 10:00:00",'
        b'"report_time":"2026-12-07 10:00:05","success":true,"err_code":"DELIVERED",'
        b'"err_msg":"ok","sms_size":"1","biz_id":"1^0","out_id":"sabc"}]'
    )
    forged = await client.post("/callbacks/sms/aliyun", params={"token": "guess"}, content=report)
    assert forged.status_code == 403
    garbage = await client.post(
        "/callbacks/sms/aliyun",
        params={"token": Settings().sms_report_token},
        content=b"\xff\xfe not json",
    )
    assert garbage.status_code == 400


async def test_a_refused_field_fails_alerts_and_is_replayed_once_fixed(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    """WeChat's template changed under us (a keyword we do not send): 47003 names it, the
    message fails at once (no retry), an alert is raised, and an administrator replays it once
    the catalogue is fixed."""
    person = scene.person
    await tap_allow(sandbox, person, PROGRESS)
    changed = await sandbox.put(
        "/wechat/_control/subscribe-templates",
        json={
            "templates": {
                PROGRESS: {"keys": [*list(CATALOGUE.wechat["progress"].data)[:4], "thing9"]}
            }
        },
    )
    assert changed.status_code == 200, changed.text
    try:
        await filed(person, scene.cat)
        row = await eventually(
            lambda: Delivery.filter(
                kind="case.submitted", channel="wechat", status="failed"
            ).first()
        )
    finally:
        restored = await sandbox.put(
            "/wechat/_control/subscribe-templates",
            json={"templates": {PROGRESS: {"keys": list(CATALOGUE.wechat["progress"].data)}}},
        )
        assert restored.status_code == 200
    assert row.attempts == 1 and row.last_code == "47003"
    assert row.failed_field in ("thing5", "thing9")
    from notify import admin

    assert await admin.raise_alerts(threshold=1, now=datetime.now(UTC)) == 1
    assert await admin.raise_alerts(threshold=1, now=datetime.now(UTC)) == 0
    operator = await _admin(scene)
    alerts = await operator.call("GET", "/api/v1/admin/notify/alerts")
    assert alerts.json()["alerts"][0]["kind"] == "case.submitted"
    replayed = await operator.call("POST", f"/api/v1/admin/notify/deliveries/{row.id}/replay")
    assert replayed.status_code == 200, replayed.text
    again = await operator.call("POST", f"/api/v1/admin/notify/deliveries/{row.id}/replay")
    assert again.status_code == 409
    sent = await eventually(lambda: wx_messages(sandbox, person.openid or "", PROGRESS))
    assert len(sent) == 1


# --- found from outside: access ends the messages; send-time checks; receipts ---------------


async def test_an_ended_mandate_ends_the_agents_messages(
    scene: Scene, stranger: Phone, sandbox: httpx.AsyncClient
) -> None:
    from tests.cases_flow import attach, draft, required_materials
    from tests.people import grant_mandate

    principal, agent = scene.person, stranger
    mandate = await grant_mandate(principal, agent, [scene.cat.item])
    case = await draft(agent, scene.cat.item, principal_user_id=uid(principal))
    for material in required_materials(scene.cat, scene.cat.item):
        await attach(agent, case["id"], scene.cat.item, material)
    submitted = await agent.call("POST", f"/api/v1/cases/{case['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    for person in (principal, agent):
        await eventually(lambda p=person: _kinds_include(p, "case.submitted"))
    ended = await principal.call("DELETE", f"/api/v1/mandates/{mandate['id']}")
    assert ended.status_code == 204, ended.text
    await _accept(scene, case["id"])
    await eventually(lambda: _kinds_include(principal, "case.accepted"))
    from tests.cases_service import outbox_settled

    await outbox_settled(scene.app)
    assert not await _kinds_include(agent, "case.accepted")


async def _kinds_include(person: Phone, kind: str) -> bool:
    return kind in [m["kind"] for m in (await inbox(person))["messages"]]


async def test_an_sms_waiting_follows_the_opt_out_and_the_new_number(
    scene: Scene, stranger: Phone, sandbox: httpx.AsyncClient
) -> None:
    """Decided again when it is sent: someone who opted out since gets no SMS; someone who bound
    another number gets it there."""
    deps = scene.app.ctx.resources.notify
    old, new = a_number(), a_number()
    await bind_phone(scene.person, old)
    await bind_phone(stranger, a_number())
    now = datetime.now(UTC)
    from auth import contacts

    async with _paused(scene.app):
        people = await contacts.users([uid(scene.person), uid(stranger)], cipher=deps.cipher)
        await publish(
            [
                Message(
                    kind="case.accepted",
                    event_key="outbox:5:y",
                    recipient=r,
                    title="申请已受理",
                    body="测试",
                    values={
                        "item": "测试",
                        "number": "A1",
                        "status": "已受理",
                        "at": now,
                        "note": "-",
                    },
                    event_at=now,
                    urgent=True,
                )
                for r in people
            ],
            deps=deps,
            now=now,
        )
        off = await stranger.call("PUT", "/api/v1/me/notification-settings", json={"sms": False})
        assert off.status_code == 200
        await bind_phone(scene.person, new)
        await Sender(deps, worker_id="test").run_once(now=datetime.now(UTC))
    skipped = await Delivery.get(recipient=f"user:{uid(stranger)}", channel="sms")
    assert skipped.status == "skipped" and skipped.last_code == "opted_out"
    assert (
        await Delivery.get(recipient=f"user:{uid(scene.person)}", channel="sms")
    ).status == "sent"
    assert await sms_to(sandbox, old) == []
    assert len(await sms_to(sandbox, new)) == 1


async def test_receipts_the_ledger_cannot_have_made_are_skipped_and_the_first_one_holds(
    client: httpx.AsyncClient,
) -> None:
    token = Settings().sms_report_token
    deep = b"[" * 3000 + b"]" * 3000
    answer = await client.post("/callbacks/sms/aliyun", params={"token": token}, content=deep)
    assert answer.status_code == 400
    foreign = b'[{"biz_id":"x","success":true,"out_id":"' + b"z" * 200 + b'"}]'
    answer = await client.post("/callbacks/sms/aliyun", params={"token": token}, content=foreign)
    assert answer.status_code == 200 and answer.json()["code"] == 0
    from notify.ledger import record_receipts

    now = datetime.now(UTC)
    key = "s" + "0" * 40
    await Delivery.create(
        key=key,
        event_key="outbox:1:r",
        channel="sms",
        recipient="user:1",
        kind="case.accepted",
        template="SMS_460001",
        address_sealed="-",
        status="sent",
        next_at=now,
        event_at=now,
        created_at=now,
        updated_at=now,
    )
    assert await record_receipts([(key, True)], now=now) == 1
    assert await record_receipts([(key, False)], now=now) == 0
    assert (await Delivery.get(key=key)).receipt == "delivered"
