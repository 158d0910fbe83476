"""The WeChat Pay peer against the platform's documented rules, over HTTP with raw requests.

The requests are signed here from the documented formula ("签名生成"), the answers and
notifications verified and decrypted here too, with nothing from the adapter: this suite checks
the peer, and the adapter is checked against the peer at the end (and by the port's contract
suite). The peer runs as its own process with its own key folder and a callback schedule 1000
times faster than the real one; a small HTTP server in this process receives its notifications.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.settings import Settings
from payments.providers.base import (
    AlreadyPaid,
    ChannelRefused,
    ChargeMode,
    ChargeRequest,
    NotificationKind,
    RefundRequest,
    RefundState,
    TradeState,
)
from payments.providers.credentials import wechatpay_credentials
from payments.providers.wechatpay import WeChatPayChannel
from sandbox.keys import (
    WECHATPAY_MERCHANT_KEY,
    WECHATPAY_PLATFORM_PUBLIC,
    SandboxKeys,
    ensure_sandbox_keys,
)
from tests.processes import free_port, sandbox_process

APPID = "wx-pay-contract-appid"
MCHID = "1900000109"
SPEEDUP = 1000.0
CHINA = timezone(timedelta(hours=8))
SCHEDULE_S = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)


# --- the peer and a notification receiver -------------------------------------------------------


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wechatpay") / "keys"


@pytest.fixture(scope="module")
def pay_peer_url(tmp_path_factory: pytest.TempPathFactory, keys_dir: Path) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("wechatpay-peer") / "sandbox.log"
    with sandbox_process(
        log_path, appid=APPID, secret="s", keys_dir=keys_dir, callback_speedup=SPEEDUP
    ) as base:
        yield base


@pytest.fixture(scope="module")
def keys(pay_peer_url: str, keys_dir: Path) -> SandboxKeys:
    return ensure_sandbox_keys(keys_dir)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """Records every POST; answers 204, or what ``answers[path]`` says for its next calls."""

    base: str = ""
    received: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait(self, path: str, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.on(path)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.on(path))} notifications, expected {count}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.received.append(
                    Received(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        time.monotonic(),
                    )
                )
                planned = state.answers.get(self.path)
                status = planned.pop(0) if planned else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state.base = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


class Merchant:
    """Raw, signed requests to the peer, and the checks of its answers, from the documentation."""

    def __init__(self, http: httpx.Client, keys: SandboxKeys, base: str) -> None:
        self.http = http
        self.keys = keys
        self.base = base
        self.key = keys.private_key(WECHATPAY_MERCHANT_KEY)
        self.platform = keys.public_key(WECHATPAY_PLATFORM_PUBLIC)

    def authorization(
        self,
        method: str,
        url: str,
        body: bytes,
        *,
        timestamp: int | None = None,
        mchid: str = MCHID,
        serial: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16).upper()
        message = f"{method}\n{url}\n{stamp}\n{nonce}\n".encode() + body + b"\n"
        signature = (key or self.key).sign(message, padding.PKCS1v15(), hashes.SHA256())
        return (
            f'WECHATPAY2-SHA256-RSA2048 mchid="{mchid}",nonce_str="{nonce}",'
            f'signature="{base64.b64encode(signature).decode()}",timestamp="{stamp}",'
            f'serial_no="{serial or self.keys.wechatpay_merchant_serial}"'
        )

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        **auth: Any,
    ) -> httpx.Response:
        url = httpx.URL(self.base + path) if path.startswith("/") else httpx.URL(path)
        content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        sent = {
            "Authorization": self.authorization(method, url.raw_path.decode(), content, **auth),
            "Accept": "application/json",
            "User-Agent": "contract-test",
        }
        if body is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        return self.http.request(method, url, content=content, headers=sent)

    def verified(self, response: httpx.Response) -> httpx.Response:
        """The answer's signature as "签名验证" checks it."""
        headers = response.headers
        assert headers["wechatpay-serial"] == self.keys.wechatpay_platform_key_id
        assert abs(int(headers["wechatpay-timestamp"]) - time.time()) < 300
        message = (
            f"{headers['wechatpay-timestamp']}\n{headers['wechatpay-nonce']}\n".encode()
            + response.content
            + b"\n"
        )
        signature = base64.b64decode(headers["wechatpay-signature"])
        self.platform.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        return response

    def notification_verifies(self, received: Received) -> bool:
        headers = received.headers
        if headers.get("wechatpay-serial") != self.keys.wechatpay_platform_key_id:
            return False
        message = (
            f"{headers['wechatpay-timestamp']}\n{headers['wechatpay-nonce']}\n".encode()
            + received.body
            + b"\n"
        )
        try:
            self.platform.verify(
                base64.b64decode(headers["wechatpay-signature"]),
                message,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return False
        return True

    def decrypt(self, received: Received) -> dict[str, Any]:
        resource = json.loads(received.body)["resource"]
        assert resource["algorithm"] == "AEAD_AES_256_GCM"
        plaintext = AESGCM(self.keys.wechatpay_apiv3_key.encode()).decrypt(
            resource["nonce"].encode(),
            base64.b64decode(resource["ciphertext"]),
            resource["associated_data"].encode(),
        )
        return dict(json.loads(plaintext))

    # orders
    def order(self, out_trade_no: str, notify_url: str, /, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "appid": APPID,
            "mchid": MCHID,
            "description": "营业执照补办工本费",
            "out_trade_no": out_trade_no,
            "notify_url": notify_url,
            "amount": {"total": 1000, "currency": "CNY"},
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        }
        body.update(overrides)
        return body

    def jsapi(self, body: dict[str, Any], **auth: Any) -> httpx.Response:
        return self.call("POST", "/v3/pay/transactions/jsapi", body, **auth)

    def query(self, out_trade_no: str, mchid: str | None = MCHID) -> httpx.Response:
        query = f"?mchid={mchid}" if mchid is not None else ""
        return self.call("GET", f"/v3/pay/transactions/out-trade-no/{out_trade_no}{query}")

    def close(self, out_trade_no: str) -> httpx.Response:
        path = f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close"
        return self.call("POST", path, {"mchid": MCHID})

    def refund(
        self, out_trade_no: str, out_refund_no: str, refund: int, **more: Any
    ) -> httpx.Response:
        body = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "amount": {"refund": refund, "total": 1000, "currency": "CNY"},
            **more,
        }
        return self.call("POST", "/v3/refund/domestic/refunds", body)

    # control
    def control(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"{self.base}/_control/{path}", json=body or {})

    def pay(self, out_trade_no: str) -> dict[str, Any]:
        response = self.control("pay", {"out_trade_no": out_trade_no})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def notifications(self) -> list[dict[str, Any]]:
        return list(self.http.get(f"{self.base}/_control/notifications").json()["notifications"])

    def notification(self, notification_id: str, state: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [n for n in self.notifications() if n["id"] == notification_id]
            if found and found[0]["state"] == state:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"notification {notification_id} never {state}: {found}")


@pytest.fixture
def merchant(pay_peer_url: str, keys: SandboxKeys) -> Iterator[Merchant]:
    with httpx.Client(timeout=10) as http:
        client = Merchant(http, keys, f"{pay_peer_url}/wechatpay")
        assert client.control("reset").status_code == 200
        yield client


def new_no(prefix: str = "ZB") -> str:
    return f"{prefix}{secrets.token_hex(8)}"


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, str(response.json().get("code"))


# --- authentication ------------------------------------------------------------------------------


def test_an_order_is_created_and_the_answer_is_signed_with_the_platform_key(
    merchant: Merchant, receiver: Receiver
) -> None:
    response = merchant.verified(merchant.jsapi(merchant.order(new_no(), receiver.url("/n"))))
    assert response.status_code == 200
    assert response.json()["prepay_id"].startswith("wx")
    assert response.headers["request-id"]


def test_a_wrong_signature_is_401_sign_error(merchant: Merchant, receiver: Receiver) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = merchant.jsapi(merchant.order(new_no(), receiver.url("/n")), key=stranger)
    assert error(merchant.verified(response)) == (401, "SIGN_ERROR")


def test_a_body_changed_after_signing_is_refused(merchant: Merchant, receiver: Receiver) -> None:
    body = merchant.order(new_no(), receiver.url("/n"))
    content = json.dumps(body).encode()
    url = httpx.URL(merchant.base + "/v3/pay/transactions/jsapi")
    headers = {
        "Authorization": merchant.authorization("POST", url.raw_path.decode(), content),
        "Accept": "application/json",
        "User-Agent": "contract-test",
        "Content-Type": "application/json",
    }
    tampered = content.replace(b'"total": 1000', b'"total": 1')
    response = merchant.http.post(url, content=tampered, headers=headers)
    assert error(response) == (401, "SIGN_ERROR")


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_skewed_timestamp_is_refused(merchant: Merchant, receiver: Receiver, skew: int) -> None:
    body = merchant.order(new_no(), receiver.url("/n"))
    response = merchant.jsapi(body, timestamp=int(time.time()) + skew)
    assert error(response) == (401, "SIGN_ERROR")
    assert merchant.jsapi(body, timestamp=int(time.time()) - 250).status_code == 200


def test_another_merchant_or_certificate_serial_is_refused(
    merchant: Merchant, receiver: Receiver
) -> None:
    body = merchant.order(new_no(), receiver.url("/n"))
    assert error(merchant.jsapi(body, mchid="1900000110")) == (401, "SIGN_ERROR")
    assert error(merchant.jsapi(body, serial="0" * 40)) == (401, "SIGN_ERROR")


def test_accept_and_content_type_are_required(merchant: Merchant, receiver: Receiver) -> None:
    body = merchant.order(new_no(), receiver.url("/n"))
    path = "/v3/pay/transactions/jsapi"
    no_accept = merchant.call("POST", path, body, headers={"Accept": ""})
    assert error(no_accept) == (400, "INVALID_REQUEST")
    form = merchant.call("POST", path, body, headers={"Content-Type": "text/plain"})
    assert error(form) == (400, "INVALID_REQUEST")


# --- order creation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field_path"),
    [
        ({"out_trade_no": "ZB123"}, "/out_trade_no"),
        ({"out_trade_no": "ZB" + "1" * 31}, "/out_trade_no"),
        ({"out_trade_no": "ZB 123456"}, "/out_trade_no"),
        ({"description": "证" * 128}, "/description"),
        ({"notify_url": "http://127.0.0.1:9/n?case=1"}, "/notify_url"),
        ({"notify_url": "http://example.gov.cn/n"}, "/notify_url"),
        ({"notify_url": "callbacks/wechatpay"}, "/notify_url"),
        ({"amount": {"total": 0, "currency": "CNY"}}, "/amount/total"),
        ({"amount": {"total": "10", "currency": "CNY"}}, "/amount/total"),
        ({"amount": {"total": 10, "currency": "USD"}}, "/amount/currency"),
        ({"time_expire": "2030-01-01 10:00:00"}, "/time_expire"),
        ({"payer": {}}, "/payer/openid"),
        ({"attach": None}, "/attach"),
        ({"description": "缴费😀"}, "/description"),
    ],
)
def test_a_malformed_order_is_400_param_error_naming_the_field(
    merchant: Merchant, receiver: Receiver, change: dict[str, Any], field_path: str
) -> None:
    body = merchant.order(new_no(), receiver.url("/n"), **change)
    response = merchant.jsapi(body)
    assert error(response) == (400, "PARAM_ERROR")
    assert response.json()["detail"]["field"] == field_path


def test_another_app_or_merchant_in_the_body_is_refused(
    merchant: Merchant, receiver: Receiver
) -> None:
    other_app = merchant.order(new_no(), receiver.url("/n"), appid="wx-another-app")
    assert error(merchant.jsapi(other_app)) == (400, "APPID_MCHID_NOT_MATCH")
    other_mch = merchant.order(new_no(), receiver.url("/n"), mchid="1900000110")
    assert error(merchant.jsapi(other_mch)) == (400, "MCH_NOT_EXISTS")


def test_the_same_order_again_gives_a_new_prepay_id_and_another_amount_is_refused(
    merchant: Merchant, receiver: Receiver
) -> None:
    body = merchant.order(new_no(), receiver.url("/n"))
    first = merchant.jsapi(body).json()["prepay_id"]
    second = merchant.jsapi(body).json()["prepay_id"]
    assert first != second
    changed = {**body, "amount": {"total": 999, "currency": "CNY"}}
    assert error(merchant.jsapi(changed)) == (403, "OUT_TRADE_NO_USED")


def test_query_needs_mchid_and_an_unknown_order_is_404(merchant: Merchant) -> None:
    assert error(merchant.query(new_no(), mchid=None)) == (400, "PARAM_ERROR")
    assert error(merchant.verified(merchant.query(new_no()))) == (404, "ORDER_NOT_EXIST")


def test_an_unpaid_order_queries_notpay_and_its_time_expire_is_kept(
    merchant: Merchant, receiver: Receiver
) -> None:
    out_trade_no = new_no()
    soon = (datetime.now(CHINA) + timedelta(minutes=30)).isoformat(timespec="seconds")
    merchant.jsapi(merchant.order(out_trade_no, receiver.url("/n"), time_expire=soon))
    answer = merchant.verified(merchant.query(out_trade_no)).json()
    assert answer["trade_state"] == "NOTPAY"
    assert answer["appid"] == APPID and answer["mchid"] == MCHID
    assert "transaction_id" not in answer
    # past time_expire the order stays NOTPAY but can no longer be paid
    assert merchant.control("advance-clock", {"seconds": 31 * 60}).status_code == 200
    assert merchant.query(out_trade_no).json()["trade_state"] == "NOTPAY"
    assert merchant.control("pay", {"out_trade_no": out_trade_no}).status_code == 409


def test_close_then_pay_is_refused_and_the_order_stays_closed(
    merchant: Merchant, receiver: Receiver
) -> None:
    out_trade_no = new_no()
    merchant.jsapi(merchant.order(out_trade_no, receiver.url("/n")))
    closed = merchant.verified(merchant.close(out_trade_no))
    assert (closed.status_code, closed.content) == (204, b"")
    assert merchant.close(out_trade_no).status_code == 204
    refused = merchant.control("pay", {"out_trade_no": out_trade_no})
    assert error(refused) == (409, "ORDER_CLOSED")
    assert merchant.query(out_trade_no).json()["trade_state"] == "CLOSED"
    again = merchant.jsapi(merchant.order(out_trade_no, receiver.url("/n")))
    assert error(again) == (400, "ORDER_CLOSED")
    assert error(merchant.close(new_no())) == (404, "ORDER_NOT_EXIST")


# --- payment and its notification ---------------------------------------------------------------


def test_a_payment_is_notified_in_the_documented_format(
    merchant: Merchant, receiver: Receiver
) -> None:
    out_trade_no, path = new_no(), f"/pay/{secrets.token_hex(4)}"
    merchant.jsapi(merchant.order(out_trade_no, receiver.url(path), attach="case-7"))
    paid = merchant.pay(out_trade_no)
    (received,) = receiver.wait(path, 1)
    assert received.headers["content-type"].startswith("application/json")
    assert merchant.notification_verifies(received)
    envelope = json.loads(received.body)
    assert set(envelope) == {
        "id",
        "create_time",
        "resource_type",
        "event_type",
        "summary",
        "resource",
    }
    assert envelope["id"] == paid["notification_id"]
    assert envelope["event_type"] == "TRANSACTION.SUCCESS"
    assert envelope["resource_type"] == "encrypt-resource"
    assert datetime.fromisoformat(envelope["create_time"]).utcoffset() == timedelta(hours=8)
    resource = envelope["resource"]
    assert resource["original_type"] == "transaction"
    assert resource["associated_data"] == "transaction"
    assert len(resource["nonce"]) == 12
    transaction = merchant.decrypt(received)
    assert transaction["appid"] == APPID and transaction["mchid"] == MCHID
    assert transaction["out_trade_no"] == out_trade_no
    assert transaction["transaction_id"] == paid["transaction_id"]
    assert transaction["trade_state"] == "SUCCESS"
    assert transaction["trade_type"] == "JSAPI"
    assert transaction["attach"] == "case-7"
    assert transaction["amount"]["total"] == transaction["amount"]["payer_total"] == 1000
    assert transaction["payer"]["openid"] == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    query = merchant.query(out_trade_no).json()
    assert query["trade_state"] == "SUCCESS" and query["transaction_id"] == paid["transaction_id"]
    assert error(merchant.close(out_trade_no)) == (403, "ORDERPAID")
    again = merchant.jsapi(merchant.order(out_trade_no, receiver.url(path), attach="case-7"))
    assert error(again) == (403, "ORDERPAID")
    assert (
        merchant.notification(paid["notification_id"], "delivered")["attempts"][0]["status"] == 204
    )


def test_notifications_are_resent_on_the_documented_schedule_until_answered(
    merchant: Merchant, receiver: Receiver
) -> None:
    out_trade_no, path = new_no(), f"/resend/{secrets.token_hex(4)}"
    receiver.answers[path] = [500, 500, 404, 503]
    merchant.jsapi(merchant.order(out_trade_no, receiver.url(path)))
    notification_id = merchant.pay(out_trade_no)["notification_id"]
    arrivals = receiver.wait(path, 5)
    note = merchant.notification(notification_id, "delivered")
    assert [a["status"] for a in note["attempts"]] == [500, 500, 404, 503, 204]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(arrivals)]
    for gap, planned in zip(gaps, SCHEDULE_S, strict=False):
        assert gap >= planned / SPEEDUP * 0.9
    # every attempt is the same notification, signed afresh
    assert len({json.loads(a.body)["id"] for a in arrivals}) == 1
    assert all(merchant.notification_verifies(a) for a in arrivals)
    time.sleep(0.3)
    assert len(receiver.on(path)) == 5


def test_an_unanswered_notification_is_sent_sixteen_times_then_given_up(
    merchant: Merchant, receiver: Receiver
) -> None:
    out_trade_no, path = new_no(), f"/never/{secrets.token_hex(4)}"
    receiver.answers[path] = [500] * 20
    assert merchant.control("speedup", {"speedup": 1_000_000}).status_code == 200
    merchant.jsapi(merchant.order(out_trade_no, receiver.url(path)))
    notification_id = merchant.pay(out_trade_no)["notification_id"]
    note = merchant.notification(notification_id, "failed", timeout=15)
    assert len(note["attempts"]) == 1 + len(SCHEDULE_S) == 16
    assert len(receiver.on(path)) == 16


# --- fault switches -----------------------------------------------------------------------------


def paid_notification(merchant: Merchant, receiver: Receiver, **faults: Any) -> list[Received]:
    assert merchant.control("faults", faults).status_code == 200
    out_trade_no, path = new_no(), f"/fault/{secrets.token_hex(4)}"
    merchant.jsapi(merchant.order(out_trade_no, receiver.url(path)))
    merchant.pay(out_trade_no)
    return receiver.wait(path, faults.get("duplicate", 1))


def test_duplicate_sends_copies_of_one_notification_at_once(
    merchant: Merchant, receiver: Receiver
) -> None:
    copies = paid_notification(merchant, receiver, duplicate=4)
    assert len(copies) == 4
    assert len({json.loads(c.body)["id"] for c in copies}) == 1
    assert max(c.at for c in copies) - min(c.at for c in copies) < 1.0


def test_drop_never_sends(merchant: Merchant, receiver: Receiver) -> None:
    assert merchant.control("faults", {"drop": True}).status_code == 200
    out_trade_no, path = new_no(), f"/drop/{secrets.token_hex(4)}"
    merchant.jsapi(merchant.order(out_trade_no, receiver.url(path)))
    notification_id = merchant.pay(out_trade_no)["notification_id"]
    time.sleep(0.5)
    assert receiver.on(path) == []
    assert merchant.notification(notification_id, "dropped")["attempts"] == []
    assert merchant.query(out_trade_no).json()["trade_state"] == "SUCCESS"


def test_delay_sends_late(merchant: Merchant, receiver: Receiver) -> None:
    started = time.monotonic()
    (late,) = paid_notification(merchant, receiver, delay_s=0.6)
    assert late.at - started >= 0.6


def test_bad_signature_does_not_verify(merchant: Merchant, receiver: Receiver) -> None:
    (received,) = paid_notification(merchant, receiver, bad_signature=True)
    assert not merchant.notification_verifies(received)
    assert merchant.decrypt(received)["trade_state"] == "SUCCESS"


@pytest.mark.parametrize(
    ("fault", "key", "value"),
    [("wrong_mchid", "mchid", MCHID), ("wrong_appid", "appid", APPID)],
)
def test_a_resource_naming_another_merchant_or_app_is_still_well_signed(
    merchant: Merchant, receiver: Receiver, fault: str, key: str, value: str
) -> None:
    (received,) = paid_notification(merchant, receiver, **{fault: True})
    assert merchant.notification_verifies(received)
    assert merchant.decrypt(received)[key] != value


def test_a_resource_with_another_amount(merchant: Merchant, receiver: Receiver) -> None:
    (received,) = paid_notification(merchant, receiver, wrong_amount=True)
    assert merchant.decrypt(received)["amount"]["total"] != 1000


def test_out_of_order_sends_the_later_notification_first(
    merchant: Merchant, receiver: Receiver
) -> None:
    assert merchant.control("faults", {"out_of_order": True}).status_code == 200
    path = f"/order/{secrets.token_hex(4)}"
    first, second = new_no("A"), new_no("B")
    for out_trade_no in (first, second):
        merchant.jsapi(merchant.order(out_trade_no, receiver.url(path)))
        merchant.pay(out_trade_no)
    arrivals = receiver.wait(path, 2)
    assert [merchant.decrypt(a)["out_trade_no"] for a in arrivals] == [second, first]


def test_faults_must_be_known(merchant: Merchant) -> None:
    assert merchant.control("faults", {"lost": True}).status_code == 400
    assert merchant.control("faults", {"duplicate": 0}).status_code == 400


# --- refunds -----------------------------------------------------------------------------------


def paid_order(merchant: Merchant, receiver: Receiver) -> str:
    out_trade_no = new_no()
    merchant.jsapi(merchant.order(out_trade_no, receiver.url("/n")))
    merchant.pay(out_trade_no)
    return out_trade_no


def test_a_refund_is_accepted_processing_and_is_idempotent_by_its_number(
    merchant: Merchant, receiver: Receiver
) -> None:
    out_trade_no = paid_order(merchant, receiver)
    first = merchant.verified(merchant.refund(out_trade_no, "RF-1-" + out_trade_no[:20], 400))
    assert first.status_code == 200
    refund = first.json()
    assert refund["status"] == "PROCESSING"
    assert refund["amount"]["refund"] == 400 and refund["amount"]["total"] == 1000
    again = merchant.refund(out_trade_no, "RF-1-" + out_trade_no[:20], 400).json()
    assert again["refund_id"] == refund["refund_id"]
    other = merchant.refund(out_trade_no, "RF-1-" + out_trade_no[:20], 300)
    assert error(other) == (400, "INVALID_REQUEST")
    assert merchant.query(out_trade_no).json()["trade_state"] == "REFUND"


def test_refunds_of_one_order_are_a_minute_apart_and_never_exceed_what_is_left(
    merchant: Merchant, receiver: Receiver
) -> None:
    out_trade_no = paid_order(merchant, receiver)
    assert merchant.refund(out_trade_no, "RF-a-" + out_trade_no, 600).status_code == 200
    assert error(merchant.refund(out_trade_no, "RF-b-" + out_trade_no, 100)) == (
        429,
        "FREQUENCY_LIMITED",
    )
    merchant.control("advance-clock", {"seconds": 61})
    assert error(merchant.refund(out_trade_no, "RF-b-" + out_trade_no, 401)) == (
        400,
        "INVALID_REQUEST",
    )
    assert merchant.refund(out_trade_no, "RF-b-" + out_trade_no, 400).status_code == 200


def test_a_refund_needs_a_paid_order_its_total_and_cny(
    merchant: Merchant, receiver: Receiver
) -> None:
    unpaid = new_no()
    merchant.jsapi(merchant.order(unpaid, receiver.url("/n")))
    assert error(merchant.refund(unpaid, "RF-u-" + unpaid, 100)) == (400, "INVALID_REQUEST")
    assert error(merchant.refund(new_no(), "RF-x-" + unpaid, 100)) == (404, "RESOURCE_NOT_EXISTS")
    paid = paid_order(merchant, receiver)
    wrong_total = merchant.call(
        "POST",
        "/v3/refund/domestic/refunds",
        {
            "out_trade_no": paid,
            "out_refund_no": "RF-t-" + paid,
            "amount": {"refund": 100, "total": 999, "currency": "CNY"},
        },
    )
    assert error(wrong_total) == (400, "INVALID_REQUEST")
    no_currency = merchant.call(
        "POST",
        "/v3/refund/domestic/refunds",
        {
            "out_trade_no": paid,
            "out_refund_no": "RF-c-" + paid,
            "amount": {"refund": 100, "total": 1000},
        },
    )
    assert error(no_currency) == (400, "PARAM_ERROR")
    bad_no = merchant.refund(paid, "RF#1", 100)
    assert error(bad_no) == (400, "PARAM_ERROR")
    assert error(merchant.call("GET", "/v3/refund/domestic/refunds/RF-none")) == (
        404,
        "RESOURCE_NOT_EXISTS",
    )


@pytest.mark.parametrize(
    ("status", "event"),
    [("SUCCESS", "REFUND.SUCCESS"), ("CLOSED", "REFUND.CLOSED"), ("ABNORMAL", "REFUND.ABNORMAL")],
)
def test_a_settled_refund_is_notified_and_queried(
    merchant: Merchant, receiver: Receiver, status: str, event: str
) -> None:
    out_trade_no, path = paid_order(merchant, receiver), f"/refund/{secrets.token_hex(4)}"
    out_refund_no = "RF-s-" + out_trade_no
    merchant.refund(out_trade_no, out_refund_no, 250, notify_url=receiver.url(path))
    settled = merchant.control("refund-settle", {"out_refund_no": out_refund_no, "status": status})
    assert settled.status_code == 200
    (received,) = receiver.wait(path, 1)
    assert merchant.notification_verifies(received)
    envelope = json.loads(received.body)
    assert envelope["event_type"] == event
    assert envelope["resource"]["original_type"] == "refund"
    refund = merchant.decrypt(received)
    assert refund["mchid"] == MCHID and refund["out_refund_no"] == out_refund_no
    assert refund["refund_status"] == status and refund["amount"]["refund"] == 250
    assert ("success_time" in refund) == (status == "SUCCESS")
    query = merchant.verified(merchant.call("GET", f"/v3/refund/domestic/refunds/{out_refund_no}"))
    assert query.json()["status"] == status


# --- the trade bill ------------------------------------------------------------------------------


def tomorrow_ten(merchant: Merchant) -> None:
    now = datetime.now(CHINA)
    ready = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), CHINA)
    seconds = (ready.replace(hour=10, minute=5) - now).total_seconds()
    assert merchant.control("advance-clock", {"seconds": seconds}).status_code == 200


def bill(merchant: Merchant, day: str, **more: str) -> httpx.Response:
    query = "&".join(f"{k}={v}" for k, v in {"bill_date": day, **more}.items())
    return merchant.call("GET", f"/v3/bill/tradebill?{query}")


def download(merchant: Merchant, answer: dict[str, Any]) -> list[list[str]]:
    response = merchant.call("GET", answer["download_url"])
    assert response.status_code == 200
    assert "wechatpay-signature" not in response.headers
    assert hashlib.sha1(response.content).hexdigest() == answer["hash_value"]
    return [line.split(",") for line in response.content.decode().splitlines()]


def test_the_trade_bill_lists_the_days_payments_and_refunds(
    merchant: Merchant, receiver: Receiver
) -> None:
    paid = paid_order(merchant, receiver)
    merchant.refund(paid, "RF-bill-" + paid, 300)
    today = datetime.now(CHINA).date().isoformat()
    assert error(bill(merchant, today)) == (400, "STATEMENT_CREATING")
    tomorrow_ten(merchant)
    answer = merchant.verified(bill(merchant, today, bill_type="ALL")).json()
    assert answer["hash_type"] == "SHA1"
    rows = download(merchant, answer)
    header, *lines, summary_header, summary = rows
    assert header[:10] == [
        "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号",
        "微信订单号", "商户订单号", "用户标识", "交易类型", "交易状态",
    ]  # fmt: skip
    assert len(header) == 27 and all(len(line) == 27 for line in lines)
    assert all(value.startswith("`") for line in lines for value in line)
    assert summary_header[0] == "总交易单数" and summary[0] == "`2"
    fields = [dict(zip(header, (v[1:] for v in line), strict=True)) for line in lines]
    payment = next(f for f in fields if f["交易状态"] == "SUCCESS")
    refund = next(f for f in fields if f["交易状态"] == "REFUND")
    assert (payment["商户订单号"], payment["订单金额"]) == (paid, "10.00")
    assert (refund["商户退款单号"], refund["申请退款金额"]) == ("RF-bill-" + paid, "3.00")
    successes = download(merchant, bill(merchant, today, bill_type="SUCCESS").json())
    assert len(successes) == 4 and len(successes[0]) == 20


def test_bill_differences_change_the_next_bill(merchant: Merchant, receiver: Receiver) -> None:
    kept, missing, changed = (paid_order(merchant, receiver) for _ in range(3))
    today = datetime.now(CHINA).date().isoformat()
    tomorrow_ten(merchant)
    differences = {
        "missing": [missing],
        "extra": [{"out_trade_no": "ZB-ghost-0001", "amount_fen": 4200}],
        "amounts": {changed: 999},
    }
    assert merchant.control("bill-differences", differences).status_code == 200
    _, *lines, _, _ = download(merchant, bill(merchant, today).json())
    amounts = {line[6][1:]: line[24][1:] for line in lines}
    assert amounts == {kept: "10.00", changed: "9.99", "ZB-ghost-0001": "42.00"}
    # the differences were for one bill only
    _, *lines, _, _ = download(merchant, bill(merchant, today).json())
    assert {line[6][1:] for line in lines} == {kept, missing, changed}


def test_bill_requests_follow_the_documented_rules(merchant: Merchant, receiver: Receiver) -> None:
    paid_order(merchant, receiver)
    tomorrow_ten(merchant)
    today = datetime.now(CHINA).date()
    assert error(bill(merchant, "20240101")) == (400, "PARAM_ERROR")
    assert error(bill(merchant, today.isoformat(), bill_type="EVERYTHING")) == (400, "PARAM_ERROR")
    quiet = (today - timedelta(days=10)).isoformat()
    assert error(bill(merchant, quiet)) == (400, "NO_STATEMENT_EXIST")
    old = (today - timedelta(days=120)).isoformat()
    assert error(bill(merchant, old)) == (400, "INVALID_REQUEST")
    bad_token = merchant.call("GET", f"{merchant.base}/v3/billdownload/file?token=nope")
    assert error(bad_token) == (400, "INVALID_REQUEST")
    unsigned = merchant.http.get(bill(merchant, today.isoformat()).json()["download_url"])
    assert error(unsigned) == (401, "SIGN_ERROR")
    gz = bill(merchant, today.isoformat(), tar_type="GZIP").json()
    content = merchant.call("GET", gz["download_url"]).content
    assert content[:2] == b"\x1f\x8b"


# --- the adapter against the peer -----------------------------------------------------------------


async def test_the_adapter_charges_pays_refunds_and_reads_the_bill_through_the_peer(
    merchant: Merchant, receiver: Receiver, pay_peer_url: str, keys_dir: Path
) -> None:
    """``WeChatPayChannel`` end to end against the peer (the port's own suite goes further)."""
    settings = Settings(
        sandbox_enabled=False,
        sandbox_base_url=pay_peer_url,
        sandbox_keys_dir=keys_dir,
        wechat_appid=APPID,
        wechatpay_mch_id=MCHID,
    )
    path = f"/adapter/{secrets.token_hex(4)}"
    out_trade_no = new_no()
    async with httpx.AsyncClient(timeout=10) as http:
        channel = WeChatPayChannel(wechatpay_credentials(settings), http)
        charge = await channel.charge(
            ChargeRequest(
                out_trade_no=out_trade_no,
                amount_fen=1000,
                description="营业执照补办工本费",
                expires_at=datetime.now(UTC) + timedelta(minutes=30),
                mode=ChargeMode.in_app,
                notify_url=receiver.url(path),
                payer_id="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            )
        )
        assert charge.client["package"].startswith("prepay_id=wx")
        assert (await channel.query(out_trade_no)).state is TradeState.pending
        merchant.pay(out_trade_no)
        (received,) = receiver.wait(path, 1)
        notification = channel.parse_callback(
            received.headers, received.body, now=datetime.now(UTC)
        )
        assert notification.kind is NotificationKind.payment
        assert notification.trade.state is TradeState.paid
        assert notification.trade.amount_fen == 1000
        with pytest.raises(AlreadyPaid):
            await channel.close(out_trade_no)
        request = RefundRequest(
            out_trade_no=out_trade_no,
            out_refund_no="RF" + out_trade_no[-30:],
            refund_fen=1000,
            total_fen=1000,
            reason="案件撤回",
            notify_url=receiver.url(path + "/refund"),
        )
        assert (await channel.refund(request)).state is RefundState.processing
        with pytest.raises(ChannelRefused):
            await channel.charge(
                ChargeRequest(
                    out_trade_no=out_trade_no,
                    amount_fen=1000,
                    description="营业执照补办工本费",
                    expires_at=datetime.now(UTC) + timedelta(minutes=30),
                    mode=ChargeMode.qr,
                    notify_url=receiver.url(path),
                )
            )
        merchant.control(
            "refund-settle", {"out_refund_no": request.out_refund_no, "status": "SUCCESS"}
        )
        (refund_note,) = receiver.wait(path + "/refund", 1)
        refunded = channel.parse_callback(
            refund_note.headers, refund_note.body, now=datetime.now(UTC)
        )
        assert refunded.refund is not None
        assert refunded.refund.state is RefundState.succeeded
        tomorrow_ten(merchant)
        entries = await channel.bill(datetime.now(CHINA).date())
        assert {(e.kind.value, e.amount_fen) for e in entries} == {
            ("payment", 1000),
            ("refund", 1000),
        }


def test_the_phone_pays_with_what_request_payment_is_given(
    merchant: Merchant, receiver: Receiver
) -> None:
    """``wx.requestPayment`` holds the five parameters, not the order number: the peer finds the
    order by its prepay_id and checks the paySign as WeChat does (the merchant's key over
    appId, timeStamp, nonceStr and package, each followed by a newline)."""
    body = merchant.order(new_no(), receiver.url("/n"))
    prepay_id = merchant.jsapi(body).json()["prepay_id"]
    stamp, nonce, package = str(int(time.time())), secrets.token_hex(16), f"prepay_id={prepay_id}"
    message = f"{body['appid']}\n{stamp}\n{nonce}\n{package}\n".encode()
    signature = base64.b64encode(merchant.key.sign(message, padding.PKCS1v15(), hashes.SHA256()))
    params = {
        "timeStamp": stamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": signature.decode(),
    }

    def tap(**more: Any) -> str:
        answer = merchant.control("request-payment", {"params": params, **more})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["errMsg"])

    assert tap(cancel=True) == "requestPayment:fail cancel"
    assert merchant.verified(merchant.query(body["out_trade_no"])).json()["trade_state"] == "NOTPAY"
    forged = {**params, "nonceStr": "another-nonce"}
    answer = merchant.control("request-payment", {"params": forged})
    assert answer.json()["errMsg"] == "requestPayment:fail sign error"
    assert tap() == "requestPayment:ok"
    assert (
        merchant.verified(merchant.query(body["out_trade_no"])).json()["trade_state"] == "SUCCESS"
    )
    assert tap().startswith("requestPayment:fail")  # paid already
