"""The Alipay gateway peer over HTTP, driven with raw signed forms: each documented rule it
enforces, its signed answers (checked with the official SDK's parser, which verifies them), its
notifications (format, signature, resend schedule, compressed) and its fault switches; and the
stand the port's contract suite builds on.

Requests are signed here with the SDK's ``get_sign_content`` and ``sign_with_rsa2``, not with the
adapter's code or the peer's, so the peer is checked against the platform's formula.
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.constant.CommonConstants import THREAD_LOCAL
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa2, verify_with_rsa
from cryptography.hazmat.primitives import serialization

from core.settings import Settings
from payments.providers.base import ChargeMode, ChargeRequest, TradeState
from sandbox.keys import ALIPAY_APP_KEY, ALIPAY_PUBLIC, ensure_sandbox_keys
from tests.bills import seconds_until_todays_bill
from tests.contract.alipay_stand import alipay_stand
from tests.contract.conftest import APPID, SECRET
from tests.processes import sandbox_process

APP_ID = Settings.model_fields["alipay_app_id"].default
SELLER_ID = Settings.model_fields["alipay_seller_id"].default
CHINA = timezone(timedelta(hours=8))
#: Alipay's resend gaps (4m, 10m, 10m, 1h, 2h, 6h, 15h) are divided by this in this module.
SPEEDUP = 24_000.0
GAPS_S = [gap / SPEEDUP for gap in (240, 600, 600, 3600, 7200, 21600, 54000)]


# --- a notification receiver --------------------------------------------------------------------


class Receiver:
    """The merchant's notify_url: records every POST and answers what the test says (default
    ``success``)."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str, dict[str, str]]] = []
        self.answers: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                form = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
                with receiver.lock:
                    receiver.received.append((time.monotonic(), self.path, form))
                    queue = receiver.answers.get(self.path) or []
                    answer = queue.pop(0) if queue else b"success"
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def at(self, path: str) -> list[tuple[float, dict[str, str]]]:
        with self.lock:
            return [(t, form) for t, p, form in self.received if p == path]

    def wait(self, path: str, count: int, timeout: float = 10.0) -> list[tuple[float, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.at(path)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        return self.at(path)


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("alipay") / "keys"
    ensure_sandbox_keys(folder)
    return folder


@pytest.fixture(scope="module")
def alipay_url(keys_dir: Path) -> Iterator[str]:
    """A sandbox process of its own, resending SPEEDUP times faster."""
    with sandbox_process(
        keys_dir.parent / "sandbox.log",
        appid=APPID,
        secret=SECRET,
        keys_dir=keys_dir,
        callback_speedup=SPEEDUP,
    ) as base:
        yield base


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


class Gateway:
    """Raw gateway calls signed with the SDK, answers checked with the SDK's parser."""

    def __init__(self, base: str, keys_dir: Path) -> None:
        self.http = httpx.Client(base_url=f"{base}/alipay", timeout=10)
        keys = ensure_sandbox_keys(keys_dir)
        self.app_key_pem = (
            keys.private_key(ALIPAY_APP_KEY)
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
            .decode()
        )
        self.alipay_public_pem = keys.path(ALIPAY_PUBLIC).read_text()
        config = AlipayClientConfig()
        config.app_id = APP_ID
        config.alipay_public_key = self.alipay_public_pem
        self.sdk = DefaultAlipayClient(config)

    def params(
        self, method: str, biz: dict[str, Any] | str | None, **common: str
    ) -> dict[str, str]:
        params = {
            "app_id": APP_ID,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
        }
        if biz is not None:
            params["biz_content"] = biz if isinstance(biz, str) else json.dumps(biz)
        params.update(common)
        params = {k: v for k, v in params.items() if v is not None}
        signable = {k: v for k, v in params.items() if k != "sign" and v}
        params.setdefault(
            "sign", sign_with_rsa2(self.app_key_pem, get_sign_content(signable), "utf-8")
        )
        return {k: v for k, v in params.items() if v != "<drop>"}

    def post(self, params: dict[str, str]) -> httpx.Response:
        response = self.http.post("/gateway.do", data=params)
        assert response.status_code == 200, response.text
        return response

    def call(self, method: str, biz: dict[str, Any] | str | None, **common: str) -> dict[str, Any]:
        """The response object, after the SDK verified its signature."""
        body = self.post(self.params(method, biz, **common)).content
        THREAD_LOCAL.logger = None
        THREAD_LOCAL.uuid = "contract"
        inner: dict[str, Any] = json.loads(self.sdk._DefaultAlipayClient__parse_response(body))
        return inner

    def unsigned(self, method: str, biz: Any, **common: str) -> dict[str, Any]:
        document: dict[str, Any] = self.post(self.params(method, biz, **common)).json()
        return document

    def control(self, action: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"/_control/{action}", json=body or {})

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.get("/_control/stats").json()
        return answer


@pytest.fixture
def gw(alipay_url: str, keys_dir: Path) -> Iterator[Gateway]:
    gateway = Gateway(alipay_url, keys_dir)
    assert gateway.control("reset").status_code == 200
    yield gateway
    gateway.control("reset")
    gateway.http.close()


_counter = iter(range(10**6))


def number(prefix: str = "T") -> str:
    return f"{prefix}{int(time.time())}_{next(_counter)}"


def create(gw: Gateway, notify_url: str = "", **biz: Any) -> dict[str, Any]:
    body = {"out_trade_no": number(), "total_amount": "20.00", "subject": "工本费", **biz}
    body.setdefault("buyer_id", "2088102122524333")
    common = {"notify_url": notify_url} if notify_url else {}
    answer = gw.call("alipay.trade.create", body, **common)
    answer["_out_trade_no"] = body["out_trade_no"]
    return answer


def assert_error(answer: dict[str, Any], code: str, sub_code: str) -> None:
    assert (answer.get("code"), answer.get("sub_code")) == (code, sub_code), answer


# --- common parameters and the signature ------------------------------------------------------


def test_method_is_required_and_must_exist(gw: Gateway) -> None:
    missing = gw.unsigned("<drop>", {"out_trade_no": "A1"})
    assert_error(missing["error_response"], "40001", "isv.missing-method")
    unknown = gw.call("alipay.trade.nothing", {})
    assert_error(unknown, "40002", "isv.invalid-method")


def test_another_apps_id_is_refused_unsigned(gw: Gateway) -> None:
    for app_id, sub_code in (
        ("<drop>", "isv.missing-app-id"),
        ("2021000000000999", "isv.invalid-app-id"),
    ):
        document = gw.unsigned("alipay.trade.query", {"out_trade_no": "A1"}, app_id=app_id)
        assert "sign" not in document
        code = "40001" if app_id == "<drop>" else "40002"
        assert_error(document["alipay_trade_query_response"], code, sub_code)


@pytest.mark.parametrize(
    ("common", "code", "sub_code"),
    [
        ({"sign": "<drop>"}, "40001", "isv.missing-signature"),
        ({"sign": "AAAA"}, "40002", "isv.invalid-signature"),
        ({"sign_type": "<drop>"}, "40001", "isv.missing-signature-type"),
        ({"sign_type": "MD5"}, "40002", "isv.invalid-signature-type"),
        ({"sign_type": "RSA"}, "40002", "isv.missing-signature-config"),
        ({"timestamp": "<drop>"}, "40001", "isv.missing-timestamp"),
        ({"timestamp": "2026/03/01 12:00:00"}, "40002", "isv.invalid-timestamp"),
        ({"timestamp": "1772337600"}, "40002", "isv.invalid-timestamp"),
        ({"version": "<drop>"}, "40001", "isv.missing-version"),
        ({"version": "2.0"}, "40002", "isv.invalid-parameter"),
        ({"charset": "latin-1"}, "40002", "isv.invalid-charset"),
        ({"format": "XML"}, "40002", "isv.invalid-format"),
        ({"notify_url": "ftp://gov.example/cb"}, "40002", "isv.invalid-parameter"),
    ],
)
def test_common_parameters_follow_the_documented_rules(
    gw: Gateway, common: dict[str, str], code: str, sub_code: str
) -> None:
    answer = gw.call("alipay.trade.query", {"out_trade_no": "A1"}, **common)
    assert_error(answer, code, sub_code)


def test_a_timestamp_in_utc_rather_than_gmt8_is_refused(gw: Gateway) -> None:
    utc = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert_error(
        gw.call("alipay.trade.query", {"out_trade_no": "A1"}, timestamp=utc),
        "40002",
        "isv.invalid-timestamp",
    )


def test_a_signature_over_another_string_is_refused_and_the_verified_string_quoted(
    gw: Gateway,
) -> None:
    params = gw.params("alipay.trade.query", {"out_trade_no": "A1"})
    encoded = {k: v.replace(" ", "%20") for k, v in params.items() if k != "sign"}
    wrong = sign_with_rsa2(
        gw.app_key_pem, "&".join(f"{k}={v}" for k, v in encoded.items()), "utf-8"
    )
    answer = gw.call("alipay.trade.query", {"out_trade_no": "A1"}, sign=wrong)
    assert_error(answer, "40002", "isv.invalid-signature")
    expected = get_sign_content({k: v for k, v in params.items() if k != "sign"})
    assert expected.split("&timestamp=")[0] in answer["sub_msg"]


def test_biz_content_must_be_a_json_object(gw: Gateway) -> None:
    for biz in ("not json", "[1,2]"):
        assert_error(gw.call("alipay.trade.query", biz), "40002", "isv.invalid-parameter")
    assert_error(gw.call("alipay.trade.query", None), "40002", "isv.invalid-parameter")


# --- trades -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "sub_code"),
    [
        ("0.00", "ACQ.TOTAL_FEE_EXCEED"),
        ("100000000.01", "ACQ.TOTAL_FEE_EXCEED"),
        ("12.345", "ACQ.INVALID_PARAMETER"),
        ("12,30", "ACQ.INVALID_PARAMETER"),
        ("-1.00", "ACQ.INVALID_PARAMETER"),
    ],
)
def test_amounts_are_yuan_with_two_decimals_within_range(
    gw: Gateway, amount: str, sub_code: str
) -> None:
    assert_error(create(gw, total_amount=amount), "40004", sub_code)


def test_the_range_ends_are_accepted(gw: Gateway) -> None:
    for amount in ("0.01", "100000000.00", "7"):
        assert create(gw, total_amount=amount)["code"] == "10000"


@pytest.mark.parametrize(
    "biz",
    [
        {"out_trade_no": "FEE-2026-1"},  # "仅支持字母、数字、下划线"
        {"out_trade_no": "X" * 65},
        {"subject": "工本费&手续费"},
        {"subject": "a/b"},
        {"subject": ""},
        {"buyer_id": ""},
        {"buyer_id": "1234"},
        {"product_code": "FAST_INSTANT_TRADE_PAY"},
        {"time_expire": "2026-03-01T12:00:00"},
    ],
)
def test_create_refuses_what_the_page_forbids(gw: Gateway, biz: dict[str, str]) -> None:
    assert_error(create(gw, **biz), "40004", "ACQ.INVALID_PARAMETER")


def test_create_answers_a_trade_no_and_is_idempotent(gw: Gateway) -> None:
    first = create(gw, buyer_id="", buyer_open_id="074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5")
    assert first["code"] == "10000" and first["trade_no"]
    out_trade_no = first["_out_trade_no"]
    again = create(
        gw,
        out_trade_no=out_trade_no,
        buyer_id="",
        buyer_open_id="074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5",
    )
    assert again["trade_no"] == first["trade_no"]
    changed = create(
        gw,
        out_trade_no=out_trade_no,
        total_amount="20.01",
        buyer_id="",
        buyer_open_id="074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5",
    )
    assert_error(changed, "40004", "ACQ.CONTEXT_INCONSISTENT")
    other_buyer = create(gw, out_trade_no=out_trade_no)
    assert_error(other_buyer, "40004", "ACQ.TRADE_BUYER_NOT_MATCH")
    assert gw.control("pay", {"out_trade_no": out_trade_no}).status_code == 200
    paid = create(
        gw,
        out_trade_no=out_trade_no,
        buyer_id="",
        buyer_open_id="074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5",
    )
    assert_error(paid, "40004", "ACQ.TRADE_HAS_SUCCESS")


def test_query_close_and_a_closed_trade(gw: Gateway) -> None:
    assert_error(
        gw.call("alipay.trade.query", {"out_trade_no": "NONE_1"}), "40004", "ACQ.TRADE_NOT_EXIST"
    )
    assert_error(
        gw.call("alipay.trade.close", {"out_trade_no": "NONE_1"}), "40004", "ACQ.TRADE_NOT_EXIST"
    )
    assert_error(gw.call("alipay.trade.query", {}), "40004", "ACQ.INVALID_PARAMETER")
    trade = create(gw)["_out_trade_no"]
    query = gw.call("alipay.trade.query", {"out_trade_no": trade})
    assert (query["trade_status"], query["total_amount"]) == ("WAIT_BUYER_PAY", "20.00")
    assert "send_pay_date" not in query
    assert gw.call("alipay.trade.close", {"out_trade_no": trade})["code"] == "10000"
    assert gw.call("alipay.trade.query", {"out_trade_no": trade})["trade_status"] == "TRADE_CLOSED"
    assert_error(
        gw.call("alipay.trade.close", {"out_trade_no": trade}), "40004", "ACQ.TRADE_STATUS_ERROR"
    )
    assert_error(create(gw, out_trade_no=trade), "40004", "ACQ.TRADE_HAS_CLOSE")
    assert gw.control("pay", {"out_trade_no": trade}).status_code == 409


def test_a_paid_trade_cannot_be_closed(gw: Gateway) -> None:
    trade = create(gw)["_out_trade_no"]
    gw.control("pay", {"out_trade_no": trade})
    query = gw.call("alipay.trade.query", {"out_trade_no": trade})
    assert query["trade_status"] == "TRADE_SUCCESS" and query["send_pay_date"]
    assert_error(
        gw.call("alipay.trade.close", {"out_trade_no": trade}), "40004", "ACQ.TRADE_STATUS_ERROR"
    )


def test_time_expire_closes_an_unpaid_trade(gw: Gateway) -> None:
    soon = (datetime.now(CHINA) + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    trade = create(gw, time_expire=soon)["_out_trade_no"]
    assert gw.control("advance-clock", {"seconds": 301}).status_code == 200
    assert gw.call("alipay.trade.query", {"out_trade_no": trade})["trade_status"] == "TRADE_CLOSED"
    assert gw.control("pay", {"out_trade_no": trade}).status_code == 409


def test_a_precreated_trade_exists_once_scanned(gw: Gateway) -> None:
    trade = number("Q")
    answer = gw.call(
        "alipay.trade.precreate",
        {
            "out_trade_no": trade,
            "total_amount": "88.88",
            "subject": "营业执照工本费",
            "timeout_express": "90m",
        },
    )
    assert answer["code"] == "10000" and answer["qr_code"].startswith("https://qr.alipay.com/")
    assert_error(
        gw.call("alipay.trade.query", {"out_trade_no": trade}), "40004", "ACQ.TRADE_NOT_EXIST"
    )
    assert gw.control("scan", {"out_trade_no": trade}).status_code == 200
    assert (
        gw.call("alipay.trade.query", {"out_trade_no": trade})["trade_status"] == "WAIT_BUYER_PAY"
    )
    bad = gw.call(
        "alipay.trade.precreate",
        {
            "out_trade_no": number("Q"),
            "total_amount": "1.00",
            "subject": "x",
            "timeout_express": "16d",
        },
    )
    assert_error(bad, "40004", "ACQ.INVALID_PARAMETER")


# --- refunds ------------------------------------------------------------------------------------


def paid_trade(gw: Gateway, amount: str = "20.00") -> str:
    trade = create(gw, total_amount=amount)["_out_trade_no"]
    assert gw.control("pay", {"out_trade_no": trade}).status_code == 200
    return str(trade)


def refund(gw: Gateway, trade: str, amount: str, out_request_no: str | None) -> dict[str, Any]:
    biz: dict[str, Any] = {"out_trade_no": trade, "refund_amount": amount, "refund_reason": "撤回"}
    if out_request_no:
        biz["out_request_no"] = out_request_no
    return gw.call("alipay.trade.refund", biz)


def test_refund_rules(gw: Gateway) -> None:
    unpaid = create(gw)["_out_trade_no"]
    assert_error(refund(gw, unpaid, "1.00", "R1"), "40004", "ACQ.TRADE_STATUS_ERROR")
    assert_error(refund(gw, "NONE_1", "1.00", "R1"), "40004", "ACQ.TRADE_NOT_EXIST")
    trade = paid_trade(gw)
    assert_error(refund(gw, trade, "5.00", None), "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    assert_error(refund(gw, trade, "20.01", "R1"), "40004", "ACQ.REASON_TRADE_REFUND_FEE_ERR")
    first = refund(gw, trade, "5.00", "R1")
    assert (first["fund_change"], first["refund_fee"]) == ("Y", "5.00")
    again = refund(gw, trade, "5.00", "R1")
    assert (again["fund_change"], again["refund_fee"]) == ("N", "5.00")
    assert_error(refund(gw, trade, "6.00", "R1"), "40004", "ACQ.DISCORDANT_REPEAT_REQUEST")
    assert_error(refund(gw, trade, "15.01", "R2"), "40004", "ACQ.REASON_TRADE_REFUND_FEE_ERR")
    last = refund(gw, trade, "15.00", "R2")
    assert (last["fund_change"], last["refund_fee"]) == ("Y", "20.00")
    query = gw.call("alipay.trade.query", {"out_trade_no": trade})
    # paid, then fully refunded: closed, and still showing when it was paid
    assert query["trade_status"] == "TRADE_CLOSED" and query["send_pay_date"]
    found = gw.call(
        "alipay.trade.fastpay.refund.query",
        {"out_trade_no": trade, "out_request_no": "R1", "query_options": ["gmt_refund_pay"]},
    )
    assert (found["refund_status"], found["refund_amount"]) == ("REFUND_SUCCESS", "5.00")
    assert found["gmt_refund_pay"]
    none = gw.call(
        "alipay.trade.fastpay.refund.query", {"out_trade_no": trade, "out_request_no": "R9"}
    )
    assert none["code"] == "10000" and "refund_status" not in none and "refund_amount" not in none


def test_a_whole_refund_without_request_number_uses_the_trade_number(gw: Gateway) -> None:
    trade = paid_trade(gw, "3.00")
    assert refund(gw, trade, "3.00", None)["fund_change"] == "Y"
    found = gw.call(
        "alipay.trade.fastpay.refund.query", {"out_trade_no": trade, "out_request_no": trade}
    )
    assert found["refund_status"] == "REFUND_SUCCESS"


def test_a_refund_can_stay_processing_then_settle(gw: Gateway) -> None:
    trade = paid_trade(gw)
    gw.control("faults", {"refund_processing": True})
    held = refund(gw, trade, "8.00", "R1")
    assert (held["fund_change"], held["refund_fee"]) == ("N", "0.00")
    pending = gw.call(
        "alipay.trade.fastpay.refund.query", {"out_trade_no": trade, "out_request_no": "R1"}
    )
    assert "refund_status" not in pending
    # the amount is taken from what is left while the refund is processing
    assert_error(refund(gw, trade, "12.01", "R2"), "40004", "ACQ.REASON_TRADE_REFUND_FEE_ERR")
    assert (
        gw.control("refund-settle", {"out_request_no": "R1", "state": "success"}).status_code == 200
    )
    done = gw.call(
        "alipay.trade.fastpay.refund.query", {"out_trade_no": trade, "out_request_no": "R1"}
    )
    assert done["refund_status"] == "REFUND_SUCCESS"
    refund(gw, trade, "2.00", "R3")
    assert (
        gw.control("refund-settle", {"out_request_no": "R3", "state": "failed"}).status_code == 200
    )
    failed = gw.call(
        "alipay.trade.fastpay.refund.query", {"out_trade_no": trade, "out_request_no": "R3"}
    )
    assert "refund_status" not in failed
    assert (
        gw.control("refund-settle", {"out_request_no": "R3", "state": "success"}).status_code == 409
    )


# --- the bill -----------------------------------------------------------------------------------


def test_the_bill_is_ready_the_next_day_and_its_url_lives_30_seconds(gw: Gateway) -> None:
    today = datetime.now(CHINA).date().isoformat()
    not_yet = gw.call(
        "alipay.data.dataservice.bill.downloadurl.query", {"bill_type": "trade", "bill_date": today}
    )
    assert_error(not_yet, "40004", "isp.bill_not_exist")
    bad = gw.call(
        "alipay.data.dataservice.bill.downloadurl.query",
        {"bill_type": "trade", "bill_date": "20260301"},
    )
    assert_error(bad, "40004", "ACQ.INVALID_PARAMETER")
    trade = paid_trade(gw, "12.30")
    refund(gw, trade, "2.30", "R1")
    gw.control("advance-clock", {"seconds": seconds_until_todays_bill()})
    answer = gw.call(
        "alipay.data.dataservice.bill.downloadurl.query", {"bill_type": "trade", "bill_date": today}
    )
    url = answer["bill_download_url"]
    assert "downloadBillFile.resource" in url and "fileType=csv.zip" in url
    rows = bill_rows(httpx.get(url).content)
    assert [(r[1], r[2], r[11], r[21]) for r in rows] == [
        (trade, "交易", "12.30", ""),
        (trade, "退款", "-2.30", "R1"),
    ]
    gw.control("advance-clock", {"seconds": 31})
    expired = httpx.get(url)
    assert expired.status_code == 403 and "下载超时" in expired.text


def bill_rows(archive: bytes) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        texts = [files.read(name).decode("gbk") for name in files.namelist()]
    detail = next(text for text in texts if text.startswith("#支付宝业务明细查询"))
    assert any(text.startswith("#支付宝业务汇总查询") for text in texts)
    lines = detail.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("支付宝交易号")))
    rows = []
    for line in lines[header + 1 :]:
        if line.startswith("#"):
            break
        rows.append([cell.strip() for cell in line.split(",")])
    return rows


def test_bill_differences_apply_to_the_next_bill(gw: Gateway) -> None:
    today = datetime.now(CHINA).date().isoformat()
    first, second = paid_trade(gw, "1.00"), paid_trade(gw, "2.00")
    gw.control("advance-clock", {"seconds": seconds_until_todays_bill()})
    set_ = gw.control("bill-differences", {"missing": first, "extra": "GHOST_1", "amount": second})
    assert set_.status_code == 200
    biz = {"bill_type": "trade", "bill_date": today}
    url = gw.call("alipay.data.dataservice.bill.downloadurl.query", biz)["bill_download_url"]
    rows = {r[1]: r[11] for r in bill_rows(httpx.get(url).content)}
    assert rows == {second: "2.01", "GHOST_1": "1.00"}
    url = gw.call("alipay.data.dataservice.bill.downloadurl.query", biz)["bill_download_url"]
    assert {r[1]: r[11] for r in bill_rows(httpx.get(url).content)} == {
        first: "1.00",
        second: "2.00",
    }


# --- notifications ------------------------------------------------------------------------------


def verify_notification(gw: Gateway, form: dict[str, str]) -> bool:
    content = get_sign_content(
        {k: v for k, v in form.items() if k not in ("sign", "sign_type") and v}
    )
    try:
        return bool(verify_with_rsa(gw.alipay_public_pem, content.encode(), form["sign"]))
    except Exception:
        return False


def test_a_payment_notifies_in_the_documented_format(gw: Gateway, receiver: Receiver) -> None:
    path = "/notify/format"
    trade = create(gw, notify_url=receiver.url + path)
    gw.control("pay", {"out_trade_no": trade["_out_trade_no"]})
    [(_, form)] = receiver.wait(path, 1)
    for name in ("notify_time", "notify_id", "gmt_payment", "gmt_create", "buyer_id"):
        assert form[name]
    assert form["notify_type"] == "trade_status_sync" and form["sign_type"] == "RSA2"
    assert (form["app_id"], form["seller_id"]) == (APP_ID, SELLER_ID)
    assert (form["trade_no"], form["out_trade_no"]) == (trade["trade_no"], trade["_out_trade_no"])
    assert (form["trade_status"], form["total_amount"], form["receipt_amount"]) == (
        "TRADE_SUCCESS",
        "20.00",
        "20.00",
    )
    assert form["charset"] == "utf-8" and form["version"] == "1.0"
    assert verify_notification(gw, form)
    # sign_type is not part of what is signed
    with_type = get_sign_content({k: v for k, v in form.items() if k != "sign"})
    with pytest.raises(Exception):  # noqa: B017 - rsa.VerificationError
        verify_with_rsa(gw.alipay_public_pem, with_type.encode(), form["sign"])
    time.sleep(GAPS_S[0] * 3)
    assert len(receiver.at(path)) == 1  # "success" stops the resends


def test_resends_follow_the_schedule_until_success(gw: Gateway, receiver: Receiver) -> None:
    path = "/notify/schedule"
    receiver.answers[path] = [b"fail", b"", b"SUCCESS", b"success "] + [b"fail"] * 4
    trade = create(gw, notify_url=receiver.url + path)
    gw.control("pay", {"out_trade_no": trade["_out_trade_no"]})
    got = receiver.wait(path, 8, timeout=20)
    assert len(got) == 8
    times = [t for t, _ in got]
    gaps = [b - a for a, b in pairwise(times)]
    for gap, expected in zip(gaps, GAPS_S, strict=True):
        assert expected * 0.8 <= gap <= expected + 0.5, (gaps, GAPS_S)
    assert len({form["notify_id"] for _, form in got}) == 1
    time.sleep(1)
    assert len(receiver.at(path)) == 8  # eight attempts in all, then Alipay gives up
    [notification] = [
        n for n in gw.stats()["notifications"] if n["out_trade_no"] == trade["_out_trade_no"]
    ]
    assert not notification["delivered"] and len(notification["attempts"]) == 8


def test_the_first_success_stops_the_resends(gw: Gateway, receiver: Receiver) -> None:
    path = "/notify/third"
    receiver.answers[path] = [b"fail", b"fail"]
    trade = create(gw, notify_url=receiver.url + path)["_out_trade_no"]
    gw.control("pay", {"out_trade_no": trade})
    assert len(receiver.wait(path, 3)) == 3
    time.sleep(sum(GAPS_S[2:5]) + 0.3)
    assert len(receiver.at(path)) == 3
    [notification] = [n for n in gw.stats()["notifications"] if n["out_trade_no"] == trade]
    assert notification["delivered"] and len(notification["attempts"]) == 3


def test_refunds_notify_the_trade_again(gw: Gateway, receiver: Receiver) -> None:
    path = "/notify/refund"
    trade = create(gw, notify_url=receiver.url + path, total_amount="10.00")["_out_trade_no"]
    gw.control("pay", {"out_trade_no": trade})
    refund(gw, trade, "4.00", "R1")
    refund(gw, trade, "6.00", "R2")
    got = [form for _, form in receiver.wait(path, 3)]
    assert [f["trade_status"] for f in got] == ["TRADE_SUCCESS", "TRADE_SUCCESS", "TRADE_CLOSED"]
    assert [(f.get("out_biz_no"), f.get("refund_fee")) for f in got] == [
        (None, None),
        ("R1", "4.00"),
        ("R2", "10.00"),
    ]
    assert got[2]["gmt_refund"] and got[2]["gmt_close"]
    assert all(verify_notification(gw, f) for f in got)


def test_fault_switches(gw: Gateway, receiver: Receiver) -> None:
    def paid(path: str, **faults: Any) -> tuple[str, list[dict[str, str]]]:
        assert gw.control("faults", {"duplicate": 1, **faults}).status_code == 200
        trade = create(gw, notify_url=receiver.url + path)["_out_trade_no"]
        gw.control("pay", {"out_trade_no": trade})
        gw.control("faults", {k: type(v)() for k, v in faults.items()} | {"duplicate": 1})
        return trade, [form for _, form in receiver.wait(path, faults.get("duplicate", 1))]

    _, copies = paid("/f/dup", duplicate=3)
    assert len(copies) == 3 and len({c["notify_id"] for c in copies}) == 1

    _, forged = paid("/f/sig", bad_signature=True)
    assert not verify_notification(gw, forged[0])

    for fault, name, wrong in (
        ("wrong_app_id", "app_id", APP_ID),
        ("wrong_seller_id", "seller_id", SELLER_ID),
        ("wrong_total_amount", "total_amount", "20.00"),
    ):
        _, [form] = paid(f"/f/{fault}", **{fault: True})
        assert verify_notification(gw, form) and form[name] != wrong

    assert gw.control("faults", {"drop": True}).status_code == 200
    dropped = create(gw, notify_url=receiver.url + "/f/drop")["_out_trade_no"]
    gw.control("pay", {"out_trade_no": dropped})
    gw.control("faults", {"drop": False})
    time.sleep(0.5)
    assert receiver.at("/f/drop") == []

    gw.control("faults", {"delay_s": 0.6})
    start = time.monotonic()
    trade = create(gw, notify_url=receiver.url + "/f/delay")["_out_trade_no"]
    gw.control("pay", {"out_trade_no": trade})
    gw.control("faults", {"delay_s": 0})
    [(at, _)] = receiver.wait("/f/delay", 1)
    assert at - start >= 0.6

    gw.control("faults", {"out_of_order": True})
    first = create(gw, notify_url=receiver.url + "/f/order")["_out_trade_no"]
    second = create(gw, notify_url=receiver.url + "/f/order")["_out_trade_no"]
    gw.control("pay", {"out_trade_no": first})
    gw.control("pay", {"out_trade_no": second})
    time.sleep(0.3)
    assert receiver.at("/f/order") == []
    assert gw.control("faults", {"out_of_order": False}).status_code == 200  # flushes
    got = receiver.wait("/f/order", 2)
    assert sorted(got)[0][1]["out_trade_no"] in (first, second)
    assert {form["out_trade_no"] for _, form in got} == {first, second}

    assert gw.control("faults", {"nonsense": True}).status_code == 400
    assert gw.control("faults", {"duplicate": 0}).status_code == 400


def test_answers_can_be_forged_for_the_adapter(gw: Gateway) -> None:
    gw.control("faults", {"response_bad_signature": True})
    body = gw.post(gw.params("alipay.trade.query", {"out_trade_no": "A1"})).content
    THREAD_LOCAL.logger = None
    THREAD_LOCAL.uuid = "contract"
    with pytest.raises(Exception):  # noqa: B017 - the SDK's ResponseException
        gw.sdk._DefaultAlipayClient__parse_response(body)


# --- the stand ----------------------------------------------------------------------------------


async def test_the_stand_drives_the_channel_through_the_peer(
    alipay_url: str, keys_dir: Path, receiver: Receiver
) -> None:
    async with httpx.AsyncClient() as http, alipay_stand(alipay_url, http, keys_dir) as stand:
        out_trade_no = number("S")
        charge = await stand.channel.charge(
            ChargeRequest(
                out_trade_no=out_trade_no,
                amount_fen=1230,
                description="居民身份证换领 工本费",
                expires_at=datetime.now(UTC) + timedelta(minutes=30),
                mode=ChargeMode.in_app,
                notify_url=receiver.url + "/stand",
                payer_id="2088102122524333",
            )
        )
        assert charge.client["tradeNO"]
        assert (await stand.channel.query(out_trade_no)).state is TradeState.pending
        await stand.pay(out_trade_no)
        assert (await stand.channel.query(out_trade_no)).state is TradeState.paid
        [(_, form)] = receiver.wait("/stand", 1)
        parsed = stand.channel.parse_callback({}, urlencode(form).encode(), now=datetime.now(UTC))
        assert parsed.trade.amount_fen == 1230 and parsed.trade.out_trade_no == out_trade_no
        assert parsed.trade.state is TradeState.paid
