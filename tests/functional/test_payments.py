"""Paying a case's fee, end to end: the app over HTTP, the sandbox's WeChat Pay and Alipay peers
as a separate process that calls back over a real socket with signed notifications, the outbox
worker in the server moving the case.

What the issue asks of "exactly once, when things go wrong" is each a test here: duplicated,
reordered and forged callbacks, paying with the second channel, a success after the case was
withdrawn, a callback that never came (the query job repairs it), refunds that stay processing,
the daily reconciliation, the lapse of an unpaid fee, and who may pay, see and refund.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sanic import Sanic

from cases import fees
from cases.kernel import guide_of
from cases.models import Case, CaseEvent
from core.clock import local_today, utcnow
from core.db import in_transaction
from core.models import OutboxEvent
from payments import jobs as payment_jobs
from payments.checkout import start_payment
from payments.errors import OrderAlreadyOpen
from payments.models import ChannelOrder, Discrepancy, FeeOrder, Payment, Refund
from payments.providers.base import ChargeMode, ChargeRequest
from payments.reconciliation import reconcile
from payments.refunds import check_refunds
from tests.bills import seconds_until_todays_bill
from tests.cases_flow import Scene, pass_step
from tests.oversight_flow import accepted
from tests.people import Phone
from tests.staff import Hire, StaffMember

pytestmark = pytest.mark.asyncio


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 15.0) -> None:
    """Wait for what the peers and the worker do on their own time."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def fee_due(scene: Scene) -> int:
    """A case of the paid item (5,000 fen) granted and waiting for its fee."""
    case_id = await accepted(scene.person, scene.cat, scene.staff, scene.cat.paid_item)
    decided = await pass_step(scene.staff.reviewer, case_id)
    assert decided.json()["status"] == "fee_due", decided.text
    return case_id


async def status_of(case_id: int) -> str:
    return (await Case.get(id=case_id)).status


async def control(sandbox: httpx.AsyncClient, peer: str, path: str, **body: Any) -> Any:
    response = await sandbox.post(f"/{peer}/_control/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def start(person: Phone, case_id: int, channel: str, mode: str = "in_app") -> dict[str, Any]:
    response = await person.call(
        "POST", f"/api/v1/cases/{case_id}/fee/pay", json={"channel": channel, "mode": mode}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def paid_by_wechat(scene: Scene, sandbox: httpx.AsyncClient, case_id: int) -> dict:
    checkout = await start(scene.person, case_id, "wechatpay")
    await control(sandbox, "wechatpay", "pay", out_trade_no=checkout["out_trade_no"])
    await eventually(lambda: _is(case_id, "result_pending"))
    return checkout


async def _is(case_id: int, status: str) -> bool:
    return await status_of(case_id) == status


@pytest.fixture
async def finance(hire: Hire, scene: Scene) -> StaffMember:
    return await hire(scene.cat.lead, "finance", name="财务人员")


@pytest.fixture(autouse=True)
async def peers(sandbox: httpx.AsyncClient) -> Any:
    """Each payment peer starts from nothing and with no fault switched on."""
    for peer in ("wechatpay", "alipay"):
        await sandbox.post(f"/{peer}/_control/reset", json={})
    yield
    for peer in ("wechatpay", "alipay"):
        await sandbox.post(f"/{peer}/_control/reset", json={})


# --------------------------------------------------------------------------------------------
# The happy path
# --------------------------------------------------------------------------------------------


async def test_a_granted_case_gets_a_fee_notice_that_is_paid_once(
    scene: Scene, sandbox: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    person = scene.person
    case_id = await fee_due(scene)
    fee = (await person.call("GET", f"/api/v1/cases/{case_id}/fee")).json()
    assert fee["status"] == "open" and fee["amount_fen"] == 5000
    assert fee["amount"] == "50.00" and fee["amount_in_words"] == "伍拾元整"
    assert fee["notice_number"].startswith("JK") and fee["payments"] == []
    assert fee["payee_department"]["code"] == scene.cat.lead
    assert fee["pay_options"] == [
        {"channel": "wechatpay", "label": "微信支付", "modes": ["in_app", "qr"]},
        {"channel": "alipay", "label": "支付宝", "modes": ["qr"]},
    ]

    checkout = await start(person, case_id, "wechatpay")
    client_params = checkout["client"]
    assert set(client_params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert client_params["package"].startswith("prepay_id=") and client_params["signType"] == "RSA"
    # A retried tap (poor connection) gets the same sheet, not a second order at the channel.
    again = await start(person, case_id, "wechatpay")
    assert again["out_trade_no"] == checkout["out_trade_no"]

    await control(sandbox, "wechatpay", "pay", out_trade_no=checkout["out_trade_no"])
    await eventually(lambda: _is(case_id, "result_pending"))

    fee = (await person.call("GET", f"/api/v1/cases/{case_id}/fee")).json()
    assert fee["status"] == "paid" and len(fee["payments"]) == 1
    assert fee["pay_options"] == []  # nothing left to pay
    payment = fee["payments"][0]
    assert payment["disposition"] == "applied" and payment["amount_fen"] == 5000
    timeline = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()["timeline"]
    actions = [line["action"] for line in timeline]
    assert "fee_order_opened" in actions and actions.count("fee_paid") == 1

    receipt = await person.call("GET", f"/api/v1/cases/{case_id}/payments/{payment['id']}/receipt")
    assert receipt.status_code == 200, receipt.text
    data = receipt.json()
    assert data["amount_in_words"] == "伍拾元整" and data["channel"] == "wechatpay"
    check = await client.get(
        "/api/v1/public/receipts/verify",
        params={"receipt_number": data["receipt_number"], "code": data["verification_code"]},
    )
    assert check.status_code == 200, check.text
    assert check.json()["valid"] is True and "*" in check.json()["payer"]
    wrong = await client.get(
        "/api/v1/public/receipts/verify",
        params={"receipt_number": data["receipt_number"], "code": "ABCDEFGH"},
    )
    assert wrong.status_code == 404
    pdf = await person.call("GET", f"/api/v1/cases/{case_id}/payments/{payment['id']}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


async def test_duplicated_and_reordered_callbacks_record_one_payment(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    case_id = await fee_due(scene)
    await control(sandbox, "wechatpay", "faults", duplicate=6)
    await paid_by_wechat(scene, sandbox, case_id)
    await asyncio.sleep(0.5)  # let every copy arrive
    assert await Payment.all().count() == 1
    assert await OutboxEvent.filter(topic="payment.paid").count() == 1
    assert await CaseEvent.filter(case_id=case_id, action="fee_paid").count() == 1


# --------------------------------------------------------------------------------------------
# Who may pay, see and refund
# --------------------------------------------------------------------------------------------


async def test_nobody_else_pays_or_sees_the_fee(
    scene: Scene, stranger: Phone, finance: StaffMember
) -> None:
    case_id = await fee_due(scene)
    body = {"channel": "wechatpay", "mode": "in_app"}
    assert (await stranger.call("GET", f"/api/v1/cases/{case_id}/fee")).status_code == 404
    assert (
        await stranger.call("POST", f"/api/v1/cases/{case_id}/fee/pay", json=body)
    ).status_code == 404
    assert await ChannelOrder.all().count() == 0
    # Staff do not pay; a reviewer is not finance.
    refund = {"amount_fen": 100, "reason": "多收费用退回"}
    reviewer = scene.staff.reviewer
    assert (
        await reviewer.call("POST", f"/api/v1/staff/cases/{case_id}/fee/refunds", json=refund)
    ).status_code == 403
    # Finance may not refund what is not paid.
    unpaid = await finance.call("POST", f"/api/v1/staff/cases/{case_id}/fee/refunds", json=refund)
    assert unpaid.status_code == 409 and unpaid.json()["error"]["code"] == "payments.not_refundable"


async def test_finance_of_another_department_cannot_refund(
    scene: Scene, sandbox: httpx.AsyncClient, hire: Hire
) -> None:
    case_id = await fee_due(scene)
    await paid_by_wechat(scene, sandbox, case_id)
    outsider = await hire(scene.cat.other, "finance")
    refund = {"amount_fen": 100, "reason": "多收费用退回"}
    response = await outsider.call(
        "POST", f"/api/v1/staff/cases/{case_id}/fee/refunds", json=refund
    )
    assert response.status_code == 403
    listed = await outsider.call(
        "GET", "/api/v1/staff/fee-orders", params={"department": scene.cat.lead}
    )
    assert listed.status_code == 403
    assert await Refund.all().count() == 0


async def test_bad_pay_requests_get_clear_errors(scene: Scene) -> None:
    case_id = await fee_due(scene)
    person = scene.person
    for body in (
        {"channel": "unionpay"},
        {"channel": "wechatpay", "mode": "cash"},
        {"channel": "alipay", "mode": "in_app"},
        {"channel": "wechatpay", "amount_fen": 1},
        {"channel": "wechatpay", "tax_number": "123"},
    ):
        response = await person.call("POST", f"/api/v1/cases/{case_id}/fee/pay", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["message"]
    assert await ChannelOrder.all().count() == 0


# --------------------------------------------------------------------------------------------
# Exactly once, when things go wrong
# --------------------------------------------------------------------------------------------


async def test_the_second_channel_closes_the_first(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    case_id = await fee_due(scene)
    first = await start(scene.person, case_id, "wechatpay")
    second = await start(scene.person, case_id, "alipay", mode="qr")
    assert second["client"]["qr_code"]
    closed = await ChannelOrder.get(out_trade_no=first["out_trade_no"])
    assert closed.status == "closed"
    # The WeChat order is closed at WeChat Pay too: the payer can no longer pay it there.
    refused = await sandbox.post(
        "/wechatpay/_control/pay", json={"out_trade_no": first["out_trade_no"]}
    )
    assert refused.status_code != 200
    await control(sandbox, "alipay", "scan", out_trade_no=second["out_trade_no"])
    await control(sandbox, "alipay", "pay", out_trade_no=second["out_trade_no"])
    await eventually(lambda: _is(case_id, "result_pending"))
    assert [p.channel for p in await Payment.all()] == ["alipay"]


async def test_a_payment_whose_callback_was_lost_is_found_when_the_other_channel_starts(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    case_id = await fee_due(scene)
    await control(sandbox, "wechatpay", "faults", drop=True)
    first = await start(scene.person, case_id, "wechatpay")
    await control(sandbox, "wechatpay", "pay", out_trade_no=first["out_trade_no"])
    # The payer, seeing nothing happen, tries Alipay: the WeChat order is found paid on close.
    response = await scene.person.call(
        "POST", f"/api/v1/cases/{case_id}/fee/pay", json={"channel": "alipay", "mode": "qr"}
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "payments.order_not_open"
    await eventually(lambda: _is(case_id, "result_pending"))
    assert await Payment.all().count() == 1
    assert await ChannelOrder.filter(channel="alipay").count() == 0


async def test_back_from_the_sheet_the_channel_is_asked_at_once(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    """The callback is lost; the phone, back from the payment sheet, is told it paid in the
    answer itself (the server asked WeChat Pay), with no polling (found by the mini-program)."""
    case_id = await fee_due(scene)
    await control(sandbox, "wechatpay", "faults", drop=True)
    checkout = await start(scene.person, case_id, "wechatpay")
    await control(sandbox, "wechatpay", "pay", out_trade_no=checkout["out_trade_no"])
    returned = await scene.person.call(
        "POST",
        f"/api/v1/cases/{case_id}/fee/returned",
        json={"out_trade_no": checkout["out_trade_no"]},
    )
    assert returned.status_code == 200, returned.text
    assert (returned.json()["status"], returned.json()["case_id"]) == ("paid", case_id)
    assert await Payment.all().count() == 1
    await eventually(lambda: _is(case_id, "result_pending"))


async def test_back_from_a_cancelled_sheet_the_fee_is_still_payable(
    scene: Scene, app: Sanic
) -> None:
    case_id = await fee_due(scene)
    checkout = await start(scene.person, case_id, "wechatpay")
    returned = await scene.person.call(
        "POST",
        f"/api/v1/cases/{case_id}/fee/returned",
        json={"out_trade_no": checkout["out_trade_no"]},
    )
    assert returned.status_code == 200 and returned.json()["status"] == "open"
    # Asked on the return: the worker's check a minute later does not ask the same again.
    result = await payment_jobs.check_attempts(
        channels=app.ctx.resources.payments, now=utcnow() + timedelta(minutes=1)
    )
    assert result["asked"] == 0
    again = await start(scene.person, case_id, "wechatpay")
    assert again["out_trade_no"] == checkout["out_trade_no"]  # the same sheet, still payable


async def test_the_query_job_records_a_payment_whose_callback_never_came(
    scene: Scene, sandbox: httpx.AsyncClient, app: Sanic
) -> None:
    case_id = await fee_due(scene)
    await control(sandbox, "wechatpay", "faults", drop=True)
    checkout = await start(scene.person, case_id, "wechatpay")
    await control(sandbox, "wechatpay", "pay", out_trade_no=checkout["out_trade_no"])
    assert await status_of(case_id) == "fee_due"
    # The phone never came back (or a worker was killed between the charge and its record):
    # the job asks the channel about an attempt quiet for long enough.
    result = await payment_jobs.check_attempts(
        channels=app.ctx.resources.payments, now=utcnow() + timedelta(minutes=6)
    )
    assert result["recorded"] == 1
    await eventually(lambda: _is(case_id, "result_pending"))


async def test_a_success_after_withdrawal_is_recorded_and_refunded(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    case_id = await fee_due(scene)
    await control(sandbox, "wechatpay", "faults", delay_s=0.6)
    checkout = await start(scene.person, case_id, "wechatpay")
    await control(sandbox, "wechatpay", "pay", out_trade_no=checkout["out_trade_no"])
    withdrawn = await scene.person.call(
        "POST", f"/api/v1/cases/{case_id}/withdraw", json={"reason": "不再需要办理"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    order = await FeeOrder.get(reference=f"case:{case_id}")
    assert order.status == "cancelled"

    async def refunded() -> bool:
        return await Refund.filter(status__in=("processing", "succeeded")).exists()

    await eventually(lambda: Payment.exists())
    payment = await Payment.get()
    assert payment.disposition == "surplus" and "撤回" in payment.disposition_reason
    await eventually(refunded)
    refund = await Refund.get()
    if refund.status == "processing":
        await control(sandbox, "wechatpay", "refund-settle", out_refund_no=refund.out_refund_no)
    await eventually(lambda: Refund.exists(status="succeeded"))
    await eventually(lambda: CaseEvent.exists(case_id=case_id, action="fee_refunded"))
    assert await status_of(case_id) == "withdrawn"
    fee = (await scene.person.call("GET", f"/api/v1/cases/{case_id}/fee")).json()
    assert fee["payments"][0]["note"] and fee["refunds"][0]["automatic"] is True


async def test_forged_callbacks_change_nothing(
    scene: Scene, sandbox: httpx.AsyncClient, settings: Any
) -> None:
    case_id = await fee_due(scene)
    checkout = await start(scene.person, case_id, "wechatpay")
    await control(sandbox, "wechatpay", "faults", bad_signature=True)
    await control(sandbox, "wechatpay", "pay", out_trade_no=checkout["out_trade_no"])
    base = settings.payment_notify_base_url
    async with httpx.AsyncClient(base_url=base, timeout=10) as outsider:
        forged = {
            "id": "EV-2018022511223320873",
            "event_type": "TRANSACTION.SUCCESS",
            "resource": {"ciphertext": "AAAA", "nonce": "x", "associated_data": "transaction"},
        }
        answer = await outsider.post(
            "/callbacks/wechatpay",
            content=json.dumps(forged),
            headers={
                "Wechatpay-Timestamp": str(int(utcnow().timestamp())),
                "Wechatpay-Nonce": "n",
                "Wechatpay-Signature": "c2lnbmF0dXJl",
                "Wechatpay-Serial": "PUB_KEY_ID_0000",
            },
        )
        assert answer.status_code >= 400 and answer.json()["code"] == "FAIL"
        garbage = await outsider.post("/callbacks/alipay", content=b"\xff\x00not a form")
        assert garbage.status_code == 200 and garbage.text != "success"
        form = {
            "out_trade_no": checkout["out_trade_no"],
            "trade_status": "TRADE_SUCCESS",
            "total_amount": "50.00",
            "sign": "Zm9yZ2Vk",
            "sign_type": "RSA2",
        }
        unsigned = await outsider.post("/callbacks/alipay", data=form)
        assert unsigned.text != "success"
    await asyncio.sleep(0.5)  # the peer's own (badly signed) notifications were answered too
    assert await Payment.all().count() == 0
    assert await status_of(case_id) == "fee_due"


# --------------------------------------------------------------------------------------------
# Refunds, lapse, reconciliation
# --------------------------------------------------------------------------------------------


async def test_finance_refunds_part_then_not_more_than_is_left(
    scene: Scene, sandbox: httpx.AsyncClient, finance: StaffMember
) -> None:
    case_id = await fee_due(scene)
    await paid_by_wechat(scene, sandbox, case_id)
    url = f"/api/v1/staff/cases/{case_id}/fee/refunds"
    first = await finance.call("POST", url, json={"amount_fen": 2000, "reason": "部分费用减免退回"})
    assert first.status_code == 201, first.text
    too_much = await finance.call("POST", url, json={"amount_fen": 3001, "reason": "再退一部分"})
    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "payments.refund_exceeds_remaining"
    await eventually(lambda: Refund.exists(status="processing"))
    refund = await Refund.get()
    await control(sandbox, "wechatpay", "refund-settle", out_refund_no=refund.out_refund_no)
    await eventually(lambda: Refund.exists(status="succeeded"))
    payment = await Payment.get()
    assert payment.refunded_fen == 2000
    listed = await finance.call("GET", "/api/v1/staff/refunds")
    assert listed.status_code == 200 and listed.json()["items"][0]["status"] == "succeeded"
    await eventually(lambda: CaseEvent.exists(case_id=case_id, action="fee_refunded"))
    timeline = (await scene.person.call("GET", f"/api/v1/cases/{case_id}")).json()["timeline"]
    assert any(line["action"] == "fee_refunded" for line in timeline)


async def test_a_refund_processing_too_long_is_raised_to_finance(
    scene: Scene, sandbox: httpx.AsyncClient, finance: StaffMember, app: Sanic
) -> None:
    case_id = await fee_due(scene)
    await paid_by_wechat(scene, sandbox, case_id)
    url = f"/api/v1/staff/cases/{case_id}/fee/refunds"
    assert (
        await finance.call("POST", url, json={"amount_fen": 5000, "reason": "全额退回"})
    ).status_code == 201
    await eventually(lambda: Refund.exists(status="processing"))
    later = utcnow() + timedelta(days=2)
    result = await check_refunds(channels=app.ctx.resources.payments, now=later)
    assert result["raised"] == 1
    attention = await finance.call("GET", "/api/v1/staff/refunds", params={"attention": "true"})
    assert [r["escalated"] for r in attention.json()["items"]] == [True]
    assert await OutboxEvent.filter(topic="payment.refund_stuck").count() == 1
    # Then the bank settles it: the query job follows it to the end.
    refund = await Refund.get()
    await control(sandbox, "wechatpay", "refund-settle", out_refund_no=refund.out_refund_no)
    await eventually(lambda: Refund.exists(status="succeeded"), timeout=20)


async def test_an_unpaid_fee_lapses_the_case(scene: Scene, sandbox: httpx.AsyncClient) -> None:
    case_id = await fee_due(scene)
    checkout = await start(scene.person, case_id, "wechatpay")
    order = await FeeOrder.get(reference=f"case:{case_id}")
    days = (order.due_on - local_today(utcnow())).days + 1
    result = await payment_jobs.lapse_orders(now=utcnow() + timedelta(days=days))
    assert result == {"lapsed": 1}
    await eventually(lambda: _is(case_id, "lapsed"))
    await eventually(
        lambda: ChannelOrder.exists(out_trade_no=checkout["out_trade_no"], status="closed")
    )
    again = await scene.person.call(
        "POST", f"/api/v1/cases/{case_id}/fee/pay", json={"channel": "wechatpay"}
    )
    assert again.status_code == 409


async def test_reconciliation_finds_every_kind_of_difference(
    scene: Scene, sandbox: httpx.AsyncClient, finance: StaffMember, app: Sanic
) -> None:
    case_id = await fee_due(scene)
    checkout = await paid_by_wechat(scene, sandbox, case_id)
    number = checkout["out_trade_no"]
    await control(sandbox, "wechatpay", "advance-clock", seconds=seconds_until_todays_bill())
    channels = app.ctx.resources.payments
    today = local_today(utcnow())

    async def run() -> dict[str, Any]:
        return await reconcile(channels=channels, channel_name="wechatpay", day=today, now=utcnow())

    assert (await run())["differences"] == 0
    await control(sandbox, "wechatpay", "bill-differences", missing=[number])
    assert (await run())["new"] == 1
    stranger_line = {"out_trade_no": "ZB999999W0123456789ab", "amount_fen": 100}
    await control(
        sandbox, "wechatpay", "bill-differences", extra=[stranger_line], amounts={number: 4999}
    )
    assert (await run())["new"] == 2
    assert (await run())["new"] == 0  # a rerun adds nothing
    found = {(d.kind, d.out_trade_no): d for d in await Discrepancy.all()}
    assert set(found) == {
        ("missing_there", number),
        ("missing_here", stranger_line["out_trade_no"]),
        ("amount", number),
    }
    assert (found[("amount", number)].ours_fen, found[("amount", number)].theirs_fen) == (
        5000,
        4999,
    )

    listed = await finance.call("GET", "/api/v1/staff/discrepancies")
    assert listed.status_code == 200
    mine = listed.json()["items"]
    # A line naming none of our orders is not a department's: finance sees its own two.
    assert {d["kind"] for d in mine} == {"missing_there", "amount"}
    resolved = await finance.call(
        "POST",
        f"/api/v1/staff/discrepancies/{mine[0]['id']}/resolve",
        json={"note": "已与银行核对，系对账单延迟"},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolved_by"]
    twice = await finance.call(
        "POST",
        f"/api/v1/staff/discrepancies/{mine[0]['id']}/resolve",
        json={"note": "再次处理"},
    )
    assert twice.status_code == 409


# --------------------------------------------------------------------------------------------
# The storm
# --------------------------------------------------------------------------------------------

STORM_ORDERS = 100
STORM_COPIES = 10


async def _cases_due(scene: Scene, count: int) -> list[Case]:
    """``count`` granted cases of the paid item waiting for their fee, made as the decision
    makes them (the case row, then the order on the same transaction), without walking each
    through the whole flow."""
    template = await Case.get(id=await fee_due(scene))
    guide = await guide_of(template)
    made = [template]
    now = utcnow()
    for _ in range(count - 1):
        async with in_transaction() as conn:
            case = await Case.create(
                item_code=template.item_code,
                item_version_id=template.item_version_id,
                item_name=template.item_name,
                lead_department_code=template.lead_department_code,
                department_codes=template.department_codes,
                applicant_user_id=template.applicant_user_id,
                applicant_display=template.applicant_display,
                status="fee_due",
                decision="granted",
                decided_at=now,
                using_db=conn,
            )
            await fees.open_fee_order(conn, case, guide, now=now)
        made.append(case)
    return made


async def test_a_storm_of_duplicated_reordered_callbacks_pays_each_order_once(
    scene: Scene, sandbox: httpx.AsyncClient, app: Sanic
) -> None:
    cases = await _cases_due(scene, STORM_ORDERS)
    resources = app.ctx.resources
    numbers = []
    for case in cases:
        order = await FeeOrder.get(open_reference=fees.reference_of(case.id))
        checkout = await start_payment(
            order=order,
            channel_name="wechatpay",
            mode=ChargeMode.in_app,
            payer_id="o-storm-payer",
            channels=resources.payments,
            redis=resources.redis,
            now=utcnow(),
        )
        numbers.append(checkout.out_trade_no)
    await control(sandbox, "wechatpay", "faults", duplicate=STORM_COPIES, out_of_order=True)
    await asyncio.gather(*(control(sandbox, "wechatpay", "pay", out_trade_no=n) for n in numbers))
    await control(sandbox, "wechatpay", "faults")  # releases the held ones, last first

    async def all_moved() -> bool:
        return (
            await Case.filter(id__in=[c.id for c in cases], status="result_pending").count()
            == STORM_ORDERS
        )

    await eventually(all_moved, timeout=60)
    await asyncio.sleep(0.5)  # stragglers
    stats = (await sandbox.get("/wechatpay/_control/stats")).json()
    assert await Payment.all().count() == STORM_ORDERS, stats
    assert await OutboxEvent.filter(topic="payment.paid").count() == STORM_ORDERS
    assert await OutboxEvent.filter(topic="case.fee_paid").count() == STORM_ORDERS
    assert await CaseEvent.filter(action="fee_paid").count() == STORM_ORDERS
    assert await Refund.all().count() == 0


async def test_when_both_channels_are_paid_the_later_payment_is_refunded(
    scene: Scene, sandbox: httpx.AsyncClient
) -> None:
    """An Alipay QR code exists at Alipay only once scanned: closing it before finds nothing to
    close, and a finance officer who scans it later can still pay. Both succeed: the later one
    is recorded, refunded on its own and shown to the payer."""
    case_id = await fee_due(scene)
    qr = await start(scene.person, case_id, "alipay", mode="qr")
    await paid_by_wechat(scene, sandbox, case_id)  # closes the QR's trade first: none yet
    await control(sandbox, "alipay", "scan", out_trade_no=qr["out_trade_no"])
    await control(sandbox, "alipay", "pay", out_trade_no=qr["out_trade_no"])
    await eventually(lambda: Payment.exists(channel="alipay"))
    late = await Payment.get(channel="alipay")
    assert late.disposition == "surplus" and "其他支付方式" in late.disposition_reason
    await eventually(lambda: Refund.exists(payment_id=late.id, status="succeeded"))
    await eventually(lambda: CaseEvent.exists(case_id=case_id, action="fee_refunded"))
    assert await status_of(case_id) == "result_pending"
    fee = (await scene.person.call("GET", f"/api/v1/cases/{case_id}/fee")).json()
    assert [p["disposition"] for p in fee["payments"]] == ["applied", "surplus"]
    assert fee["refunds"][0]["automatic"] and fee["refunds"][0]["status"] == "succeeded"
    surplus_line = await CaseEvent.get(case_id=case_id, action="payment_surplus")
    assert "原路退回" in surplus_line.comment


async def test_a_notification_with_another_amount_or_for_no_order_of_ours_records_nothing(
    scene: Scene, sandbox: httpx.AsyncClient, app: Sanic, settings: Any
) -> None:
    case_id = await fee_due(scene)
    checkout = await start(scene.person, case_id, "wechatpay")
    await control(sandbox, "wechatpay", "faults", wrong_amount=True)
    await control(sandbox, "wechatpay", "pay", out_trade_no=checkout["out_trade_no"])
    # An order made at WeChat Pay by someone holding our keys, but not by us: its notification
    # is signed, and names no attempt of ours.
    channel = app.ctx.resources.payments.get("wechatpay")
    stranger_order = ChargeRequest(
        out_trade_no="ZBNOTOURS0001",
        amount_fen=5000,
        description="不是本系统的订单",
        expires_at=utcnow() + timedelta(minutes=30),
        mode=ChargeMode.in_app,
        notify_url=f"{settings.payment_notify_base_url}/callbacks/wechatpay",
        payer_id="o-someone",
    )
    await control(sandbox, "wechatpay", "faults")
    await channel.charge(stranger_order)
    await control(sandbox, "wechatpay", "pay", out_trade_no=stranger_order.out_trade_no)

    async def both_refused() -> bool:
        rows = (await sandbox.get("/wechatpay/_control/notifications")).json()["notifications"]
        answered = [n["attempts"][0]["status"] for n in rows if n["attempts"]]
        return len(answered) == 2

    await eventually(both_refused)
    rows = (await sandbox.get("/wechatpay/_control/notifications")).json()["notifications"]
    # Not processed: the platform will send them again (a 4xx/5xx with {"code": "FAIL"}).
    assert all(n["attempts"][0]["status"] >= 400 for n in rows), rows
    await asyncio.sleep(0.3)
    assert await Payment.all().count() == 0
    assert await status_of(case_id) == "fee_due"


async def test_a_case_has_one_open_fee_order(scene: Scene) -> None:
    case_id = await fee_due(scene)
    case = await Case.get(id=case_id)
    with pytest.raises(OrderAlreadyOpen):
        async with in_transaction() as conn:
            await fees.open_fee_order(conn, case, await guide_of(case), now=utcnow())
    assert await FeeOrder.filter(reference=fees.reference_of(case_id)).count() == 1


async def test_a_start_cut_off_mid_call_is_never_handed_out_without_its_sheet(
    scene: Scene,
) -> None:
    """The phone hung up while the channel was being asked: the attempt kept no sheet. A retry
    must not get that attempt back with nothing to pay with (found from outside): it is closed
    and a new one opened."""
    case_id = await fee_due(scene)
    first = await start(scene.person, case_id, "wechatpay")
    await ChannelOrder.filter(out_trade_no=first["out_trade_no"]).update(client={})
    again = await start(scene.person, case_id, "wechatpay")
    assert again["client"].get("paySign") and again["out_trade_no"] != first["out_trade_no"]
    old = await ChannelOrder.get(out_trade_no=first["out_trade_no"])
    assert old.status in ("closed", "closing")


async def test_a_phone_saying_it_is_back_many_times_asks_the_channel_once(
    scene: Scene, app: Sanic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty 'back from the sheet' at once make one query to WeChat Pay, not twenty: the
    platform limits a merchant's queries (found from outside)."""
    case_id = await fee_due(scene)
    checkout = await start(scene.person, case_id, "wechatpay")
    channel = app.ctx.resources.payments.get("wechatpay")
    asked: list[str] = []
    real_query = channel.query

    async def counted(out_trade_no: str) -> Any:
        asked.append(out_trade_no)
        return await real_query(out_trade_no)

    monkeypatch.setattr(channel, "query", counted)
    answers = await asyncio.gather(
        *(
            scene.person.call(
                "POST",
                f"/api/v1/cases/{case_id}/fee/returned",
                json={"out_trade_no": checkout["out_trade_no"]},
            )
            for _ in range(20)
        )
    )
    assert {a.status_code for a in answers} == {200}
    assert asked == [checkout["out_trade_no"]]
