"""The WeChat mini-program server API, as a local HTTP peer (base ``/sandbox/wechat``).

Paths, fields and error codes are the real platform's (``PROTOCOLS.md`` and the platform's own
pages: code2Session, getStableAccessToken, getAccessToken, getPhoneNumber, getVerifyId,
queryVerifyInfo), so an adapter pointed at ``<server>/sandbox/wechat`` instead of
``https://api.weixin.qq.com`` runs unchanged. Like the platform, every answer is HTTP 200 and an
error is ``{"errcode", "errmsg"}`` whose ``errmsg`` ends in `` rid: …``; adapters must branch on
``errcode``, never on the text. The peer enforces every rule the documentation states: a lenient
peer would hide the adapter's mistakes until they met the real platform.

Behaviour the platform documents and the peer reproduces:

* every API authenticated by app credentials checks them in order: appid missing 41002, other
  appid 40013, secret missing 41004, wrong secret 40125, grant_type 40002;
* every ``?access_token=`` API checks the token first: missing 41001, unknown or replaced 40001,
  expired 42001; the token is read from the query only, never from the body;
* login codes live 300 s and are single use (40029 unknown or expired, 40163 used); more than
  100 logins a minute for one openid answers 45011; a high-risk user's login is blocked with
  40226 ("code blocked");
* ``/cgi-bin/token`` issues a new token on every call and the previous one keeps working for
  5 minutes only; it may be called 2000 times a day (then 45009);
* ``/cgi-bin/stable_token`` (POST JSON only) is isolated from it: the same token while valid,
  renewed by a normal call during its last 5 minutes (the old one stays valid until its own end);
  at most 10,000 calls a minute (45011) and 500,000 a day (45009); force refresh at most 20 times
  a (Beijing) day (then 45009) and ignored when less than 30 s after the previous one;
* tokens last 7200 s; a token replaced by a newer one answers 40001 once its overlap is over, an
  expired one 42001;
* phone-number codes live 300 s and are single use, and each belongs to the user who tapped the
  button: ``getuserphonenumber`` takes an optional ``openid`` and, when given, checks that the
  code was issued to that user;
* ``getverifyid`` requires ``out_seq_no`` of 5–32 characters of ``[0-9A-Za-z_-]``, unique per
  appid, ``cert_info`` with ``cert_type`` ``IDENTITY_CARD``, ``cert_name`` and ``cert_no``, and
  an ``openid``; its verify_id lives 3600 s;
* ``queryverifyinfo`` requires the verify_id's own ``out_seq_no`` and ``openid``, and a
  ``cert_hash`` equal to the documented digest of the ``cert_info`` given to ``getverifyid``:
  each of cert_type, cert_name and cert_no base64-encoded (UTF-8), joined as
  ``cert_type=<b64>&cert_name=<b64>&cert_no=<b64>``, SHA-256, lower-case hex (``cert_hash_of``,
  written from the documentation's worked example). WeChat "checks cert_info and openid and
  answers the corresponding errcode instead of verify_ret when they differ".

Choices where the platform is silent or unconfirmed:

* after a force refresh the previous stable token keeps working for 30 s
  (``FORCE_REFRESH_GRACE_S``; the documentation only says it "becomes invalid");
* the errcodes the face pages leave unnamed: an unknown verify_id, one past its 3600 s, an
  ``out_seq_no`` other than the one given to ``getverifyid``, a ``cert_hash`` that does not match
  its ``cert_info``, a malformed ``out_seq_no``, an ``out_seq_no`` used before, a ``cert_type``
  other than ``IDENTITY_CARD``: 40097 (invalid args, the errmsg says which); the openid of another
  user, or an openid this app never saw: 40003 (invalid openid);
* ``getuserphonenumber`` with an ``openid`` the code was not issued to answers 40003 (the page
  says only that it "reports an error when they do not match") and leaves the code unused;
* ``queryverifyinfo`` before the phone finished ``wx.requestFacialVerify`` answers
  ``verify_ret`` 90004 (``VERIFY_RET_NOT_COMPLETED``, "user cancelled during recognition"): the
  platform has no face result for the session yet, and the adapter must treat any value other
  than 10000 as "not verified";
* a high-risk user is blocked at login only (``code2Session`` is the API that documents 40226);
* ``countryCode`` is a string ("86"), as the field table says (the sample shows a number); a
  non-mainland ``phoneNumber`` is ``+<country code><number>``;
* a body that is not a JSON object, or lacks a required field, answers 47001 (data format error).

The ``_control/`` routes are not WeChat: they play the phone (log in, tap "allow phone number",
finish a face verification) and the test (pre-program failures, mark a user high-risk, lower a
quota, expire tokens, move the clock, read call counts).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import re
import secrets
import string
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from functools import wraps
from typing import Any, TypeGuard

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from sandbox._http import json_object, text_field

log = logging.getLogger("zhangban.sandbox.wechat")

CODE_TTL_S = 300
TOKEN_TTL_S = 7200
#: A normal stable_token call during a token's last 5 minutes returns a new one.
STABLE_RENEW_BEFORE_S = 300
#: ``/cgi-bin/token``: the token it replaces keeps working this long.
TOKEN_OVERLAP_S = 300
FORCE_REFRESH_GRACE_S = 30
FORCE_REFRESH_MIN_INTERVAL_S = 30
FORCE_REFRESH_DAILY_LIMIT = 20
LOGIN_LIMIT_PER_MIN = 100
VERIFY_TTL_S = 3600
VERIFY_RET_SUCCESS = 10000
VERIFY_RET_NOT_COMPLETED = 90004
CERT_TYPE_IDENTITY_CARD = "IDENTITY_CARD"
#: getVerifyId: "5-32个字符内，只能包含数字、大小写字母和_-字符，且在同一个appid下唯一".
OUT_SEQ_NO_PATTERN = re.compile(r"[0-9A-Za-z_-]{5,32}")
#: getVerifyId: "长度不超过 256 字符".
VERIFY_ID_MAX_LENGTH = 256
#: code2Session 40226: "高风险等级用户，小程序登录拦截" (errmsg "code blocked").
HIGH_RISK_BLOCKED = 40226
#: Outcomes a test may program: success and the documented server-side failures 10001–10004,
#: or one of the 9xxxx codes the phone reports (cancelled, no camera permission…).
ALLOWED_VERIFY_RETS = frozenset(range(10000, 10005)) | frozenset(range(90000, 90200))
#: Failures a login code may be pre-programmed with.
LOGIN_FAILURES = frozenset({40029, 45011, HIGH_RISK_BLOCKED, -1})

#: The real platform's errmsg texts (before the `` rid: …`` suffix).
ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40097: "invalid args",
    40125: "invalid appsecret",
    40163: "code been used",
    HIGH_RISK_BLOCKED: "code blocked",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    42001: "access_token expired",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    47001: "data format error",
}

_OPENID_CHARS = string.ascii_letters + string.digits + "-_"
_BEIJING_OFFSET_S = 8 * 3600
_PRUNE_EVERY_S = 60.0
#: Replaced or expired tokens and finished sessions are remembered this long, so they keep
#: answering "expired" rather than "unknown".
_REMEMBER_S = 86400.0

APIS = (
    "jscode2session",
    "token",
    "stable_token",
    "getuserphonenumber",
    "getverifyid",
    "queryverifyinfo",
)


def cert_hash_of(cert_type: str, cert_name: str, cert_no: str) -> str:
    """``queryVerifyInfo``'s ``cert_hash`` of a ``cert_info``, as its documentation defines it.

    "对 cert_info 中的 cert_type、cert_name、cert_no 字段内容进行标准 base64; 按顺序拼接各个字段:
    cert_type=xxx&cert_name=xxx&cert_no=xxx; 对拼接串进行 SHA256 并输出十六进制小写结果".
    Written here from the page, not imported from the adapter: the peer must catch an adapter
    that computes it wrongly.
    """
    encoded = [
        (key, base64.standard_b64encode(value.encode("utf-8")).decode("ascii"))
        for key, value in (("cert_type", cert_type), ("cert_name", cert_name), ("cert_no", cert_no))
    ]
    joined = "&".join(f"{key}={value}" for key, value in encoded)
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


class WeChatError(Exception):
    """A platform error answer: HTTP 200 with ``errcode`` and ``errmsg``."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        self.errcode = errcode
        base = ERRMSG.get(errcode, "system error")
        self.errmsg = f"{base}, {detail}" if detail else base
        super().__init__(f"{errcode} {self.errmsg}")


class ControlError(Exception):
    """A refused control request: it is a test's mistake, so it gets a 4xx status."""

    def __init__(self, status: int, errcode: int, errmsg: str) -> None:
        self.status = status
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(errmsg)


@dataclass
class Quotas:
    """The platform's documented call limits; a test may lower them (``_control/quotas``)."""

    #: getAccessToken: calls a day (API call limits page), then 45009.
    token_per_day: int = 2000
    #: getStableAccessToken: "调用频率限制为 1 万次每分钟", then 45011.
    stable_token_per_minute: int = 10_000
    #: getStableAccessToken: "每天限制调用 50 万次", then 45009.
    stable_token_per_day: int = 500_000


@dataclass
class _LoginCode:
    openid: str
    expires_at: float
    used: bool = False
    fail_with: int | None = None
    #: How many more calls fail with ``fail_with``; None: every call.
    fail_times: int | None = None


@dataclass
class _PhoneCode:
    #: The user who tapped "allow": the platform binds the code to them.
    openid: str
    pure_number: str
    country_code: str
    expires_at: float
    used: bool = False


@dataclass
class _Token:
    value: str
    kind: str  # "stable" or "basic": the two families are isolated from each other
    expires_at: float
    #: When a newer token of the same family took over, the moment this one stops working.
    revoked_at: float | None = None

    def usable(self, now: float) -> bool:
        return now < self.expires_at and (self.revoked_at is None or now < self.revoked_at)

    def forget_after(self) -> float:
        end = self.expires_at if self.revoked_at is None else min(self.expires_at, self.revoked_at)
        return end + _REMEMBER_S


@dataclass
class _Verification:
    openid: str
    out_seq_no: str
    cert_type: str
    cert_name: str
    cert_no: str
    expires_at: float
    #: None until the phone has finished wx.requestFacialVerify.
    verify_ret: int | None = None
    cert_hashes: list[str] = field(default_factory=list)


class WeChatSandbox:
    """The platform's state for one mini-program (one appid), with its own clock.

    The clock is the host's plus an offset that ``advance_clock`` moves, so tests can let codes,
    tokens and sessions expire over HTTP without waiting. Every method runs without awaiting, so
    on the single-worker server each request sees and leaves a consistent state.
    """

    def __init__(self, *, appid: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        self.appid = appid
        self.secret = secret
        self._clock = clock
        self.reset()

    # --- state and clock -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (codes, tokens, users, sessions, counts, quotas) and the offset."""
        self._offset = 0.0
        self.quotas = Quotas()
        self._login_codes: dict[str, _LoginCode] = {}
        self._phone_codes: dict[str, _PhoneCode] = {}
        self._tokens: dict[str, _Token] = {}
        self._stable: _Token | None = None
        self._last_force_at: float | None = None
        self._force_by_day: Counter[int] = Counter()
        self._basic_by_day: Counter[int] = Counter()
        self._stable_by_day: Counter[int] = Counter()
        self._stable_by_minute: Counter[int] = Counter()
        self._unionids: dict[str, str | None] = {}
        self._high_risk: set[str] = set()
        self._logins: dict[str, deque[float]] = {}
        self._face_outcomes: dict[str, int] = {}
        self._verifications: dict[str, _Verification] = {}
        #: Every out_seq_no getverifyid accepted: "在同一个appid下唯一", for as long as we run.
        self._out_seq_nos: set[str] = set()
        self._calls: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._counters: Counter[str] = Counter()
        self._pruned_at = 0.0

    def now(self) -> float:
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> float:
        """Move this peer's clock forward; returns the new time."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ControlError(400, 40097, "seconds must be a finite, non-negative number")
        self._offset += seconds
        return self.now()

    def _prune(self, now: float) -> None:
        """Drop what can no longer matter, so a long-running embedded server stays small."""
        if now - self._pruned_at < _PRUNE_EVERY_S:
            return
        self._pruned_at = now
        self._login_codes = {k: c for k, c in self._login_codes.items() if c.expires_at > now}
        self._phone_codes = {k: c for k, c in self._phone_codes.items() if c.expires_at > now}
        self._tokens = {k: t for k, t in self._tokens.items() if t.forget_after() > now}
        self._verifications = {
            k: v for k, v in self._verifications.items() if v.expires_at + _REMEMBER_S > now
        }
        minute, day = int(now // 60), self._day(now)
        for counter, current in ((self._stable_by_minute, minute), (self._basic_by_day, day)):
            for key in [k for k in counter if k < current]:
                del counter[key]
        for key in [k for k in self._stable_by_day if k < day]:
            del self._stable_by_day[key]
        for openid, window in list(self._logins.items()):
            while window and window[0] <= now - 60:
                window.popleft()
            if not window:
                del self._logins[openid]

    # --- control: what the phone or a test does -----------------------------------------

    def issue_login_code(
        self,
        *,
        openid: str | None = None,
        unionid: str | None = None,
        fail_with: int | None = None,
        fail_times: int | None = None,
    ) -> tuple[str, str]:
        """``wx.login()`` on a phone: a fresh code for ``openid`` (a new user when omitted)."""
        if fail_with is not None and fail_with not in LOGIN_FAILURES:
            allowed = ", ".join(str(code) for code in sorted(LOGIN_FAILURES))
            raise ControlError(400, 40097, f"fail_with must be one of {allowed}")
        if fail_times is not None and fail_times < 1:
            raise ControlError(400, 40097, "fail_times must be a positive integer")
        now = self.now()
        self._prune(now)
        openid = openid or "o" + "".join(secrets.choice(_OPENID_CHARS) for _ in range(27))
        if unionid is not None or openid not in self._unionids:
            self._unionids[openid] = unionid or self._unionids.get(openid)
        code = secrets.token_urlsafe(24)
        self._login_codes[code] = _LoginCode(
            openid=openid, expires_at=now + CODE_TTL_S, fail_with=fail_with, fail_times=fail_times
        )
        return code, openid

    def unionid_of(self, openid: str) -> str | None:
        return self._unionids.get(openid)

    def set_high_risk(self, *, openid: str, blocked: bool) -> None:
        """WeChat's risk control rates this user high-risk: their logins answer 40226."""
        if blocked:
            self._high_risk.add(openid)
        else:
            self._high_risk.discard(openid)

    def issue_phone_code(self, *, openid: str, phone_number: str, country_code: str = "86") -> str:
        """User ``openid`` tapped "allow" on a ``getPhoneNumber`` button: a code bound to them."""
        if openid not in self._unionids:
            raise ControlError(400, 40003, "openid unknown to this app: log the user in first")
        if not (phone_number.isascii() and phone_number.isdigit() and 5 <= len(phone_number) <= 20):
            raise ControlError(400, 40097, "phone_number must be 5 to 20 digits")
        if not (country_code.isascii() and country_code.isdigit() and 1 <= len(country_code) <= 4):
            raise ControlError(400, 40097, "country_code must be 1 to 4 digits")
        now = self.now()
        self._prune(now)
        code = secrets.token_hex(32)
        self._phone_codes[code] = _PhoneCode(
            openid=openid,
            pure_number=phone_number,
            country_code=country_code,
            expires_at=now + CODE_TTL_S,
        )
        return code

    def set_face_outcome(self, *, cert_no: str, verify_ret: int) -> None:
        """What the face comparison will answer for this ID number (default 10000)."""
        if verify_ret not in ALLOWED_VERIFY_RETS:
            raise ControlError(400, 40097, "verify_ret must be 10000-10004 or 90000-90199")
        self._face_outcomes[cert_no] = verify_ret

    def complete_face(self, *, verify_id: str, verify_ret: int | None = None) -> int:
        """The phone finished ``wx.requestFacialVerify``: the result is fixed from now on.

        The outcome is the one configured for the session's ID number at this moment, unless
        ``verify_ret`` overrides it (e.g. 90002, the user cancelled). An expired verify_id cannot
        be verified any more ("过期后无法发起核身").
        """
        session = self._verifications.get(verify_id)
        if session is None:
            raise ControlError(404, 40097, "verify_id not found")
        if self.now() >= session.expires_at:
            raise ControlError(400, 40097, "verify_id expired")
        if session.verify_ret is not None:
            raise ControlError(409, 40097, "verify_id already completed")
        if verify_ret is not None and verify_ret not in ALLOWED_VERIFY_RETS:
            raise ControlError(400, 40097, "verify_ret must be 10000-10004 or 90000-90199")
        if verify_ret is None:
            verify_ret = self._face_outcomes.get(session.cert_no, VERIFY_RET_SUCCESS)
        session.verify_ret = verify_ret
        return verify_ret

    def face_session(self, verify_id: str) -> dict[str, Any]:
        """What the platform holds for a session (without the identity), for tests to inspect."""
        session = self._verifications.get(verify_id)
        if session is None:
            raise ControlError(404, 40097, "verify_id not found")
        return {
            "verify_id": verify_id,
            "openid": session.openid,
            "out_seq_no": session.out_seq_no,
            "verify_ret": session.verify_ret,
            "expires_in": max(0, int(session.expires_at - self.now())),
            "cert_hashes": list(session.cert_hashes),
        }

    def set_quotas(self, values: dict[str, Any]) -> dict[str, int]:
        """Change some documented limits (a test cannot make 10,000 calls); reset restores them."""
        known = {f.name for f in fields(Quotas)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ControlError(400, 40097, "unknown quota: " + ", ".join(unknown))
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ControlError(400, 47001, f"{name} must be a non-negative integer")
        for name, value in values.items():
            setattr(self.quotas, name, value)
        return self.quota_values()

    def quota_values(self) -> dict[str, int]:
        return {f.name: int(getattr(self.quotas, f.name)) for f in fields(Quotas)}

    def expire_tokens(self, access_token: str | None = None) -> int:
        """Make one token, or every usable one, expire now (they then answer 42001)."""
        now = self.now()
        if access_token is not None:
            token = self._tokens.get(access_token)
            if token is None:
                raise ControlError(404, 40001, "access_token not found")
            token.expires_at = min(token.expires_at, now)
            return 1
        expired = 0
        for token in self._tokens.values():
            if token.usable(now):
                token.expires_at = now
                expired += 1
        return expired

    def stats(self) -> dict[str, Any]:
        """Call counts per API, for tests that check caching, refresh and quota behaviour."""
        today = self._day(self.now())
        return {
            "calls": {api: self._calls[api] for api in APIS},
            "errors": {api: self._errors[api] for api in APIS},
            "force_refreshes": self._counters["force_refresh"],
            "force_refreshes_ignored": self._counters["force_refresh_ignored"],
            "force_refreshes_today": self._force_by_day[today],
            "logins": self._counters["login"],
            "logins_blocked": self._counters["login_blocked"],
            "tokens_issued": self._counters["tokens_issued"],
        }

    def count(self, api: str, *, error: bool) -> None:
        self._calls[api] += 1
        if error:
            self._errors[api] += 1

    # --- the platform's API ---------------------------------------------------------------

    def _check_app(
        self, appid: str | None, secret: str | None, grant_type: str | None, expected_grant: str
    ) -> None:
        if not appid:
            raise WeChatError(41002)
        if appid != self.appid:
            raise WeChatError(40013)
        if not secret:
            raise WeChatError(41004)
        if not secrets.compare_digest(secret.encode(), self.secret.encode()):
            raise WeChatError(40125)
        if grant_type != expected_grant:
            raise WeChatError(40002)

    def code_to_session(
        self,
        *,
        appid: str | None,
        secret: str | None,
        js_code: str | None,
        grant_type: str | None,
    ) -> dict[str, Any]:
        """``GET /sns/jscode2session``."""
        self._check_app(appid, secret, grant_type, "authorization_code")
        if not js_code:
            raise WeChatError(41008)
        now = self.now()
        self._prune(now)
        code = self._login_codes.get(js_code)
        if code is None or now >= code.expires_at:
            raise WeChatError(40029)
        if code.fail_with is not None and (code.fail_times is None or code.fail_times > 0):
            if code.fail_times is not None:
                code.fail_times -= 1
            if code.fail_with == HIGH_RISK_BLOCKED:
                self._counters["login_blocked"] += 1
            raise WeChatError(code.fail_with)
        if code.used:
            raise WeChatError(40163)
        if code.openid in self._high_risk:
            # Not transient: the user's WeChat account is restricted, whatever the code.
            self._counters["login_blocked"] += 1
            raise WeChatError(HIGH_RISK_BLOCKED)
        window = self._logins.setdefault(code.openid, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= LOGIN_LIMIT_PER_MIN:
            raise WeChatError(45011)
        code.used = True
        window.append(now)
        self._counters["login"] += 1
        session_key = base64.b64encode(secrets.token_bytes(16)).decode()
        answer: dict[str, Any] = {"session_key": session_key, "openid": code.openid}
        unionid = self._unionids.get(code.openid)
        if unionid:
            answer["unionid"] = unionid
        return answer

    def _issue_token(self, kind: str, now: float) -> _Token:
        token = _Token(value=secrets.token_urlsafe(96), kind=kind, expires_at=now + TOKEN_TTL_S)
        self._tokens[token.value] = token
        self._counters["tokens_issued"] += 1
        return token

    @staticmethod
    def _day(now: float) -> int:
        return int((now + _BEIJING_OFFSET_S) // 86400)

    @staticmethod
    def _token_answer(token: _Token, now: float) -> dict[str, Any]:
        return {"access_token": token.value, "expires_in": max(1, int(token.expires_at - now))}

    def _spend_stable_quota(self, now: float) -> None:
        """One stable_token call against its minute and day limits (refused calls are free)."""
        minute, day = int(now // 60), self._day(now)
        if self._stable_by_minute[minute] >= self.quotas.stable_token_per_minute:
            raise WeChatError(45011)
        if self._stable_by_day[day] >= self.quotas.stable_token_per_day:
            raise WeChatError(45009)
        self._stable_by_minute[minute] += 1
        self._stable_by_day[day] += 1

    def stable_token(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """``POST /cgi-bin/stable_token``."""
        if body is None:
            raise WeChatError(47001)
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            raise WeChatError(47001, "force_refresh must be a boolean")
        self._check_app(
            _str_or_none(body.get("appid")),
            _str_or_none(body.get("secret")),
            _str_or_none(body.get("grant_type")),
            "client_credential",
        )
        now = self.now()
        self._prune(now)
        self._spend_stable_quota(now)
        current = self._stable
        if force:
            recent = self._last_force_at is not None and (
                now - self._last_force_at < FORCE_REFRESH_MIN_INTERVAL_S
            )
            if recent and current is not None and current.usable(now):
                # "调用间隔至少为30s，否则不会刷新": the current token comes back unchanged.
                self._counters["force_refresh_ignored"] += 1
                return self._token_answer(current, now)
            day = self._day(now)
            if self._force_by_day[day] >= FORCE_REFRESH_DAILY_LIMIT:
                raise WeChatError(45009)
            self._force_by_day[day] += 1
            self._counters["force_refresh"] += 1
            self._last_force_at = now
            if current is not None:
                grace_end = now + FORCE_REFRESH_GRACE_S
                current.revoked_at = min(current.revoked_at or grace_end, grace_end)
            self._stable = self._issue_token("stable", now)
            return self._token_answer(self._stable, now)
        if (
            current is not None
            and current.usable(now)
            and current.expires_at - now > STABLE_RENEW_BEFORE_S
        ):
            return self._token_answer(current, now)
        # No usable token, or its last 5 minutes: a new one; an old one runs out at its own end.
        self._stable = self._issue_token("stable", now)
        return self._token_answer(self._stable, now)

    def basic_token(
        self, *, appid: str | None, secret: str | None, grant_type: str | None
    ) -> dict[str, Any]:
        """``GET /cgi-bin/token``: a new token on every call, knocking out the previous one."""
        self._check_app(appid, secret, grant_type, "client_credential")
        now = self.now()
        self._prune(now)
        day = self._day(now)
        if self._basic_by_day[day] >= self.quotas.token_per_day:
            raise WeChatError(45009)
        self._basic_by_day[day] += 1
        overlap_end = now + TOKEN_OVERLAP_S
        for token in self._tokens.values():
            if token.kind == "basic" and token.usable(now):
                token.revoked_at = min(token.revoked_at or overlap_end, overlap_end)
        return self._token_answer(self._issue_token("basic", now), now)

    def check_access_token(self, access_token: str | None) -> None:
        """What every ``?access_token=`` path does first."""
        if not access_token:
            raise WeChatError(41001)
        token = self._tokens.get(access_token)
        now = self.now()
        if token is None or (token.revoked_at is not None and now >= token.revoked_at):
            raise WeChatError(40001)
        if now >= token.expires_at:
            raise WeChatError(42001)

    def phone_number(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """``POST /wxa/business/getuserphonenumber`` (after the token check)."""
        if body is None:
            raise WeChatError(47001)
        code_value = text_field(body, "code")
        if code_value is None:
            raise WeChatError(47001, "code is required")
        openid: str | None = None
        if body.get("openid") is not None:
            openid = text_field(body, "openid", max_length=64)
            if openid is None:
                raise WeChatError(47001, "openid must be a non-empty string")
        now = self.now()
        code = self._phone_codes.get(code_value)
        if code is None or now >= code.expires_at:
            raise WeChatError(40029)
        if code.used:
            raise WeChatError(40163)
        if openid is not None and openid != code.openid:
            # "填入后会校验openid和code的绑定关系": refused, and the code stays usable.
            raise WeChatError(40003, "the code was not issued to this openid")
        code.used = True
        full = code.pure_number
        if code.country_code != "86":
            full = f"+{code.country_code}{code.pure_number}"
        return {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": full,
                "purePhoneNumber": code.pure_number,
                "countryCode": code.country_code,
                "watermark": {"timestamp": int(now), "appid": self.appid},
            },
        }

    def get_verify_id(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """``POST /cityservice/face/identify/getverifyid`` (after the token check)."""
        if body is None:
            raise WeChatError(47001)
        out_seq_no = text_field(body, "out_seq_no", max_length=256)
        openid = text_field(body, "openid", max_length=64)
        cert_info = body.get("cert_info")
        if out_seq_no is None or openid is None or not isinstance(cert_info, dict):
            raise WeChatError(47001, "out_seq_no, cert_info and openid are required")
        cert_type = text_field(cert_info, "cert_type")
        cert_name = text_field(cert_info, "cert_name", max_length=64)
        cert_no = text_field(cert_info, "cert_no", max_length=32)
        if cert_type is None or cert_name is None or cert_no is None:
            raise WeChatError(47001, "cert_info needs cert_type, cert_name and cert_no")
        if not OUT_SEQ_NO_PATTERN.fullmatch(out_seq_no):
            raise WeChatError(40097, "out_seq_no must be 5-32 characters of [0-9A-Za-z_-]")
        if cert_type != CERT_TYPE_IDENTITY_CARD:
            raise WeChatError(40097, "cert_type must be IDENTITY_CARD")
        if openid not in self._unionids:
            raise WeChatError(40003)
        if out_seq_no in self._out_seq_nos:
            raise WeChatError(40097, "out_seq_no already used by this appid")
        now = self.now()
        self._prune(now)
        self._out_seq_nos.add(out_seq_no)
        verify_id = secrets.token_hex(24)
        self._verifications[verify_id] = _Verification(
            openid=openid,
            out_seq_no=out_seq_no,
            cert_type=cert_type,
            cert_name=cert_name,
            cert_no=cert_no,
            expires_at=now + VERIFY_TTL_S,
        )
        return {"errcode": 0, "errmsg": "ok", "verify_id": verify_id, "expires_in": VERIFY_TTL_S}

    def query_verify_info(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """``POST /cityservice/face/identify/queryverifyinfo`` (after the token check)."""
        if body is None:
            raise WeChatError(47001)
        verify_id = text_field(body, "verify_id", max_length=VERIFY_ID_MAX_LENGTH)
        out_seq_no = text_field(body, "out_seq_no", max_length=256)
        cert_hash = text_field(body, "cert_hash", max_length=512)
        openid = text_field(body, "openid", max_length=64)
        if verify_id is None or out_seq_no is None or cert_hash is None or openid is None:
            raise WeChatError(47001, "verify_id, out_seq_no, cert_hash and openid are required")
        session = self._verifications.get(verify_id)
        if session is None:
            raise WeChatError(40097, "verify_id not found")
        if self.now() >= session.expires_at:
            raise WeChatError(40097, "verify_id expired")
        if openid != session.openid:
            raise WeChatError(40003, "verify_id belongs to another openid")
        if out_seq_no != session.out_seq_no:
            raise WeChatError(40097, "out_seq_no does not match verify_id")
        session.cert_hashes.append(cert_hash)
        expected = cert_hash_of(session.cert_type, session.cert_name, session.cert_no)
        if not secrets.compare_digest(cert_hash.encode(), expected.encode()):
            raise WeChatError(40097, "cert_hash does not match the cert_info of getverifyid")
        verify_ret = VERIFY_RET_NOT_COMPLETED if session.verify_ret is None else session.verify_ret
        return {"errcode": 0, "errmsg": "ok", "verify_ret": verify_ret}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(data: dict[str, Any], key: str) -> int | None:
    """An optional integer field; a wrong type is the test's mistake."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(400, 47001, f"{key} must be an integer")
    return value


def _rid(now: float) -> str:
    """A request id like the one the platform appends to every errmsg."""
    return f"{int(now) & 0xFFFFFFFF:08x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def _valid_openid(value: Any) -> TypeGuard[str]:
    return (
        isinstance(value, str) and 0 < len(value) <= 64 and all(c in _OPENID_CHARS for c in value)
    )


Handler = Callable[[Request], Awaitable[HTTPResponse]]


def wechat_blueprint(state: WeChatSandbox) -> Blueprint:
    """The platform's routes and the control routes, served from ``state``."""
    bp = Blueprint("sandbox_wechat", url_prefix="/sandbox/wechat")

    def platform(api: str) -> Callable[[Callable[[Request], dict[str, Any]]], Handler]:
        """Answer like the platform: HTTP 200 always, errors as errcode/errmsg, counted."""

        def decorate(fn: Callable[[Request], dict[str, Any]]) -> Handler:
            @wraps(fn)
            async def handler(request: Request) -> HTTPResponse:
                try:
                    payload = fn(request)
                except WeChatError as exc:
                    state.count(api, error=True)
                    return json(
                        {"errcode": exc.errcode, "errmsg": f"{exc.errmsg} rid: {_rid(state.now())}"}
                    )
                except Exception:
                    log.exception("sandbox wechat handler failed", extra={"api": api})
                    state.count(api, error=True)
                    return json({"errcode": -1, "errmsg": f"system error rid: {_rid(state.now())}"})
                state.count(api, error=False)
                return json(payload)

            return handler

        return decorate

    def control(fn: Callable[[Request], dict[str, Any]]) -> Handler:
        """Control answers: 200 with the result, or a 4xx with errcode/errmsg."""

        @wraps(fn)
        async def handler(request: Request) -> HTTPResponse:
            try:
                return json(fn(request))
            except ControlError as exc:
                return json({"errcode": exc.errcode, "errmsg": exc.errmsg}, status=exc.status)

        return handler

    def control_body(request: Request) -> dict[str, Any]:
        data = json_object(request)
        if data is None:
            raise ControlError(400, 47001, "data format error: a JSON object is required")
        return data

    # --- the platform -----------------------------------------------------------------------

    @bp.get("/sns/jscode2session", name="jscode2session")
    @platform("jscode2session")
    def jscode2session(request: Request) -> dict[str, Any]:
        args = request.args
        return state.code_to_session(
            appid=args.get("appid"),
            secret=args.get("secret"),
            js_code=args.get("js_code"),
            grant_type=args.get("grant_type"),
        )

    @bp.get("/cgi-bin/token", name="token")
    @platform("token")
    def token(request: Request) -> dict[str, Any]:
        args = request.args
        return state.basic_token(
            appid=args.get("appid"), secret=args.get("secret"), grant_type=args.get("grant_type")
        )

    @bp.post("/cgi-bin/stable_token", name="stable_token")
    @platform("stable_token")
    def stable_token(request: Request) -> dict[str, Any]:
        return state.stable_token(json_object(request))

    @bp.post("/wxa/business/getuserphonenumber", name="getuserphonenumber")
    @platform("getuserphonenumber")
    def getuserphonenumber(request: Request) -> dict[str, Any]:
        state.check_access_token(request.args.get("access_token"))
        return state.phone_number(json_object(request))

    @bp.post("/cityservice/face/identify/getverifyid", name="getverifyid")
    @platform("getverifyid")
    def getverifyid(request: Request) -> dict[str, Any]:
        state.check_access_token(request.args.get("access_token"))
        return state.get_verify_id(json_object(request))

    @bp.post("/cityservice/face/identify/queryverifyinfo", name="queryverifyinfo")
    @platform("queryverifyinfo")
    def queryverifyinfo(request: Request) -> dict[str, Any]:
        state.check_access_token(request.args.get("access_token"))
        return state.query_verify_info(json_object(request))

    # --- control ------------------------------------------------------------------------------

    @bp.post("/_control/login-code", name="control_login_code")
    @control
    def login_code(request: Request) -> dict[str, Any]:
        data = json_object(request) if request.body else {}
        if data is None:
            raise ControlError(400, 47001, "data format error: a JSON object is required")
        openid = data.get("openid")
        unionid = data.get("unionid")
        if openid is not None and not _valid_openid(openid):
            raise ControlError(400, 40003, "openid must be 1-64 characters of [A-Za-z0-9_-]")
        if unionid is not None and not (isinstance(unionid, str) and 0 < len(unionid) <= 64):
            raise ControlError(400, 40097, "unionid must be a string of 1-64 characters")
        code, openid = state.issue_login_code(
            openid=openid,
            unionid=unionid,
            fail_with=_int_or_none(data, "fail_with"),
            fail_times=_int_or_none(data, "fail_times"),
        )
        answer: dict[str, Any] = {"code": code, "openid": openid}
        known_unionid = state.unionid_of(openid)
        if known_unionid:
            answer["unionid"] = known_unionid
        return answer

    @bp.post("/_control/high-risk", name="control_high_risk")
    @control
    def high_risk(request: Request) -> dict[str, Any]:
        """WeChat rates a user high-risk (``blocked``, default true) or clears them."""
        data = control_body(request)
        openid = data.get("openid")
        blocked = data.get("blocked", True)
        if not _valid_openid(openid):
            raise ControlError(400, 40003, "openid must be 1-64 characters of [A-Za-z0-9_-]")
        if not isinstance(blocked, bool):
            raise ControlError(400, 47001, "blocked must be a boolean")
        state.set_high_risk(openid=openid, blocked=blocked)
        return {"openid": openid, "blocked": blocked}

    @bp.post("/_control/phone-code", name="control_phone_code")
    @control
    def phone_code(request: Request) -> dict[str, Any]:
        data = control_body(request)
        openid = data.get("openid")
        phone = data.get("phone_number")
        country = data.get("country_code", "86")
        if not isinstance(phone, str) or not isinstance(country, str):
            raise ControlError(400, 47001, "phone_number and country_code must be strings")
        if not _valid_openid(openid):
            raise ControlError(400, 47001, "openid (the user who tapped the button) is required")
        return {
            "code": state.issue_phone_code(openid=openid, phone_number=phone, country_code=country)
        }

    @bp.post("/_control/face-outcome", name="control_face_outcome")
    @control
    def face_outcome(request: Request) -> dict[str, Any]:
        data = control_body(request)
        cert_no = text_field(data, "cert_no", max_length=32)
        verify_ret = _int_or_none(data, "verify_ret")
        if cert_no is None or verify_ret is None:
            raise ControlError(400, 47001, "cert_no and verify_ret are required")
        state.set_face_outcome(cert_no=cert_no, verify_ret=verify_ret)
        return {"cert_no": cert_no, "verify_ret": verify_ret}

    @bp.post("/_control/face-complete", name="control_face_complete")
    @control
    def face_complete(request: Request) -> dict[str, Any]:
        data = control_body(request)
        verify_id = text_field(data, "verify_id", max_length=VERIFY_ID_MAX_LENGTH)
        if verify_id is None:
            raise ControlError(400, 47001, "verify_id is required")
        verify_ret = state.complete_face(
            verify_id=verify_id, verify_ret=_int_or_none(data, "verify_ret")
        )
        return {"verify_id": verify_id, "verify_ret": verify_ret}

    @bp.get("/_control/face/<verify_id:str>", name="control_face")
    async def face_session(request: Request, verify_id: str) -> HTTPResponse:
        try:
            return json(state.face_session(verify_id))
        except ControlError as exc:
            return json({"errcode": exc.errcode, "errmsg": exc.errmsg}, status=exc.status)

    @bp.get("/_control/quotas", name="control_quotas")
    @control
    def quotas(request: Request) -> dict[str, Any]:
        return state.quota_values()

    @bp.post("/_control/quotas", name="control_set_quotas")
    @control
    def set_quotas(request: Request) -> dict[str, Any]:
        return state.set_quotas(control_body(request))

    @bp.post("/_control/expire-token", name="control_expire_token")
    @control
    def expire_token(request: Request) -> dict[str, Any]:
        data = json_object(request) if request.body else {}
        if data is None:
            raise ControlError(400, 47001, "data format error: a JSON object is required")
        access_token = data.get("access_token")
        if access_token is not None and not isinstance(access_token, str):
            raise ControlError(400, 47001, "access_token must be a string")
        return {"expired": state.expire_tokens(access_token)}

    @bp.post("/_control/advance-clock", name="control_advance_clock")
    @control
    def advance_clock(request: Request) -> dict[str, Any]:
        data = control_body(request)
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ControlError(400, 47001, "seconds must be a number")
        return {"now": state.advance_clock(float(seconds))}

    @bp.post("/_control/reset", name="control_reset")
    @control
    def reset(request: Request) -> dict[str, Any]:
        state.reset()
        return {"reset": True}

    @bp.get("/_control/stats", name="control_stats")
    @control
    def stats(request: Request) -> dict[str, Any]:
        return state.stats()

    return bp
