"""The WeChat peer over HTTP: the platform's contract (PROTOCOLS.md) that our adapters rely on.

Every answer of the platform API is HTTP 200; errors carry ``errcode`` and an ``errmsg`` ending in
`` rid: …``. Time-dependent rules are driven with the peer's own clock (``advance-clock``).
"""

from __future__ import annotations

import base64
import hashlib
import re
import string
from typing import Any

import pytest

from sandbox.wechat import cert_hash_of
from tests.contract.conftest import APPID, WeChatDriver

PHONE = "/wxa/business/getuserphonenumber"
GET_VERIFY_ID = "/cityservice/face/identify/getverifyid"
QUERY_VERIFY = "/cityservice/face/identify/queryverifyinfo"
OPENID_CHARS = set(string.ascii_letters + string.digits + "-_")
ID_NUMBER = "360426199101010071"
NAME = "李明"
#: queryVerifyInfo's worked example: this cert_info, its joined base64 string, and its cert_hash.
DOC_CERT_INFO = {"cert_type": "IDENTITY_CARD", "cert_name": "张三", "cert_no": "310101199801011234"}
DOC_JOINED = "cert_type=SURFTlRJVFlfQ0FSRA==&cert_name=5byg5LiJ&cert_no=MzEwMTAxMTk5ODAxMDExMjM0"
DOC_CERT_HASH = "3c241f7ff324977aeb91f173bb2a7b06569e6fd784d5573db34a636d8671108b"


def assert_error(answer: dict[str, Any], errcode: int) -> None:
    assert answer["errcode"] == errcode, answer
    assert re.search(r" rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$", answer["errmsg"]), answer


def login(wechat: WeChatDriver, **fields: Any) -> str:
    """A user who has logged in once (the platform knows the openid); returns the openid."""
    code = wechat.login_code(**fields)["code"]
    return str(wechat.jscode2session(code)["openid"])


# --- login: jscode2session -------------------------------------------------------------------


def test_login_code_gives_openid_and_fresh_session_key(wechat: WeChatDriver) -> None:
    issued = wechat.login_code()
    openid = issued["openid"]
    assert openid.startswith("o") and len(openid) == 28 and set(openid) <= OPENID_CHARS

    answer = wechat.jscode2session(issued["code"])
    assert answer["openid"] == openid
    assert len(base64.b64decode(answer["session_key"], validate=True)) == 16
    assert "unionid" not in answer and "errcode" not in answer

    again = wechat.jscode2session(wechat.login_code(openid=openid)["code"])
    assert again["openid"] == openid
    assert again["session_key"] != answer["session_key"]
    assert wechat.login_code()["openid"] != openid


def test_unionid_is_returned_when_the_user_has_one(wechat: WeChatDriver) -> None:
    issued = wechat.login_code(unionid="oUnion-123")
    assert wechat.jscode2session(issued["code"])["unionid"] == "oUnion-123"
    # Later logins of the same openid keep the unionid without repeating it.
    later = wechat.login_code(openid=issued["openid"])
    assert wechat.jscode2session(later["code"])["unionid"] == "oUnion-123"


def test_code_is_single_use(wechat: WeChatDriver) -> None:
    code = wechat.login_code()["code"]
    assert "openid" in wechat.jscode2session(code)
    assert_error(wechat.jscode2session(code), 40163)


def test_unknown_and_expired_codes_are_invalid(wechat: WeChatDriver) -> None:
    assert_error(wechat.jscode2session("no-such-code"), 40029)
    fresh = wechat.login_code()["code"]
    stale = wechat.login_code()["code"]
    wechat.advance(299)
    assert "openid" in wechat.jscode2session(fresh)
    wechat.advance(2)
    assert_error(wechat.jscode2session(stale), 40029)


def test_app_credentials_and_parameters_are_checked(wechat: WeChatDriver) -> None:
    code = wechat.login_code()["code"]
    assert_error(wechat.jscode2session(code, appid="wx-other"), 40013)
    assert_error(wechat.jscode2session(code, secret="wrong"), 40125)
    assert_error(wechat.jscode2session(code, grant_type="client_credential"), 40002)
    assert_error(wechat.jscode2session(""), 41008)
    # None of the refused calls used the code up.
    assert "openid" in wechat.jscode2session(code)


@pytest.mark.parametrize("errcode", [40029, 45011, 40226, -1])
def test_code_can_be_programmed_to_fail(wechat: WeChatDriver, errcode: int) -> None:
    code = wechat.login_code(fail_with=errcode)["code"]
    assert_error(wechat.jscode2session(code), errcode)
    assert_error(wechat.jscode2session(code), errcode)


def test_a_high_risk_user_is_blocked_at_login(wechat: WeChatDriver) -> None:
    """code2Session 40226 "code blocked": every code of that user, until WeChat clears them."""
    openid = login(wechat)
    used = wechat.login_code(openid=openid)["code"]
    assert wechat.jscode2session(used)["openid"] == openid
    marked = wechat.control("high-risk", {"openid": openid})
    assert marked.status_code == 200 and marked.json() == {"openid": openid, "blocked": True}

    blocked = wechat.jscode2session(wechat.login_code(openid=openid)["code"])
    assert_error(blocked, 40226)
    assert blocked["errmsg"].startswith("code blocked")
    assert_error(wechat.jscode2session(used), 40163)  # a used code stays used
    assert "openid" in wechat.jscode2session(wechat.login_code()["code"])  # others log in
    stats = wechat.stats()
    assert stats["logins_blocked"] == 1 and stats["errors"]["jscode2session"] == 2

    cleared = wechat.control("high-risk", {"openid": openid, "blocked": False})
    assert cleared.status_code == 200
    assert wechat.jscode2session(wechat.login_code(openid=openid)["code"])["openid"] == openid


def test_high_risk_control_refuses_bad_requests(wechat: WeChatDriver) -> None:
    assert wechat.control("high-risk", {}).status_code == 400
    assert wechat.control("high-risk", {"openid": "has space"}).status_code == 400
    assert wechat.control("high-risk", {"openid": "o1", "blocked": "yes"}).status_code == 400


def test_programmed_failure_can_be_transient(wechat: WeChatDriver) -> None:
    """``fail_times``: a busy platform that recovers, so a retry with the same code succeeds."""
    issued = wechat.login_code(fail_with=-1, fail_times=1)
    assert_error(wechat.jscode2session(issued["code"]), -1)
    assert wechat.jscode2session(issued["code"])["openid"] == issued["openid"]
    assert_error(wechat.jscode2session(issued["code"]), 40163)


def test_login_control_refuses_bad_requests(wechat: WeChatDriver) -> None:
    assert wechat.control("login-code", {"fail_with": 40001}).status_code == 400
    assert wechat.control("login-code", {"fail_with": "-1"}).status_code == 400
    assert wechat.control("login-code", {"openid": "has space"}).status_code == 400
    response = wechat.http.post("/wechat/_control/login-code", content=b"{not json")
    assert response.status_code == 400 and response.json()["errcode"] == 47001


def test_more_than_100_logins_a_minute_for_one_openid_is_refused(wechat: WeChatDriver) -> None:
    openid = login(wechat)
    for _ in range(99):
        assert "openid" in wechat.jscode2session(wechat.login_code(openid=openid)["code"])
    refused = wechat.login_code(openid=openid)["code"]
    assert_error(wechat.jscode2session(refused), 45011)
    # Other users are not affected.
    assert "openid" in wechat.jscode2session(wechat.login_code()["code"])
    # A minute later the same (still valid, unused) code goes through.
    wechat.advance(61)
    assert wechat.jscode2session(refused)["openid"] == openid


# --- access tokens ---------------------------------------------------------------------------


def test_stable_token_is_the_same_while_valid(wechat: WeChatDriver) -> None:
    first = wechat.stable_token()
    assert set(first) == {"access_token", "expires_in"}
    assert 7100 < first["expires_in"] <= 7200
    wechat.advance(100)
    second = wechat.stable_token()
    assert second["access_token"] == first["access_token"]
    assert second["expires_in"] <= first["expires_in"] - 100
    stats = wechat.stats()
    assert stats["calls"]["stable_token"] == 2
    assert stats["tokens_issued"] == 1


def test_stable_token_is_renewed_in_its_last_five_minutes(wechat: WeChatDriver) -> None:
    old = wechat.stable_token()["access_token"]
    wechat.advance(7200 - 299)
    new = wechat.stable_token()["access_token"]
    assert new != old
    assert wechat.token_errcode(old) == 0  # still valid until its own end
    assert wechat.stable_token()["access_token"] == new
    wechat.advance(300)
    assert wechat.token_errcode(old) == 42001
    assert wechat.token_errcode(new) == 0


def test_expired_stable_token_is_replaced(wechat: WeChatDriver) -> None:
    old = wechat.stable_token()["access_token"]
    wechat.advance(7200)
    assert wechat.token_errcode(old) == 42001
    new = wechat.stable_token()
    assert new["access_token"] != old and new["expires_in"] == 7200


def test_force_refresh_issues_a_new_token_and_the_old_one_lasts_30_seconds(
    wechat: WeChatDriver,
) -> None:
    old = wechat.stable_token()["access_token"]
    wechat.advance(40)
    new = wechat.stable_token(force_refresh=True)["access_token"]
    assert new != old
    assert wechat.token_errcode(old) == 0
    assert wechat.token_errcode(new) == 0
    assert wechat.stable_token()["access_token"] == new
    wechat.advance(30)
    assert wechat.token_errcode(old) == 40001  # replaced: "invalid or not latest"
    assert wechat.token_errcode(new) == 0
    stats = wechat.stats()
    assert stats["force_refreshes"] == 1 and stats["force_refreshes_today"] == 1


def test_force_refresh_within_30_seconds_of_the_last_one_changes_nothing(
    wechat: WeChatDriver,
) -> None:
    token = wechat.stable_token(force_refresh=True)["access_token"]
    wechat.advance(10)
    assert wechat.stable_token(force_refresh=True)["access_token"] == token
    stats = wechat.stats()
    assert stats["force_refreshes"] == 1 and stats["force_refreshes_ignored"] == 1
    wechat.advance(21)
    assert wechat.stable_token(force_refresh=True)["access_token"] != token


def test_force_refresh_is_limited_to_20_a_day(wechat: WeChatDriver) -> None:
    # Start just after a Beijing midnight, so the 20 refreshes fall in one day.
    now = wechat.advance(0)
    wechat.advance(86400 - (now + 8 * 3600) % 86400 + 1)
    tokens = {wechat.stable_token(force_refresh=True)["access_token"]}
    for _ in range(19):
        wechat.advance(31)
        tokens.add(wechat.stable_token(force_refresh=True)["access_token"])
    assert len(tokens) == 20
    wechat.advance(31)
    assert_error(wechat.stable_token(force_refresh=True), 45009)
    # The normal mode still works, and the quota comes back the next day.
    assert wechat.stable_token()["access_token"] in tokens
    wechat.advance(86400)
    assert wechat.stable_token(force_refresh=True)["access_token"] not in tokens
    assert wechat.stats()["force_refreshes"] == 21


def test_stable_token_checks_its_body(wechat: WeChatDriver) -> None:
    assert_error(wechat.stable_token(secret="wrong"), 40125)
    assert_error(wechat.stable_token(appid="wx-other"), 40013)
    assert_error(wechat.stable_token(grant_type="authorization_code"), 40002)
    assert_error(wechat.stable_token(force_refresh="yes"), 47001)  # type: ignore[arg-type]
    response = wechat.http.post("/wechat/cgi-bin/stable_token", content=b"appid=x")
    assert response.status_code == 200
    assert_error(response.json(), 47001)
    assert wechat.stats()["errors"]["stable_token"] == 5


def test_token_endpoint_replaces_the_token_on_every_call(wechat: WeChatDriver) -> None:
    first = wechat.basic_token()
    assert first["expires_in"] == 7200
    second = wechat.basic_token()
    assert second["access_token"] != first["access_token"]
    # The previous token keeps working for five minutes, then is "not latest".
    wechat.advance(299)
    assert wechat.token_errcode(first["access_token"]) == 0
    wechat.advance(2)
    assert wechat.token_errcode(first["access_token"]) == 40001
    assert wechat.token_errcode(second["access_token"]) == 0
    assert wechat.stats()["calls"]["token"] == 2


def test_token_endpoint_and_stable_token_do_not_knock_each_other_out(
    wechat: WeChatDriver,
) -> None:
    stable = wechat.stable_token()["access_token"]
    basic = wechat.basic_token()["access_token"]
    wechat.basic_token()
    wechat.advance(301)
    assert wechat.token_errcode(stable) == 0
    assert wechat.token_errcode(basic) == 40001
    assert wechat.stable_token()["access_token"] == stable


def test_token_endpoint_checks_the_app(wechat: WeChatDriver) -> None:
    assert_error(wechat.basic_token(secret="wrong"), 40125)
    assert_error(wechat.basic_token(appid="wx-other"), 40013)
    assert_error(wechat.basic_token(grant_type="authorization_code"), 40002)
    assert_error(wechat.basic_token(appid=""), 41002)
    assert_error(wechat.basic_token(secret=""), 41004)


def test_app_credential_errors_are_checked_in_order(wechat: WeChatDriver) -> None:
    """appid first (41002 / 40013), then the secret (41004 / 40125), then grant_type."""
    assert_error(wechat.stable_token(appid="wx-other", secret="wrong"), 40013)
    assert_error(wechat.stable_token(secret="wrong", grant_type="x"), 40125)
    assert_error(wechat.stable_token(appid=None), 41002)
    assert_error(wechat.stable_token(secret=None), 41004)
    assert_error(wechat.stable_token(grant_type=None), 40002)


def set_quotas(wechat: WeChatDriver, **values: int) -> None:
    response = wechat.control("quotas", values)
    assert response.status_code == 200, response.text


def test_quotas_are_the_documented_ones(wechat: WeChatDriver) -> None:
    assert wechat.http.get("/wechat/_control/quotas").json() == {
        "token_per_day": 2000,
        "stable_token_per_minute": 10_000,
        "stable_token_per_day": 500_000,
    }
    assert wechat.control("quotas", {"nonsense": 1}).status_code == 400
    assert wechat.control("quotas", {"token_per_day": -1}).status_code == 400
    assert wechat.control("quotas", {"token_per_day": "5"}).status_code == 400
    set_quotas(wechat, token_per_day=3)
    assert wechat.control("reset").status_code == 200
    assert wechat.http.get("/wechat/_control/quotas").json()["token_per_day"] == 2000


def test_token_endpoint_has_a_daily_limit(wechat: WeChatDriver) -> None:
    now = wechat.advance(0)
    wechat.advance(86400 - (now + 8 * 3600) % 86400 + 1)  # just after a Beijing midnight
    set_quotas(wechat, token_per_day=3)
    tokens = [wechat.basic_token()["access_token"] for _ in range(3)]
    assert_error(wechat.basic_token(), 45009)
    assert wechat.token_errcode(tokens[-1]) == 0  # the refusal replaced nothing
    wechat.advance(86400)
    assert "access_token" in wechat.basic_token()


def test_stable_token_has_minute_and_daily_limits(wechat: WeChatDriver) -> None:
    now = wechat.advance(0)
    wechat.advance(86400 - (now + 8 * 3600) % 86400 + 1)  # a fresh minute and day
    set_quotas(wechat, stable_token_per_minute=3, stable_token_per_day=5)
    token = wechat.stable_token()["access_token"]
    assert wechat.stable_token()["access_token"] == token
    assert wechat.stable_token()["access_token"] == token
    assert_error(wechat.stable_token(), 45011)
    assert_error(wechat.stable_token(force_refresh=True), 45011)
    assert wechat.stats()["force_refreshes"] == 0
    wechat.advance(60)
    assert wechat.stable_token()["access_token"] == token
    assert wechat.stable_token()["access_token"] == token
    assert_error(wechat.stable_token(), 45009)  # 5 today
    assert wechat.token_errcode(token) == 0
    wechat.advance(86400)
    assert wechat.stable_token()["access_token"] != token  # the old one has expired meanwhile


@pytest.mark.parametrize("path", [PHONE, GET_VERIFY_ID, QUERY_VERIFY])
def test_protected_paths_check_the_access_token(wechat: WeChatDriver, path: str) -> None:
    assert_error(wechat.call(path, None, {}), 41001)
    assert_error(wechat.call(path, "not-a-token", {}), 40001)
    token = wechat.stable_token()["access_token"]
    # The token is a query parameter only: in the body it is not seen.
    assert_error(wechat.call(path, None, {"access_token": token}), 41001)
    expired = wechat.control("expire-token", {})
    assert expired.status_code == 200 and expired.json() == {"expired": 1}
    assert_error(wechat.call(path, token, {}), 42001)
    # The refresh-and-retry path: a normal stable_token call now gives a new, working token.
    fresh = wechat.stable_token()["access_token"]
    assert fresh != token
    assert wechat.call(path, fresh, {})["errcode"] == 47001  # past the token check


def test_expire_token_can_target_one_token(wechat: WeChatDriver) -> None:
    stable = wechat.stable_token()["access_token"]
    basic = wechat.basic_token()["access_token"]
    assert wechat.control("expire-token", {"access_token": basic}).json() == {"expired": 1}
    assert wechat.token_errcode(basic) == 42001
    assert wechat.token_errcode(stable) == 0
    assert wechat.control("expire-token", {"access_token": "unknown"}).status_code == 404


# --- phone number --------------------------------------------------------------------------


def test_phone_code_gives_the_number_once(wechat: WeChatDriver) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    code = wechat.phone_code("13800138000", openid=openid)
    answer = wechat.call(PHONE, token, {"code": code, "openid": openid})
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    info = answer["phone_info"]
    assert info["phoneNumber"] == "13800138000"
    assert info["purePhoneNumber"] == "13800138000"
    assert info["countryCode"] == "86"
    assert info["watermark"]["appid"] == APPID
    assert isinstance(info["watermark"]["timestamp"], int)
    assert_error(wechat.call(PHONE, token, {"code": code, "openid": openid}), 40163)


def test_phone_code_is_checked_against_the_openid_given(wechat: WeChatDriver) -> None:
    """getPhoneNumber's optional ``openid``: "填入后会校验openid和code的绑定关系"."""
    token = wechat.stable_token()["access_token"]
    owner = login(wechat)
    other = login(wechat)
    code = wechat.phone_code("13800138000", openid=owner)
    refused = wechat.call(PHONE, token, {"code": code, "openid": other})
    assert_error(refused, 40003)
    # The refusal did not use the code up: its owner still gets the number, once.
    answer = wechat.call(PHONE, token, {"code": code, "openid": owner})
    assert answer["phone_info"]["purePhoneNumber"] == "13800138000"
    # Without an openid the platform checks nothing (the field is optional).
    unchecked = wechat.phone_code("13900139000", openid=owner)
    assert wechat.call(PHONE, token, {"code": unchecked})["errcode"] == 0
    for bad in ("", 42, ["x"]):
        fresh = wechat.phone_code("13900139000", openid=owner)
        assert_error(wechat.call(PHONE, token, {"code": fresh, "openid": bad}), 47001)


def test_phone_code_unknown_expired_or_missing(wechat: WeChatDriver) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    assert_error(wechat.call(PHONE, token, {"code": "nope", "openid": openid}), 40029)
    code = wechat.phone_code("13800138000", openid=openid)
    fresh = wechat.phone_code("13800138000", openid=openid)
    wechat.advance(299)
    token = wechat.stable_token()["access_token"]
    assert wechat.call(PHONE, token, {"code": fresh, "openid": openid})["errcode"] == 0
    wechat.advance(2)
    assert_error(wechat.call(PHONE, token, {"code": code, "openid": openid}), 40029)
    assert_error(wechat.call(PHONE, token, {"openid": openid}), 47001)
    assert_error(wechat.call(PHONE, token, {"code": 12345}), 47001)
    response = wechat.http.post(
        "/wechat" + PHONE, params={"access_token": token}, content=b"code=abc"
    )
    assert_error(response.json(), 47001)


def test_foreign_phone_number_carries_its_country_code(wechat: WeChatDriver) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    code = wechat.phone_code("2025550123", openid=openid, country_code="1")
    info = wechat.call(PHONE, token, {"code": code, "openid": openid})["phone_info"]
    assert info["phoneNumber"] == "+12025550123"
    assert info["purePhoneNumber"] == "2025550123"
    assert info["countryCode"] == "1"


def test_phone_control_refuses_bad_requests(wechat: WeChatDriver) -> None:
    openid = login(wechat)
    bad_number = {"phone_number": "13x", "openid": openid}
    assert wechat.control("phone-code", bad_number).status_code == 400
    assert wechat.control("phone-code", {}).status_code == 400
    # A code belongs to a user: the control API needs one this app has seen.
    assert wechat.control("phone-code", {"phone_number": "13800138000"}).status_code == 400
    stranger = {"phone_number": "13800138000", "openid": "o" + "x" * 27}
    refused = wechat.control("phone-code", stranger)
    assert refused.status_code == 400 and refused.json()["errcode"] == 40003


# --- face verification ---------------------------------------------------------------------


def test_cert_hash_follows_the_documented_worked_example() -> None:
    """The peer's own formula against queryVerifyInfo's example (not against our adapter)."""
    cert = DOC_CERT_INFO
    assert cert_hash_of(cert["cert_type"], cert["cert_name"], cert["cert_no"]) == DOC_CERT_HASH
    assert hashlib.sha256(DOC_JOINED.encode()).hexdigest() == DOC_CERT_HASH


def cert_hash(name: str = NAME, cert_no: str = ID_NUMBER) -> str:
    return cert_hash_of("IDENTITY_CARD", name, cert_no)


def verify_id_body(openid: str, cert_no: str = ID_NUMBER, seq: str = "seq-1") -> dict[str, Any]:
    return {
        "out_seq_no": seq,
        "cert_info": {"cert_type": "IDENTITY_CARD", "cert_name": NAME, "cert_no": cert_no},
        "openid": openid,
    }


def start_face(
    wechat: WeChatDriver, token: str, openid: str, cert_no: str = ID_NUMBER, seq: str = "seq-1"
) -> str:
    answer = wechat.call(GET_VERIFY_ID, token, verify_id_body(openid, cert_no, seq))
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok", answer
    assert answer["expires_in"] == 3600
    assert 0 < len(answer["verify_id"]) <= 256
    return str(answer["verify_id"])


def query_face(
    wechat: WeChatDriver,
    token: str,
    verify_id: str,
    openid: str,
    seq: str = "seq-1",
    cert_no: str = ID_NUMBER,
    digest: str | None = None,
) -> dict[str, Any]:
    body = {
        "verify_id": verify_id,
        "out_seq_no": seq,
        "cert_hash": digest or cert_hash(cert_no=cert_no),
        "openid": openid,
    }
    return wechat.call(QUERY_VERIFY, token, body)


def test_face_verification_succeeds_once_the_phone_completes_it(wechat: WeChatDriver) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    verify_id = start_face(wechat, token, openid)

    pending = query_face(wechat, token, verify_id, openid)
    assert pending == {"errcode": 0, "errmsg": "ok", "verify_ret": 90004}

    done = wechat.control("face-complete", {"verify_id": verify_id})
    assert done.status_code == 200 and done.json()["verify_ret"] == 10000
    assert query_face(wechat, token, verify_id, openid)["verify_ret"] == 10000
    assert query_face(wechat, token, verify_id, openid)["verify_ret"] == 10000
    # The phone cannot finish the same session twice.
    assert wechat.control("face-complete", {"verify_id": verify_id}).status_code == 409
    # What the platform received can be inspected (never the ID number).
    held = wechat.http.get(f"/wechat/_control/face/{verify_id}").json()
    assert held["openid"] == openid and held["out_seq_no"] == "seq-1"
    assert held["verify_ret"] == 10000 and held["cert_hashes"] == [cert_hash()] * 3
    assert ID_NUMBER not in str(held) and NAME not in str(held)
    assert wechat.http.get("/wechat/_control/face/unknown").status_code == 404


def test_face_query_accepts_the_documented_cert_hash(wechat: WeChatDriver) -> None:
    """The worked example end to end: its cert_info to getverifyid, its cert_hash to the query."""
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    body = {"out_seq_no": "doc-example", "cert_info": DOC_CERT_INFO, "openid": openid}
    verify_id = wechat.call(GET_VERIFY_ID, token, body)["verify_id"]
    wechat.control("face-complete", {"verify_id": verify_id})
    query = {
        "verify_id": verify_id,
        "out_seq_no": "doc-example",
        "cert_hash": DOC_CERT_HASH,
        "openid": openid,
    }
    assert wechat.call(QUERY_VERIFY, token, query) == {
        "errcode": 0,
        "errmsg": "ok",
        "verify_ret": 10000,
    }


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


@pytest.mark.parametrize(
    "digest",
    [
        # what the adapter used to send: sha256 of the plain concatenation
        hashlib.sha256(f"IDENTITY_CARD{NAME}{ID_NUMBER}".encode()).hexdigest(),
        cert_hash().upper(),  # the documentation asks for lower-case hex
        cert_hash(name="李鸣"),  # another name
        cert_hash(cert_no="360402198503150020"),  # another ID number
        # the fields in another order
        hashlib.sha256(
            f"cert_name={_b64(NAME)}&cert_type={_b64('IDENTITY_CARD')}&cert_no={_b64(ID_NUMBER)}".encode()
        ).hexdigest(),
        # the raw values, not base64
        hashlib.sha256(
            f"cert_type=IDENTITY_CARD&cert_name={NAME}&cert_no={ID_NUMBER}".encode()
        ).hexdigest(),
        "h" * 64,
    ],
    ids=["old-formula", "upper-case", "other-name", "other-number", "order", "raw", "junk"],
)
def test_face_query_refuses_a_cert_hash_that_does_not_match(
    wechat: WeChatDriver, digest: str
) -> None:
    """WeChat compares cert_hash with getverifyid's cert_info: an errcode, never a verify_ret."""
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    verify_id = start_face(wechat, token, openid)
    wechat.control("face-complete", {"verify_id": verify_id})
    refused = query_face(wechat, token, verify_id, openid, digest=digest)
    assert_error(refused, 40097)
    assert "verify_ret" not in refused and "cert_hash" in refused["errmsg"]
    assert query_face(wechat, token, verify_id, openid)["verify_ret"] == 10000


@pytest.mark.parametrize("verify_ret", [10001, 10002, 10003, 10004])
def test_face_verification_answers_the_configured_outcome(
    wechat: WeChatDriver, verify_ret: int
) -> None:
    cert_no = "110108197811200035"
    configured = wechat.control("face-outcome", {"cert_no": cert_no, "verify_ret": verify_ret})
    assert configured.status_code == 200
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    verify_id = start_face(wechat, token, openid, cert_no=cert_no)
    wechat.control("face-complete", {"verify_id": verify_id})
    answer = query_face(wechat, token, verify_id, openid, cert_no=cert_no)
    assert answer["verify_ret"] == verify_ret
    # Other ID numbers keep the default outcome.
    other = start_face(wechat, token, openid, seq="seq-2")
    wechat.control("face-complete", {"verify_id": other})
    assert query_face(wechat, token, other, openid, seq="seq-2")["verify_ret"] == 10000


def test_phone_may_report_a_cancelled_verification(wechat: WeChatDriver) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    verify_id = start_face(wechat, token, openid)
    wechat.control("face-complete", {"verify_id": verify_id, "verify_ret": 90002})
    assert query_face(wechat, token, verify_id, openid)["verify_ret"] == 90002


def test_face_query_is_bound_to_its_user_and_sequence(wechat: WeChatDriver) -> None:
    token = wechat.stable_token()["access_token"]
    owner = login(wechat)
    intruder = login(wechat)
    verify_id = start_face(wechat, token, owner)
    wechat.control("face-complete", {"verify_id": verify_id})
    assert_error(query_face(wechat, token, verify_id, intruder), 40003)
    assert_error(query_face(wechat, token, verify_id, owner, seq="seq-other"), 40097)
    assert_error(query_face(wechat, token, "unknown-verify-id", owner), 40097)
    assert query_face(wechat, token, verify_id, owner)["verify_ret"] == 10000


@pytest.mark.parametrize("missing", ["verify_id", "out_seq_no", "cert_hash", "openid"])
def test_face_query_requires_every_field(wechat: WeChatDriver, missing: str) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    verify_id = start_face(wechat, token, openid)
    body = {
        "verify_id": verify_id,
        "out_seq_no": "seq-1",
        "cert_hash": cert_hash(),
        "openid": openid,
    }
    assert_error(wechat.call(QUERY_VERIFY, token, {**body, missing: None}), 47001)
    assert_error(wechat.call(QUERY_VERIFY, token, {**body, missing: ""}), 47001)
    assert wechat.call(QUERY_VERIFY, token, body)["errcode"] == 0


def test_verify_id_expires_after_an_hour(wechat: WeChatDriver) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    completed = start_face(wechat, token, openid, seq="seq-a")
    wechat.control("face-complete", {"verify_id": completed})
    pending = start_face(wechat, token, openid, seq="seq-b")
    wechat.advance(3599)
    token = wechat.stable_token()["access_token"]
    assert query_face(wechat, token, completed, openid, seq="seq-a")["verify_ret"] == 10000
    wechat.advance(1)
    assert_error(query_face(wechat, token, completed, openid, seq="seq-a"), 40097)
    assert wechat.control("face-complete", {"verify_id": pending}).status_code == 400


def test_getverifyid_checks_cert_type_and_openid(wechat: WeChatDriver) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    body = verify_id_body(openid, seq="seq-body")
    passport = {**body, "cert_info": {**body["cert_info"], "cert_type": "PASSPORT"}}
    assert_error(wechat.call(GET_VERIFY_ID, token, passport), 40097)
    assert_error(wechat.call(GET_VERIFY_ID, token, {**body, "openid": "o" + "x" * 27}), 40003)
    # None of the refusals used the out_seq_no up.
    assert wechat.call(GET_VERIFY_ID, token, body)["errcode"] == 0


@pytest.mark.parametrize(
    "drop",
    [
        "out_seq_no",
        "openid",
        "cert_info",
        "cert_info.cert_type",
        "cert_info.cert_name",
        "cert_info.cert_no",
    ],
)
def test_getverifyid_requires_every_field(wechat: WeChatDriver, drop: str) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    body = verify_id_body(openid, seq="seq-required")
    broken: dict[str, Any] = {**body, "cert_info": dict(body["cert_info"])}
    if drop.startswith("cert_info."):
        del broken["cert_info"][drop.split(".", 1)[1]]
    else:
        del broken[drop]
    assert_error(wechat.call(GET_VERIFY_ID, token, broken), 47001)
    assert_error(wechat.call(GET_VERIFY_ID, token, {**body, "cert_info": "x"}), 47001)
    response = wechat.http.post(
        "/wechat" + GET_VERIFY_ID, params={"access_token": token}, content=b"[1]"
    )
    assert_error(response.json(), 47001)
    assert wechat.call(GET_VERIFY_ID, token, body)["errcode"] == 0


@pytest.mark.parametrize(
    "seq",
    ["abcd", "a" * 33, "has space", "dot.ted", "slash/ed", "序列号12345", "plus+12345", "s"],
)
def test_getverifyid_refuses_an_out_seq_no_of_the_wrong_shape(
    wechat: WeChatDriver, seq: str
) -> None:
    """ "要求5-32个字符内，只能包含数字、大小写字母和_-字符"."""
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    refused = wechat.call(GET_VERIFY_ID, token, verify_id_body(openid, seq=seq))
    assert_error(refused, 40097)
    assert "out_seq_no" in refused["errmsg"]


@pytest.mark.parametrize("seq", ["abcde", "A" * 32, "a_b-C9", "0" * 5, "f" * 32])
def test_getverifyid_takes_an_out_seq_no_of_the_documented_shape(
    wechat: WeChatDriver, seq: str
) -> None:
    token = wechat.stable_token()["access_token"]
    openid = login(wechat)
    assert wechat.call(GET_VERIFY_ID, token, verify_id_body(openid, seq=seq))["errcode"] == 0


def test_out_seq_no_is_unique_per_appid(wechat: WeChatDriver) -> None:
    """ "且在同一个appid下唯一": for any user, and even after the first session expired."""
    token = wechat.stable_token()["access_token"]
    first_user = login(wechat)
    second_user = login(wechat)
    start_face(wechat, token, first_user, seq="seq-once")
    again = wechat.call(GET_VERIFY_ID, token, verify_id_body(first_user, seq="seq-once"))
    assert_error(again, 40097)
    assert "out_seq_no" in again["errmsg"]
    other = wechat.call(GET_VERIFY_ID, token, verify_id_body(second_user, seq="seq-once"))
    assert_error(other, 40097)
    wechat.advance(3601)
    token = wechat.stable_token()["access_token"]
    later = wechat.call(GET_VERIFY_ID, token, verify_id_body(first_user, seq="seq-once"))
    assert_error(later, 40097)
    start_face(wechat, token, first_user, seq="seq-twice")


def test_face_controls_refuse_bad_requests(wechat: WeChatDriver) -> None:
    unknown_ret = {"cert_no": ID_NUMBER, "verify_ret": 5}
    assert wechat.control("face-outcome", unknown_ret).status_code == 400
    assert wechat.control("face-outcome", {"cert_no": ID_NUMBER}).status_code == 400
    assert wechat.control("face-complete", {"verify_id": "nope"}).status_code == 404


# --- stats -----------------------------------------------------------------------------------


def test_stats_count_calls_and_errors_per_api(wechat: WeChatDriver) -> None:
    openid = login(wechat)
    wechat.jscode2session("bad")
    token = wechat.stable_token()["access_token"]
    wechat.stable_token()
    wechat.basic_token()
    verify_id = start_face(wechat, token, openid)
    query_face(wechat, token, verify_id, openid)
    wechat.call(PHONE, token, {"code": wechat.phone_code("13800138000", openid=openid)})
    stats = wechat.stats()
    assert stats["calls"] == {
        "jscode2session": 2,
        "token": 1,
        "stable_token": 2,
        "getuserphonenumber": 1,
        "getverifyid": 1,
        "queryverifyinfo": 1,
    }
    assert stats["errors"]["jscode2session"] == 1
    assert sum(stats["errors"].values()) == 1
    assert stats["logins"] == 1 and stats["tokens_issued"] == 2
    assert stats["logins_blocked"] == 0


def test_reset_forgets_everything(wechat: WeChatDriver) -> None:
    issued = wechat.login_code()
    token = wechat.stable_token()["access_token"]
    start_face(wechat, token, issued["openid"], seq="seq-reset")
    wechat.control("high-risk", {"openid": issued["openid"]})
    assert wechat.control("reset").status_code == 200
    assert_error(wechat.jscode2session(issued["code"]), 40029)
    assert wechat.token_errcode(token) == 40001
    assert wechat.stats()["calls"]["stable_token"] == 0
    # Users, their risk rating and the used out_seq_nos are forgotten too.
    openid = login(wechat, openid=issued["openid"])
    start_face(wechat, wechat.stable_token()["access_token"], openid, seq="seq-reset")


def test_clock_only_moves_forward(wechat: WeChatDriver) -> None:
    assert wechat.control("advance-clock", {"seconds": -1}).status_code == 400
    assert wechat.control("advance-clock", {"seconds": "60"}).status_code == 400
    before = wechat.advance(0)
    assert wechat.advance(60) >= before + 60
