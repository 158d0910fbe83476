"""Identity over HTTP: WeChat login, profile masks, phone binding, real name L1 and L2, tokens,
rate limits and ``Idempotency-Key`` on the real-name write.

Everything goes through our API (``client``) on the profile's database and Redis, with the
sandbox peers as their own process standing in for WeChat and the paid real-name provider. Every
refusal is checked as the one error envelope: status, stable code, Chinese message.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sanic import Sanic

from auth.common import ID_CONTEXT, PHONE_CONTEXT, SESSION_KEY_CONTEXT
from auth.models import FaceVerification, RefreshToken, User
from auth.tokens import TokenService
from core.clock import local_today, utcnow
from core.keys import parse_jwt_keys
from core.settings import Settings
from tests.people import ID_CHECK_CHARS, Phone, id_number

LOGIN = "/api/v1/auth/wechat/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"
PHONE = "/api/v1/me/phone"
REALNAME = "/api/v1/me/realname"
FACE = "/api/v1/me/face"
FACE_RESULT = "/api/v1/me/face/result"
MOBILE = "13812345678"


# --- helpers ----------------------------------------------------------------------------------


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error["message"]
    assert isinstance(error["details"], dict)
    return error


def fresh_id(**overrides: Any) -> str:
    """A valid ID number no other test of the session is likely to have configured."""
    born = overrides.pop("born", date(1950, 1, 1) + timedelta(days=secrets.randbelow(18000)))
    return id_number(born=born, seq=secrets.randbelow(1000), **overrides)


def with_check_char(body17: str) -> str:
    from tests.people import ID_WEIGHTS

    total = sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True))
    return body17 + ID_CHECK_CHARS[total % 11]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def masked_id(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


async def realname_stats(sandbox: httpx.AsyncClient) -> dict[str, int]:
    response = await sandbox.get("/realname/_control/stats")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def wechat_stats(sandbox: httpx.AsyncClient) -> dict[str, Any]:
    response = await sandbox.get("/wechat/_control/stats")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def set_outcome(sandbox: httpx.AsyncClient, number: str, outcome: str) -> None:
    response = await sandbox.post(
        "/realname/_control/outcome", json={"id_number": number, "outcome": outcome}
    )
    assert response.status_code == 200, response.text


async def phone_code(sandbox: httpx.AsyncClient, person: Phone, number: str = MOBILE) -> str:
    """``person`` taps "allow" on the getPhoneNumber button: a code WeChat binds to them."""
    response = await sandbox.post(
        "/wechat/_control/phone-code", json={"phone_number": number, "openid": person.openid}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


async def logged_in(phone: Callable[[], Phone]) -> Phone:
    person = phone()
    await person.login()
    return person


async def level_of(person: Phone) -> int:
    response = await person.call("GET", ME)
    assert response.status_code == 200, response.text
    return int(response.json()["realname_level"])


@pytest.fixture(autouse=True)
async def reset_peers(sandbox: httpx.AsyncClient) -> None:
    """Counts and configured outcomes start from nothing (the peers live for the session)."""
    assert (await sandbox.post("/realname/_control/reset")).status_code == 200
    assert (await sandbox.post("/wechat/_control/reset")).status_code == 200


# --- login ------------------------------------------------------------------------------------


async def test_first_login_creates_the_user(phone: Callable[[], Phone]) -> None:
    person = phone()
    answer = await person.login()
    assert answer["token_type"] == "Bearer"
    assert answer["access_token"] and answer["refresh_token"]
    assert answer["expires_in"] > 0 and answer["refresh_expires_in"] > answer["expires_in"]
    user = answer["user"]
    assert user["realname_level"] == 0
    assert user["id_number"] is None and user["phone"] is None
    rows = await User.filter(openid=person.openid)
    assert len(rows) == 1 and rows[0].id == user["id"]
    assert rows[0].unionid is None


async def test_same_openid_logs_into_the_same_user(phone: Callable[[], Phone]) -> None:
    person = phone()
    first = await person.login()
    second = await person.login()
    assert first["user"]["id"] == second["user"]["id"]
    assert first["access_token"] != second["access_token"]
    assert await User.all().count() == 1
    assert await RefreshToken.all().count() == 2  # two sessions of one user


async def test_unionid_is_kept_when_wechat_sends_one(
    client: httpx.AsyncClient, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    # Created with a unionid.
    person = phone()
    code = await person.wx_login_code(unionid="union-of-first-person")
    response = await client.post(LOGIN, json={"code": code})
    assert response.status_code == 200, response.text
    assert (await User.get(openid=person.openid)).unionid == "union-of-first-person"
    assert "unionid" not in response.text  # not part of what the phone sees

    # Created without one, then WeChat starts sending it (the app joined an open platform).
    other = phone()
    await other.login()
    assert (await User.get(openid=other.openid)).unionid is None
    code = await other.wx_login_code(unionid="union-of-second-person")
    assert (await client.post(LOGIN, json={"code": code})).status_code == 200
    assert (await User.get(openid=other.openid)).unionid == "union-of-second-person"
    assert await User.all().count() == 2


async def test_reused_login_code_is_refused_and_creates_nothing(
    client: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = phone()
    code = await person.wx_login_code()
    assert (await client.post(LOGIN, json={"code": code})).status_code == 200
    again = await client.post(LOGIN, json={"code": code})
    error = assert_envelope(again, 400, "auth.login_code_invalid")
    assert error["details"] == {"errcode": 40163}
    assert await User.all().count() == 1
    assert await RefreshToken.all().count() == 1  # no second session was issued


async def test_unknown_login_code_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGIN, json={"code": "no-such-code-" + secrets.token_hex(8)})
    error = assert_envelope(response, 400, "auth.login_code_invalid")
    assert error["details"] == {"errcode": 40029}
    assert await User.all().count() == 0
    assert await RefreshToken.all().count() == 0


async def test_wechat_minute_quota_is_429_with_retry_after(
    client: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    code = await phone().wx_login_code(fail_with=45011)
    response = await client.post(LOGIN, json={"code": code})
    error = assert_envelope(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "60"
    assert error["details"]["retry_after_s"] == 60
    # When to come back, in local time to the minute, rounded up: a phone shows it as it is.
    retry_at = datetime.fromisoformat(error["details"]["retry_at"])
    assert retry_at.utcoffset() == timedelta(hours=8) and retry_at.second == 0
    assert timedelta(seconds=59) <= retry_at - datetime.now(UTC) <= timedelta(seconds=121)
    assert await User.all().count() == 0


async def test_wechat_high_risk_user_is_told_so_not_asked_to_retry(
    client: httpx.AsyncClient, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    """code2Session 40226: WeChat's risk control blocks the user; a retry cannot help."""
    person = phone()
    await person.login()
    marked = await sandbox.post("/wechat/_control/high-risk", json={"openid": person.openid})
    assert marked.status_code == 200, marked.text
    response = await client.post(LOGIN, json={"code": await person.wx_login_code()})
    error = assert_envelope(response, 403, "auth.wechat_user_blocked")
    assert error["details"] == {"errcode": 40226}
    assert "微信" in error["message"] and "风险" in error["message"]
    assert "稍后再试" not in error["message"] and "繁忙" not in error["message"]
    assert "retry-after" not in response.headers
    assert await RefreshToken.all().count() == 1  # only the session from before the block

    # A single code WeChat blocks is answered the same way, and creates no user.
    code = await phone().wx_login_code(fail_with=40226)
    again = await client.post(LOGIN, json={"code": code})
    assert assert_envelope(again, 403, "auth.wechat_user_blocked")["details"] == {"errcode": 40226}
    assert await User.all().count() == 1

    # Once WeChat clears the user, they log in again.
    cleared = await sandbox.post(
        "/wechat/_control/high-risk", json={"openid": person.openid, "blocked": False}
    )
    assert cleared.status_code == 200, cleared.text
    await person.login()


async def test_wechat_busy_is_503(client: httpx.AsyncClient, phone: Callable[[], Phone]) -> None:
    code = await phone().wx_login_code(fail_with=-1)
    response = await client.post(LOGIN, json={"code": code})
    assert_envelope(response, 503, "wechat.unavailable")
    assert await User.all().count() == 0


async def test_session_key_never_leaves_the_server_and_is_stored_encrypted(
    clean: Sanic, client: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = phone()
    code = await person.wx_login_code()
    response = await client.post(LOGIN, json={"code": code})
    assert response.status_code == 200, response.text
    assert "session_key" not in response.text

    row = await User.get(openid=person.openid)
    cipher = clean.ctx.auth.cipher
    assert row.session_key_enc.startswith(f"v{cipher.current_version}:")
    session_key = cipher.decrypt(row.session_key_enc, context=SESSION_KEY_CONTEXT)
    assert len(base64.b64decode(session_key)) == 16  # what WeChat handed out: 16 random bytes
    assert session_key not in row.session_key_enc
    assert session_key not in response.text
    person.tokens = response.json()
    me = await person.call("GET", ME)
    assert "session_key" not in me.text and session_key not in me.text

    # A new login stores the new key, encrypted again.
    await person.login()
    renewed = await User.get(openid=person.openid)
    assert renewed.session_key_enc != row.session_key_enc
    assert cipher.decrypt(renewed.session_key_enc, context=SESSION_KEY_CONTEXT) != session_key


# --- profile and phone ------------------------------------------------------------------------


async def test_me_masks_the_id_number_and_the_phone(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    number = fresh_id(region="360426")
    await person.verify_l1(number=number)
    bound = await person.call("POST", PHONE, json={"code": await phone_code(sandbox, person)})
    assert bound.status_code == 200, bound.text

    response = await person.call("GET", ME)
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["id_number"] == masked_id(number)
    assert me["id_number"].startswith("3604**********") and len(me["id_number"]) == 18
    assert me["phone"] == "138****5678"
    assert number not in response.text and MOBILE not in response.text


async def test_phone_binding_keeps_only_ciphertext_and_hash(
    clean: Sanic, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    response = await person.call("POST", PHONE, json={"code": await phone_code(sandbox, person)})
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == "138****5678"
    assert MOBILE not in response.text

    cipher = clean.ctx.auth.cipher
    row = await User.get(openid=person.openid)
    assert row.phone_enc is not None and row.phone_enc.startswith("v1:")
    assert cipher.decrypt(row.phone_enc, context=PHONE_CONTEXT) == MOBILE
    assert row.phone_hash == cipher.lookup_hash(MOBILE, context=PHONE_CONTEXT)
    stored = await User.filter(id=row.id).values()
    assert not [k for k, v in stored[0].items() if isinstance(v, str) and MOBILE in v]


async def test_phone_code_is_single_use(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    code = await phone_code(sandbox, person)
    assert (await person.call("POST", PHONE, json={"code": code})).status_code == 200
    again = await person.call("POST", PHONE, json={"code": code})
    assert_envelope(again, 400, "auth.phone_code_invalid")


async def test_phone_code_of_another_user_is_refused(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    """We send the user's openid with the code, so WeChat refuses a code issued to someone else
    (a code copied from another person's phone cannot bind their number to this account)."""
    owner = await logged_in(phone)
    thief = await logged_in(phone)
    code = await phone_code(sandbox, owner)
    stolen = await thief.call("POST", PHONE, json={"code": code})
    error = assert_envelope(stolen, 400, "auth.phone_code_invalid")
    assert error["details"] == {"errcode": 40003}
    assert (await User.get(openid=thief.openid)).phone_hash is None
    # The refusal did not use the code up: its owner binds the number with it.
    bound = await owner.call("POST", PHONE, json={"code": code})
    assert bound.status_code == 200, bound.text
    assert bound.json()["phone"] == "138****5678"


# --- real name L1 -----------------------------------------------------------------------------


async def test_realname_l1_success_derives_age_and_sex(
    clean: Sanic, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    born = date(1990, 5, 17)
    number = fresh_id(born=born)
    me = await person.verify_l1(name="张伟", number=number)

    today = local_today(utcnow())
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assert me["realname_level"] == 1
    assert me["real_name"] == "张伟"
    assert me["id_number"] == masked_id(number)
    assert me["age"] == age
    assert me["sex"] == ("M" if int(number[16]) % 2 else "F")
    assert me["region_code"] == "360426"
    assert (await realname_stats(sandbox))["calls"] == 1

    cipher = clean.ctx.auth.cipher
    row = await User.get(openid=person.openid)
    assert row.id_number_enc is not None and row.id_number_enc.startswith("v1:")
    assert cipher.decrypt(row.id_number_enc, context=ID_CONTEXT) == number
    assert row.id_number_hash == cipher.lookup_hash(number, context=ID_CONTEXT)
    stored = (await User.filter(id=row.id).values())[0]
    assert not [k for k, v in stored.items() if isinstance(v, str) and number in v]


def _wrong_check_char() -> str:
    number = fresh_id()
    return number[:17] + next(c for c in ID_CHECK_CHARS if c != number[17])


@pytest.mark.parametrize(
    ("make_number", "field_code"),
    [
        (_wrong_check_char, "check_digit"),
        (lambda: with_check_char("36042620991340" + "001"), "birth_date"),
        (lambda: id_number(region="990101", seq=secrets.randbelow(1000)), "region"),
    ],
    ids=["check_digit", "birth_date", "region"],
)
async def test_malformed_id_number_is_refused_before_the_paid_call(
    sandbox: httpx.AsyncClient,
    phone: Callable[[], Phone],
    make_number: Callable[[], str],
    field_code: str,
) -> None:
    person = await logged_in(phone)
    response = await person.call(
        "POST", REALNAME, json={"name": "张伟", "id_number": make_number()}
    )
    error = assert_envelope(response, 400, "request.validation_failed")
    [field] = error["details"]["fields"]
    assert field["field"] == "id_number" and field["code"] == field_code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in field["message"])
    assert (await realname_stats(sandbox))["calls"] == 0
    assert await level_of(person) == 0


async def test_name_mismatch_leaves_level_0(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    number = fresh_id()
    await set_outcome(sandbox, number, "mismatch")
    response = await person.call("POST", REALNAME, json={"name": "王芳", "id_number": number})
    assert_envelope(response, 400, "auth.realname_mismatch")
    me = (await person.call("GET", ME)).json()
    assert me["realname_level"] == 0 and me["id_number"] is None and me["real_name"] is None
    row = await User.get(openid=person.openid)
    assert row.id_number_hash is None and row.id_number_enc is None
    assert (await realname_stats(sandbox))["mismatch"] == 1


async def test_provider_unavailable_is_503(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    number = fresh_id()
    await set_outcome(sandbox, number, "unavailable")
    response = await person.call("POST", REALNAME, json={"name": "王芳", "id_number": number})
    assert_envelope(response, 503, "auth.provider_unavailable")
    assert await level_of(person) == 0


async def test_provider_unavailable_does_not_use_up_an_attempt(
    settings: Settings, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    number = fresh_id()
    await set_outcome(sandbox, number, "unavailable")
    for _ in range(settings.realname_daily_limit):
        response = await person.call("POST", REALNAME, json={"name": "王芳", "id_number": number})
        assert_envelope(response, 503, "auth.provider_unavailable")
    await set_outcome(sandbox, number, "match")
    response = await person.call("POST", REALNAME, json={"name": "王芳", "id_number": number})
    assert response.status_code == 200, response.text


async def test_id_number_of_another_account_is_409_without_a_paid_call(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    first = await logged_in(phone)
    number = fresh_id()
    await first.verify_l1(name="李娜", number=number)
    assert (await realname_stats(sandbox))["calls"] == 1

    second = await logged_in(phone)
    response = await second.call("POST", REALNAME, json={"name": "李娜", "id_number": number})
    assert_envelope(response, 409, "auth.id_number_taken")
    # Typed with a Chinese input method (full-width digits): still the same number.
    response = await second.call(
        "POST", REALNAME, json={"name": "李娜", "id_number": full_width(number)}
    )
    assert_envelope(response, 409, "auth.id_number_taken")
    stats = await realname_stats(sandbox)
    assert stats["calls"] == 1 and stats["billed"] == 1  # nothing paid for the second account
    assert await level_of(second) == 0
    assert await level_of(first) == 1


async def test_daily_attempt_limit_counts_only_provider_calls(
    settings: Settings, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    limit = settings.realname_daily_limit
    person = await logged_in(phone)
    number = fresh_id()
    # Format errors cost nothing and do not count.
    for _ in range(limit + 1):
        response = await person.call(
            "POST", REALNAME, json={"name": "陈静", "id_number": _wrong_check_char()}
        )
        assert_envelope(response, 400, "request.validation_failed")
    await set_outcome(sandbox, number, "mismatch")
    for _ in range(limit):
        response = await person.call("POST", REALNAME, json={"name": "陈静", "id_number": number})
        assert_envelope(response, 400, "auth.realname_mismatch")
    await set_outcome(sandbox, number, "match")
    response = await person.call("POST", REALNAME, json={"name": "陈静", "id_number": number})
    error = assert_envelope(response, 429, "rate_limited")
    retry_after = int(response.headers["retry-after"])
    # the daily limit ends at midnight in China, and the phone is told exactly when
    beijing = datetime.now(UTC) + timedelta(hours=8)
    to_midnight = (24 * 3600) - (beijing.hour * 3600 + beijing.minute * 60 + beijing.second)
    assert 1 <= retry_after <= to_midnight
    assert error["details"]["retry_after_s"] == retry_after
    assert (await realname_stats(sandbox))["calls"] == limit
    assert await level_of(person) == 0


async def test_retried_request_after_success_is_answered_again(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    number = fresh_id()
    first = await person.call("POST", REALNAME, json={"name": "刘洋", "id_number": number})
    assert first.status_code == 200, first.text
    again = await person.call("POST", REALNAME, json={"name": "刘洋", "id_number": number})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert (await realname_stats(sandbox))["calls"] == 1


# --- real name L2 (face) ----------------------------------------------------------------------


async def test_face_requires_level_1(phone: Callable[[], Phone]) -> None:
    person = await logged_in(phone)
    response = await person.call("POST", FACE)
    error = assert_envelope(response, 403, "auth.realname_level_too_low")
    assert error["details"] == {"required": 1, "current": 0}


async def _start_face(person: Phone) -> str:
    response = await person.call("POST", FACE)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 3600
    return str(response.json()["verify_id"])


async def test_face_not_completed_on_the_phone_stays_open(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    """Asking too early is not a failure: the same attempt passes once the phone is done."""
    person = await logged_in(phone)
    await person.verify_l1(number=fresh_id())
    verify_id = await _start_face(person)
    response = await person.call("POST", FACE_RESULT, json={"verify_id": verify_id})
    assert_envelope(response, 400, "auth.face_incomplete")
    assert await level_of(person) == 1
    done = await sandbox.post("/wechat/_control/face-complete", json={"verify_id": verify_id})
    assert done.status_code == 200, done.text
    response = await person.call("POST", FACE_RESULT, json={"verify_id": verify_id})
    assert response.status_code == 200, response.text
    assert await level_of(person) == 2


async def test_face_mismatch_outcome_fails(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    number = fresh_id()
    await person.verify_l1(number=number)
    configured = await sandbox.post(
        "/wechat/_control/face-outcome", json={"cert_no": number, "verify_ret": 10003}
    )
    assert configured.status_code == 200, configured.text
    verify_id = await _start_face(person)
    done = await sandbox.post("/wechat/_control/face-complete", json={"verify_id": verify_id})
    assert done.json()["verify_ret"] == 10003
    response = await person.call("POST", FACE_RESULT, json={"verify_id": verify_id})
    error = assert_envelope(response, 400, "auth.face_failed")
    assert error["details"] == {"verify_ret": 10003}
    assert await level_of(person) == 1
    attempt = await FaceVerification.get(verify_id=verify_id)
    assert attempt.status == "failed" and attempt.verify_ret == 10003


async def test_face_completed_reaches_level_2(phone: Callable[[], Phone]) -> None:
    person = await logged_in(phone)
    await person.verify_l1(number=fresh_id())
    me = await person.verify_l2()
    assert me["realname_level"] == 2
    assert await level_of(person) == 2
    row = await User.get(openid=person.openid)
    assert row.l2_verified_at is not None


async def test_face_query_carries_the_documented_cert_hash_and_out_seq_no(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    """The sandbox recomputes cert_hash from what getverifyid received and refuses a mismatch
    with an errcode, as WeChat does: reaching level 2 proves our hash is the documented one."""
    person = await logged_in(phone)
    await person.verify_l1(name="张三", number=fresh_id())
    verify_id = await _start_face(person)
    attempt = await FaceVerification.get(verify_id=verify_id)
    assert re.fullmatch(r"[0-9A-Za-z_-]{5,32}", attempt.out_seq_no)
    done = await sandbox.post("/wechat/_control/face-complete", json={"verify_id": verify_id})
    assert done.status_code == 200, done.text
    response = await person.call("POST", FACE_RESULT, json={"verify_id": verify_id})
    assert response.status_code == 200, response.text
    assert response.json()["realname_level"] == 2
    held = (await sandbox.get(f"/wechat/_control/face/{verify_id}")).json()
    assert held["out_seq_no"] == attempt.out_seq_no and held["openid"] == person.openid
    [sent] = held["cert_hashes"]
    assert re.fullmatch(r"[0-9a-f]{64}", sent)


async def test_face_attempts_use_a_new_out_seq_no_each_time(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    await person.verify_l1(number=fresh_id())
    first = await _start_face(person)
    second = await _start_face(person)
    rows = await FaceVerification.filter(verify_id__in=[first, second])
    assert len({row.out_seq_no for row in rows}) == 2
    # The platform took both (it refuses an out_seq_no used before under the same appid).
    for verify_id in (first, second):
        held = (await sandbox.get(f"/wechat/_control/face/{verify_id}")).json()
        assert held["out_seq_no"] in {row.out_seq_no for row in rows}


async def test_face_result_after_the_verify_id_expired_asks_for_a_new_attempt(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    """Past its 3600 s WeChat refuses the query with an errcode: the person is told to start
    again (400), not that WeChat is busy (503)."""
    person = await logged_in(phone)
    await person.verify_l1(number=fresh_id())
    verify_id = await _start_face(person)
    moved = await sandbox.post("/wechat/_control/advance-clock", json={"seconds": 3601})
    assert moved.status_code == 200, moved.text
    await FaceVerification.filter(verify_id=verify_id).update(
        created_at=datetime.now(UTC) - timedelta(seconds=3601)
    )
    response = await person.call("POST", FACE_RESULT, json={"verify_id": verify_id})
    assert_envelope(response, 400, "auth.face_expired")
    assert await level_of(person) == 1
    # A new attempt works.
    assert (await person.verify_l2())["realname_level"] == 2


async def test_the_client_cannot_claim_a_face_result(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    owner = await logged_in(phone)
    await owner.verify_l1(number=fresh_id())
    other = await logged_in(phone)
    await other.verify_l1(number=fresh_id())

    unknown = await other.call("POST", FACE_RESULT, json={"verify_id": secrets.token_hex(24)})
    assert_envelope(unknown, 404, "auth.face_not_found")

    verify_id = await _start_face(owner)
    done = await sandbox.post("/wechat/_control/face-complete", json={"verify_id": verify_id})
    assert done.status_code == 200, done.text
    stolen = await other.call("POST", FACE_RESULT, json={"verify_id": verify_id})
    assert_envelope(stolen, 404, "auth.face_not_found")
    assert await level_of(other) == 1
    assert await level_of(owner) == 1

    finished = await owner.call("POST", FACE_RESULT, json={"verify_id": verify_id})
    assert finished.status_code == 200, finished.text
    assert await level_of(owner) == 2
    assert await level_of(other) == 1


# --- tokens -----------------------------------------------------------------------------------


async def test_refresh_rotates_and_a_reused_refresh_token_kills_the_session(
    client: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    old = person.tokens
    rotated = await client.post(REFRESH, json={"refresh_token": old["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["refresh_token"] != old["refresh_token"]
    assert new["access_token"] != old["access_token"]
    new_auth = {"authorization": f"Bearer {new['access_token']}"}
    assert (await client.get(ME, headers=new_auth)).status_code == 200

    # The phone lost that answer and asks again: the same pair, not a second rotation.
    again = await client.post(REFRESH, json={"refresh_token": old["refresh_token"]})
    assert again.status_code == 200 and again.json() == new
    # The new pair is rotated in turn; now the old token coming back is a copy.
    newer = await client.post(REFRESH, json={"refresh_token": new["refresh_token"]})
    assert newer.status_code == 200, newer.text
    newer_auth = {"authorization": f"Bearer {newer.json()['access_token']}"}
    reused = await client.post(REFRESH, json={"refresh_token": old["refresh_token"]})
    assert_envelope(reused, 401, "auth.refresh_reused")
    # The family is revoked: the pairs handed out by the rotations are dead too.
    dead_refresh = await client.post(REFRESH, json={"refresh_token": newer.json()["refresh_token"]})
    assert_envelope(dead_refresh, 401, "auth.token_revoked")
    assert_envelope(await client.get(ME, headers=newer_auth), 401, "auth.token_revoked")


async def test_logout_revokes_the_access_and_refresh_token(
    client: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    assert (await person.call("GET", ME)).status_code == 200
    out = await person.call("POST", LOGOUT)
    assert out.status_code == 204, out.text
    assert_envelope(await person.call("GET", ME), 401, "auth.token_revoked")
    refreshed = await client.post(REFRESH, json={"refresh_token": person.tokens["refresh_token"]})
    assert_envelope(refreshed, 401, "auth.token_revoked")
    # Logging in again opens a new session.
    await person.login()
    assert (await person.call("GET", ME)).status_code == 200


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Basic dXNlcjpwYXNz", "token-alone"])
async def test_missing_bearer_token_is_token_missing(
    client: httpx.AsyncClient, header: str | None
) -> None:
    headers = {} if header is None else {"authorization": header}
    assert_envelope(await client.get(ME, headers=headers), 401, "auth.token_missing")


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(part: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def _tampered(kind: str, token: str) -> str:
    header, payload, signature = token.split(".")
    if kind == "garbage":
        return "not-a-jwt"
    if kind == "signature":
        flipped = "A" if signature[0] != "A" else "B"
        return f"{header}.{payload}.{flipped}{signature[1:]}"
    if kind == "payload":
        claims = _unb64(payload)
        claims["sub"] = "u:" + str(int(claims["sub"][2:]) + 1)
        return f"{header}.{_b64(claims)}.{signature}"
    if kind == "alg_none":
        claims = _unb64(payload)
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    if kind == "truncated":
        return f"{header}.{payload}"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["garbage", "signature", "payload", "alg_none", "truncated"])
async def test_malformed_or_tampered_token_is_token_invalid(
    client: httpx.AsyncClient, phone: Callable[[], Phone], kind: str
) -> None:
    person = await logged_in(phone)
    await logged_in(phone)  # the user a forged ``sub`` would point at exists
    token = _tampered(kind, person.tokens["access_token"])
    response = await client.get(ME, headers={"authorization": f"Bearer {token}"})
    assert_envelope(response, 401, "auth.token_invalid")


async def test_citizen_token_is_refused_by_staff_routes(phone: Callable[[], Phone]) -> None:
    person = await logged_in(phone)
    assert_envelope(await person.call("GET", "/api/v1/staff/me"), 401, "auth.token_invalid")


async def test_expired_access_token_is_token_expired(
    clean: Sanic, client: httpx.AsyncClient, settings: Settings, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    user_id = person.tokens["user"]["id"]
    # The same keys, a clock one lifetime (and a minute) in the past: the token has just expired.
    past = TokenService(
        keys=parse_jwt_keys(settings.jwt_keys),
        current_kid=settings.jwt_current_kid,
        redis=clean.ctx.redis,
        ttl={
            "citizen": (settings.access_ttl_s, settings.refresh_ttl_s),
            "staff": (settings.staff_access_ttl_s, settings.staff_refresh_ttl_s),
        },
        revocation_check_s=0.0,
        clock=lambda: time.time() - settings.access_ttl_s - 60,
    )
    pair = await past.issue(subject=f"u:{user_id}", audience="citizen")
    response = await client.get(ME, headers={"authorization": f"Bearer {pair.access_token}"})
    assert_envelope(response, 401, "auth.token_expired")
    # Same keys and clock now: a fresh token of that user works (the refusal was the expiry).
    fresh = await clean.ctx.auth.tokens.issue(subject=f"u:{user_id}", audience="citizen")
    ok = await client.get(ME, headers={"authorization": f"Bearer {fresh.access_token}"})
    assert ok.status_code == 200, ok.text


# --- rate limits ------------------------------------------------------------------------------


async def test_login_is_limited_per_ip(
    clean: Sanic,
    client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    settings: Settings,
    phone: Callable[[], Phone],
) -> None:
    limit = settings.login_limit_per_min
    for _ in range(limit):
        await phone().login()  # a different WeChat user each time: only the IP is shared
    code = await phone().wx_login_code()
    response = await client.post(LOGIN, json={"code": code})
    error = assert_envelope(response, 429, "rate_limited")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60 and error["details"]["retry_after_s"] == retry_after
    assert (await wechat_stats(sandbox))["logins"] == limit  # the refused one never reached WeChat
    assert await User.all().count() == limit

    # Another address is not affected, and the refused code is still good there.
    transport = httpx.ASGITransport(app=clean, client=("203.0.113.7", 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://zhangban.test") as other:
        elsewhere = await other.post(LOGIN, json={"code": code})
    assert elsewhere.status_code == 200, elsewhere.text


# --- Idempotency-Key --------------------------------------------------------------------------


async def test_idempotency_key_replays_the_first_answer(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    body = {"name": "杨磊", "id_number": fresh_id()}
    headers = {"Idempotency-Key": "realname-" + secrets.token_hex(8)}
    first = await person.call("POST", REALNAME, json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    second = await person.call("POST", REALNAME, json=body, headers=headers)
    assert second.status_code == 200, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert (await realname_stats(sandbox))["calls"] == 1


async def test_idempotency_key_with_another_body_is_409(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    person = await logged_in(phone)
    headers = {"Idempotency-Key": "realname-" + secrets.token_hex(8)}
    body = {"name": "赵敏", "id_number": fresh_id()}
    first = await person.call("POST", REALNAME, json=body, headers=headers)
    assert first.status_code == 200, first.text
    other = {"name": "赵敏", "id_number": fresh_id()}
    response = await person.call("POST", REALNAME, json=other, headers=headers)
    assert_envelope(response, 409, "request.idempotency_key_reused")
    assert (await realname_stats(sandbox))["calls"] == 1
