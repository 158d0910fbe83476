"""What an outside attack on the payments found, each kept from coming back.

Some of these play the platform with its own keys (the sandbox's key folder), as someone who
stole them would, to check what the server verifies after the signature: the amount it compares,
which trade a refund belongs to, which route takes which event, a transaction id of another
attempt.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from stdnum.cn import uscc

from api.payments import CHECKS_PER_RECEIPT
from payments.models import Payment, Refund
from sandbox import keys as sandbox_keys
from sandbox.wechatpay import answer_message, encrypt_resource, sign_message
from tests.cases_flow import Scene
from tests.functional.test_payments import (
    control,
    eventually,
    fee_due,
    paid_by_wechat,
    start,
    status_of,
)
from tests.oversight_flow import accepted
from tests.staff import Hire, StaffMember

pytestmark = pytest.mark.asyncio


class StolenWeChatPayKeys:
    """Notifications signed and sealed with the platform's own keys."""

    def __init__(self, folder: Path, mchid: str, appid: str) -> None:
        self.keys = sandbox_keys.ensure_sandbox_keys(folder)
        self.mchid, self.appid = mchid, appid

    def notification(
        self, event_type: str, resource: dict[str, Any], *, timestamp: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        original = "refund" if event_type.startswith("REFUND") else "transaction"
        sealed = encrypt_resource(
            self.keys.wechatpay_apiv3_key.encode(), json.dumps(resource).encode(), original
        )
        body = json.dumps(
            {
                "id": str(uuid.uuid4()),
                "create_time": datetime.now(UTC).isoformat(),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": "支付成功",
                "resource": {**sealed, "original_type": original},
            }
        ).encode()
        stamp = timestamp or str(int(datetime.now(UTC).timestamp()))
        nonce = uuid.uuid4().hex
        key = self.keys.private_key(sandbox_keys.WECHATPAY_PLATFORM_KEY)
        headers = {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": sign_message(key, answer_message(stamp, nonce, body)),
            "Wechatpay-Serial": self.keys.wechatpay_platform_key_id,
            "Content-Type": "application/json",
        }
        return headers, body

    def paid(self, out_trade_no: str, total: int, payer_total: int, transaction_id: str) -> Any:
        return self.notification(
            "TRANSACTION.SUCCESS",
            {
                "appid": self.appid,
                "mchid": self.mchid,
                "out_trade_no": out_trade_no,
                "transaction_id": transaction_id,
                "trade_type": "JSAPI",
                "trade_state": "SUCCESS",
                "trade_state_desc": "支付成功",
                "bank_type": "OTHERS",
                "success_time": datetime.now(UTC).isoformat(timespec="seconds"),
                "payer": {"openid": "o-attacker"},
                "amount": {
                    "total": total,
                    "payer_total": payer_total,
                    "currency": "CNY",
                    "payer_currency": "CNY",
                },
            },
        )


@pytest.fixture
def stolen(sandbox_keys_dir: Path, settings: Any) -> StolenWeChatPayKeys:
    return StolenWeChatPayKeys(sandbox_keys_dir, settings.wechatpay_mch_id, settings.wechat_appid)


@pytest.fixture
async def platform(settings: Any) -> Any:
    """Our callback endpoints, reached over the socket the platforms use."""
    async with httpx.AsyncClient(base_url=settings.payment_notify_base_url, timeout=10) as http:
        yield http


@pytest.fixture
async def finance(hire: Hire, scene: Scene) -> StaffMember:
    return await hire(scene.cat.lead, "finance", name="财务人员")


async def test_the_order_amount_is_compared_not_what_the_payer_paid_after_a_discount(
    scene: Scene, stolen: StolenWeChatPayKeys, platform: httpx.AsyncClient
) -> None:
    case_id = await fee_due(scene)
    checkout = await start(scene.person, case_id, "wechatpay")
    number = checkout["out_trade_no"]
    # The order's total is what must match; a payer_total equal to it is no excuse.
    headers, body = stolen.paid(number, total=1, payer_total=5000, transaction_id="4200001")
    answer = await platform.post("/callbacks/wechatpay", content=body, headers=headers)
    assert answer.status_code >= 400 and answer.json()["code"] == "FAIL"
    assert await Payment.all().count() == 0
    # A coupon paid part of it: the order is paid all the same.
    headers, body = stolen.paid(number, total=5000, payer_total=4990, transaction_id="4200002")
    answer = await platform.post("/callbacks/wechatpay", content=body, headers=headers)
    assert answer.status_code == 204, answer.text
    assert (await Payment.get()).amount_fen == 5000


@pytest.mark.parametrize("stamp", ["²", "9" * 400, "１７００００００００", "-5", "1e9"])
async def test_a_malformed_timestamp_is_a_platform_failure_answer(
    stamp: str, stolen: StolenWeChatPayKeys, platform: httpx.AsyncClient, clean: Any
) -> None:
    headers, body = stolen.paid("ZBX1234567", total=1, payer_total=1, transaction_id="1")
    headers["Wechatpay-Timestamp"] = stamp
    answer = await platform.post(
        "/callbacks/wechatpay",
        content=body,
        headers={k: v.encode() if k == "Wechatpay-Timestamp" else v for k, v in headers.items()},
    )
    assert answer.status_code >= 400 and answer.json()["code"] == "FAIL"


async def test_each_wechatpay_route_takes_its_own_events_and_a_refund_its_own_trade(
    scene: Scene,
    sandbox: httpx.AsyncClient,
    stolen: StolenWeChatPayKeys,
    platform: httpx.AsyncClient,
    finance: StaffMember,
) -> None:
    case_id = await fee_due(scene)
    checkout = await paid_by_wechat(scene, sandbox, case_id)
    answer = await finance.call(
        "POST",
        f"/api/v1/staff/cases/{case_id}/fee/refunds",
        json={"amount_fen": 1000, "reason": "部分费用退回"},
    )
    assert answer.status_code == 201, answer.text
    await eventually(lambda: Refund.exists(status="processing"))
    refund = await Refund.get()

    def settled(out_trade_no: str) -> tuple[dict[str, str], bytes]:
        return stolen.notification(
            "REFUND.SUCCESS",
            {
                "mchid": stolen.mchid,
                "out_trade_no": out_trade_no,
                "transaction_id": "4200009",
                "out_refund_no": refund.out_refund_no,
                "refund_id": "5030001",
                "refund_status": "SUCCESS",
                "success_time": datetime.now(UTC).isoformat(timespec="seconds"),
                "user_received_account": "支付用户零钱",
                "amount": {
                    "total": 5000,
                    "refund": 1000,
                    "payer_total": 5000,
                    "payer_refund": 1000,
                },
            },
        )

    for route, number in (
        ("/callbacks/wechatpay", checkout["out_trade_no"]),  # a refund event on the pay route
        ("/callbacks/wechatpay/refund", "ZBSOMEOTHERTRADE1"),  # naming another trade
    ):
        headers, body = settled(number)
        answer = await platform.post(route, content=body, headers=headers)
        assert answer.status_code >= 400, (route, answer.text)
        assert (await Refund.get()).status == "processing"
    headers, body = stolen.paid(
        checkout["out_trade_no"], total=5000, payer_total=5000, transaction_id="4200077"
    )
    on_refund_route = await platform.post(
        "/callbacks/wechatpay/refund", content=body, headers=headers
    )
    assert on_refund_route.status_code >= 400


async def test_a_transaction_id_of_another_attempt_is_not_a_duplicate(
    scene: Scene,
    sandbox: httpx.AsyncClient,
    stolen: StolenWeChatPayKeys,
    platform: httpx.AsyncClient,
) -> None:
    first = await fee_due(scene)
    await paid_by_wechat(scene, sandbox, first)
    taken = (await Payment.get()).transaction_id
    second = await fee_due(scene)
    checkout = await start(scene.person, second, "wechatpay")
    headers, body = stolen.paid(
        checkout["out_trade_no"], total=5000, payer_total=5000, transaction_id=taken
    )
    answer = await platform.post("/callbacks/wechatpay", content=body, headers=headers)
    assert answer.status_code >= 400  # not "processed": WeChat Pay will tell us again
    assert await Payment.all().count() == 1
    assert await status_of(second) == "fee_due"


async def test_a_refund_key_used_again_for_another_refund_is_refused(
    scene: Scene, sandbox: httpx.AsyncClient, finance: StaffMember
) -> None:
    first = await fee_due(scene)
    await paid_by_wechat(scene, sandbox, first)
    second = await fee_due(scene)
    await paid_by_wechat(scene, sandbox, second)
    key = {"Idempotency-Key": "refund-key-0001"}
    body = {"amount_fen": 50, "reason": "部分费用退回"}
    url = "/api/v1/staff/cases/{}/fee/refunds"
    made = await finance.call("POST", url.format(first), json=body, headers=key)
    assert made.status_code == 201, made.text
    # Another session of the same officer (the edge's replay is per session): the refund's own
    # key still tells the two requests apart.
    await finance.login()
    other_case = await finance.call("POST", url.format(second), json=body, headers=key)
    assert other_case.status_code == 409, other_case.text
    assert other_case.json()["error"]["code"] == "request.idempotency_key_reused"
    same = await finance.call("POST", url.format(first), json=body, headers=key)
    assert same.status_code == 201 and same.json()["id"] == made.json()["id"]
    assert await Refund.all().count() == 1


@pytest.mark.parametrize("amount", [True, "100", 1.0, 1e2, " 5 ", None, [1]])
async def test_a_refund_amount_is_an_integer_of_fen(
    amount: Any, scene: Scene, sandbox: httpx.AsyncClient, finance: StaffMember
) -> None:
    case_id = await fee_due(scene)
    await paid_by_wechat(scene, sandbox, case_id)
    answer = await finance.call(
        "POST",
        f"/api/v1/staff/cases/{case_id}/fee/refunds",
        json={"amount_fen": amount, "reason": "部分费用退回"},
    )
    assert answer.status_code == 400, answer.text
    assert await Refund.all().count() == 0


async def test_the_public_check_masks_the_title_and_says_when_money_went_back(
    scene: Scene, sandbox: httpx.AsyncClient, finance: StaffMember, client: httpx.AsyncClient
) -> None:
    case_id = await fee_due(scene)
    paying = await scene.person.call(
        "POST",
        f"/api/v1/cases/{case_id}/fee/pay",
        json={"channel": "wechatpay", "receipt_title": "周九红"},
    )
    assert paying.status_code == 200, paying.text
    await control(sandbox, "wechatpay", "pay", out_trade_no=paying.json()["out_trade_no"])
    await eventually(lambda: Payment.exists())
    payment = await Payment.get()
    query = {"receipt_number": payment.receipt_number, "code": payment.verification_code}
    check = (await client.get("/api/v1/public/receipts/verify", params=query)).json()
    assert check["title"] != "周九红" and check["title"].startswith("周")
    assert (check["valid"], check["state"]) == (True, "paid")
    refunded = await finance.call(
        "POST",
        f"/api/v1/staff/cases/{case_id}/fee/refunds",
        json={"amount_fen": 5000, "reason": "全额退回"},
    )
    assert refunded.status_code == 201
    await eventually(lambda: Refund.exists(status="processing"))
    refund = await Refund.get()
    await control(sandbox, "wechatpay", "refund-settle", out_refund_no=refund.out_refund_no)
    await eventually(lambda: Refund.exists(status="succeeded"))
    check = (await client.get("/api/v1/public/receipts/verify", params=query)).json()
    assert (check["valid"], check["state"]) == (False, "refunded")


async def test_finance_elsewhere_learns_nothing_of_whether_a_case_has_a_fee(
    scene: Scene, hire: Hire
) -> None:
    outsider = await hire(scene.cat.other, "finance")
    with_fee = await fee_due(scene)
    without_fee = await accepted(scene.person, scene.cat, scene.staff, scene.cat.paid_item)
    body = {"amount_fen": 100, "reason": "部分费用退回"}
    answers = [
        await outsider.call("POST", f"/api/v1/staff/cases/{case}/fee/refunds", json=body)
        for case in (with_fee, without_fee)
    ]
    assert [a.status_code for a in answers] == [403, 403]


async def test_a_bad_tax_number_is_named_as_such_and_a_title_alone_keeps_it(
    scene: Scene,
) -> None:
    case_id = await fee_due(scene)
    url = f"/api/v1/cases/{case_id}/fee/pay"
    base = "91360100MA35N3J17"
    valid = base + uscc.calc_check_digit(base)
    wrong = base + ("0" if valid[-1] != "0" else "1")
    bad = await scene.person.call("POST", url, json={"channel": "wechatpay", "tax_number": wrong})
    assert bad.status_code == 400
    assert [f["field"] for f in bad.json()["error"]["details"]["fields"]] == ["tax_number"]
    body = {"channel": "wechatpay", "receipt_title": "测试公司", "tax_number": valid}
    good = await scene.person.call("POST", url, json=body)
    assert good.status_code == 200, good.text
    again = await scene.person.call(
        "POST", url, json={"channel": "wechatpay", "receipt_title": "新抬头"}
    )
    assert again.status_code == 200
    fee = (await scene.person.call("GET", f"/api/v1/cases/{case_id}/fee")).json()
    assert (fee["receipt_title"], fee["receipt_tax_number"]) == ("新抬头", valid)


async def test_checks_of_one_receipt_number_are_limited_whatever_the_code(
    scene: Scene, sandbox: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:

    case_id = await fee_due(scene)
    await paid_by_wechat(scene, sandbox, case_id)
    payment = await Payment.get()
    wrong = {"receipt_number": payment.receipt_number, "code": "ABCDEFGH"}
    for _ in range(CHECKS_PER_RECEIPT):
        guess = await client.get("/api/v1/public/receipts/verify", params=wrong)
        assert guess.status_code == 404
    limited = await client.get(
        "/api/v1/public/receipts/verify",
        params={"receipt_number": payment.receipt_number, "code": payment.verification_code},
    )
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
