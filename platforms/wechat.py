"""The WeChat mini-program server API: login, phone number, face verification, access token,
subscribe messages.

One client for the deployment's every use of the platform, below the contexts: ``auth/`` logs
people in, binds phone numbers and verifies faces with it; ``notify/`` sends subscribe messages
with it (``send_subscribe_message``). Its errors are
the platform's, told in Chinese as the phone shows them (``DomainError``), or ``WeChatError``
carrying an ``errcode`` the caller maps itself.

One access token serves the whole deployment. It lives in Redis, is obtained with
``stable_token`` (which, unlike ``/cgi-bin/token``, does not invalidate the token other servers
hold), and is refreshed by one caller at a time under a Redis lock. A call answered with 40001 or
42001 refreshes once and is retried once.

``jscode2session`` goes through wechatpy, which is synchronous (requests): it runs in a thread so
the event loop never blocks. wechatpy 1.8.18 has no phone-number or face-verification API, so
those, and ``stable_token``, are called with the async HTTP client.

What the platform's pages require and this module does: the user's ``openid`` goes with every
phone-number code (WeChat then checks the code was issued to that user); face verification's
``out_seq_no`` is 5–32 characters of ``[0-9A-Za-z_-]``, new for every attempt, and its
``cert_hash`` is the documented digest of the ``cert_info`` given to ``getverifyid``
(``cert_hash``); code2Session's 40226 is a user WeChat's risk control blocks, told as such.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis

from core.errors import DomainError, RateLimited, ServiceUnavailable
from core.locks import RedisLock
from core.settings import Settings

log = logging.getLogger("zhangban.wechat")

TOKEN_INVALID_CODES = frozenset({40001, 42001})
#: Refresh this long before WeChat's own expiry, so no request carries a dying token.
TOKEN_MARGIN_S = 300
LOCK_TTL_MS = 10_000
#: code2Session: "高风险等级用户，小程序登录拦截" (errmsg "code blocked").
LOGIN_BLOCKED = 40226
#: The certificate type of a resident ID card in ``cert_info``.
CERT_TYPE_ID_CARD = "IDENTITY_CARD"
#: getVerifyId: "5-32个字符内，只能包含数字、大小写字母和_-字符，且在同一个appid下唯一".
OUT_SEQ_NO_PATTERN = re.compile(r"[0-9A-Za-z_-]{5,32}")
#: How long a verify_id lets the phone start the face check ("过期后无法发起核身").
FACE_VERIFY_TTL_S = 3600


def cert_hash(*, cert_type: str, cert_name: str, cert_no: str) -> str:
    """``cert_hash`` of queryVerifyInfo, from the ``cert_info`` given to getVerifyId.

    The documented formula: each of cert_type, cert_name and cert_no base64-encoded (standard
    alphabet, UTF-8 bytes), joined as ``cert_type=<b64>&cert_name=<b64>&cert_no=<b64>``, then
    SHA-256 as lower-case hex. WeChat recomputes it and answers an errcode, not a face result,
    when it differs, so a wrong formula fails every L2 verification.
    """
    joined = "&".join(
        f"{key}={base64.b64encode(value.encode('utf-8')).decode('ascii')}"
        for key, value in (("cert_type", cert_type), ("cert_name", cert_name), ("cert_no", cert_no))
    )
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def new_out_seq_no() -> str:
    """A fresh ``out_seq_no``: 32 hex characters, inside the documented shape and never reused."""
    return secrets.token_hex(16)


def is_valid_out_seq_no(value: str) -> bool:
    return OUT_SEQ_NO_PATTERN.fullmatch(value) is not None


class LoginCodeInvalid(DomainError):
    status = 400
    code = "auth.login_code_invalid"
    message = "登录凭证无效或已使用，请重新打开小程序登录。"


class PhoneCodeInvalid(DomainError):
    status = 400
    code = "auth.phone_code_invalid"
    message = "手机号授权已失效，请重新授权。"


class WeChatUserBlocked(DomainError):
    """code2Session 40226: WeChat's risk control blocks this user; retrying will not help."""

    status = 403
    code = "auth.wechat_user_blocked"
    message = (
        "您的微信账号被微信安全系统判定存在风险，暂时无法登录本小程序，重试也无法解决。"
        "请在微信“我—设置—账号与安全—微信安全中心”中查看并按提示处理，"
        "或携带身份证到政务服务大厅窗口办理。"
    )


class WeChatUnavailable(ServiceUnavailable):
    code = "wechat.unavailable"
    message = "微信服务暂时繁忙，请稍后再试。"


class WeChatError(Exception):
    """A WeChat ``errcode`` this adapter does not translate; callers map what they expect."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"wechat errcode {errcode}: {errmsg}")


@dataclass(frozen=True)
class Session:
    openid: str
    session_key: str
    unionid: str | None


@dataclass(frozen=True)
class PhoneNumber:
    phone_number: str
    pure_phone_number: str
    country_code: str


class WeChatClient:
    def __init__(self, *, settings: Settings, redis: Redis, http: httpx.AsyncClient) -> None:
        self._appid = settings.wechat_appid
        self._secret = settings.wechat_secret
        self._base = settings.effective_wechat_api_base
        self._redis = redis
        self._http = http
        self._local_lock = asyncio.Lock()
        self._token_key = f"wechat:access_token:{self._appid}"
        self._sdk_client: Any = None
        self._lock_key = f"wechat:access_token_lock:{self._appid}"

    # -- access token ------------------------------------------------------------------------

    async def access_token(self) -> str:
        cached = await self._cached_token()
        if cached is not None:
            return cached
        return await self._refresh(stale=None)

    async def _cached_token(self) -> str | None:
        raw = await self._redis.get(self._token_key)
        if not raw:
            return None
        entry = json.loads(raw)
        if entry["expires_at"] - TOKEN_MARGIN_S <= time.time():
            return None
        return str(entry["token"])

    async def _stable_token(self, *, force: bool) -> dict[str, Any]:
        body = {
            "grant_type": "client_credential",
            "appid": self._appid,
            "secret": self._secret,
            "force_refresh": force,
        }
        return await self._post_json("/cgi-bin/stable_token", body)

    async def _refresh(self, *, stale: str | None) -> str:
        """Get a fresh token, one caller at a time across every worker.

        ``stale`` is a token WeChat just refused: if the cache already holds another one, a peer
        refreshed it meanwhile and that one is used.
        """
        lock = RedisLock(self._redis, self._lock_key, ttl_ms=LOCK_TTL_MS)
        async with self._local_lock:
            deadline = time.monotonic() + LOCK_TTL_MS / 1000
            while True:
                cached = await self._cached_token()
                if cached is not None and cached != stale:
                    return cached
                if await lock.acquire():
                    break
                if time.monotonic() > deadline:
                    raise WeChatUnavailable(details={"reason": "access token lock timeout"})
                await asyncio.sleep(0.05)
            try:
                cached = await self._cached_token()
                if cached is not None and cached != stale:
                    return cached
                data = await self._stable_token(force=False)
                if stale is not None and data["access_token"] == stale:
                    # WeChat still hands out the token it refuses: only now spend a forced
                    # refresh (20 a day). A token replaced elsewhere (40001) or expired (42001)
                    # is replaced by the plain call.
                    data = await self._stable_token(force=True)
                token = str(data["access_token"])
                entry = {"token": token, "expires_at": time.time() + int(data["expires_in"])}
                await self._redis.set(
                    self._token_key, json.dumps(entry), ex=max(int(data["expires_in"]), 1)
                )
                log.info("wechat access token refreshed")
                return token
            finally:
                # Only our own lock: it may have expired and been taken by another worker.
                await lock.release()

    async def _call_with_token(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self.access_token()
        for attempt in range(2):
            try:
                return await self._post_json(path, body, params={"access_token": token})
            except WeChatError as exc:
                if exc.errcode in TOKEN_INVALID_CODES and attempt == 0:
                    token = await self._refresh(stale=token)
                    continue
                raise
        raise AssertionError("unreachable")

    # -- transport ---------------------------------------------------------------------------

    async def _post_json(
        self, path: str, body: dict[str, Any], params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        # The path only: the query carries the access token (httpx's own URL log is silenced).
        log.debug("wechat call", extra={"path": path})
        try:
            response = await self._http.post(
                f"{self._base}{path}",
                params=params,
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"content-type": "application/json"},
            )
            response.raise_for_status()
            data: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("wechat call failed", extra={"path": path, "error": type(exc).__name__})
            raise WeChatUnavailable() from exc
        return _checked(data)

    # -- APIs --------------------------------------------------------------------------------

    async def code_to_session(self, code: str) -> Session:
        """``jscode2session`` through wechatpy (in a thread: it is synchronous)."""
        try:
            data = await asyncio.to_thread(self._code_to_session_blocking, code)
        except WeChatError as exc:
            if exc.errcode in (40029, 40163):
                raise LoginCodeInvalid(details={"errcode": exc.errcode}) from None
            if exc.errcode == 45011:
                raise RateLimited(60, "登录过于频繁，请一分钟后再试。") from None
            if exc.errcode == LOGIN_BLOCKED:
                log.info("wechat login blocked: high-risk user", extra={"errcode": exc.errcode})
                raise WeChatUserBlocked(details={"errcode": exc.errcode}) from None
            raise WeChatUnavailable(details={"errcode": exc.errcode}) from None
        return Session(
            openid=str(data["openid"]),
            session_key=str(data["session_key"]),
            unionid=data.get("unionid"),
        )

    def _sdk(self) -> Any:
        """One wechatpy client per worker, so its HTTP session keeps connections alive.

        ``jscode2session`` authenticates with the AppID and AppSecret, not with an access token:
        the client is told it has none, so it neither fetches one (from a hard-coded host) nor
        sends ours along (requests drops a ``None`` parameter).
        """
        if self._sdk_client is None:
            # Deferred: wechatpy (and requests) take 0.2 s to import and only code2session
            # needs them, so a worker or a command that logs nobody in never loads them.
            from wechatpy import WeChatClient as SdkClient

            class _NoTokenClient(SdkClient):
                @property
                def access_token(self) -> None:
                    return None

            client = _NoTokenClient(self._appid, self._secret, timeout=10)
            # The SDK's hosts are fixed; point both the client and its wxa API at our base.
            client.API_BASE_URL = f"{self._base}/cgi-bin/"
            client.wxa.API_BASE_URL = f"{self._base}/"
            self._sdk_client = client
        return self._sdk_client

    def _code_to_session_blocking(self, code: str) -> dict[str, Any]:
        # Deferred with the SDK itself (see ``_sdk``).
        from requests import RequestException  # deferred, as above
        from wechatpy.exceptions import WeChatClientException  # deferred, as above

        try:
            result: dict[str, Any] = self._sdk().wxa.code_to_session(code)
        except (RequestException, ValueError) as exc:
            # WeChat not reached, or no JSON back: busy (-1), as for the token and the phone.
            raise WeChatError(-1, type(exc).__name__) from None
        except WeChatClientException as exc:
            # Network failures carry no errcode: they count as -1 (busy), like WeChat's own.
            errcode = int(getattr(exc, "errcode", None) or -1)
            raise WeChatError(errcode, str(getattr(exc, "errmsg", ""))) from None
        return result

    async def phone_number(self, code: str, *, openid: str) -> PhoneNumber:
        """The number behind a ``getPhoneNumber`` code that user ``openid`` got on their phone.

        The openid makes WeChat check that the code was issued to that user, so a code tapped
        on someone else's phone cannot bind their number to this account.
        """
        body = {"code": code, "openid": openid}
        try:
            data = await self._call_with_token("/wxa/business/getuserphonenumber", body)
        except WeChatError as exc:
            if exc.errcode in (40029, 40163):
                raise PhoneCodeInvalid(details={"errcode": exc.errcode}) from None
            if exc.errcode == 40003:  # the code belongs to another user
                log.info("wechat phone code of another openid", extra={"errcode": exc.errcode})
                raise PhoneCodeInvalid(details={"errcode": exc.errcode}) from None
            raise WeChatUnavailable(details={"errcode": exc.errcode}) from None
        info = data["phone_info"]
        if info.get("watermark", {}).get("appid") not in (None, self._appid):
            raise PhoneCodeInvalid(details={"reason": "watermark appid"})
        return PhoneNumber(
            phone_number=str(info["phoneNumber"]),
            pure_phone_number=str(info["purePhoneNumber"]),
            country_code=str(info["countryCode"]),
        )

    async def face_verify_id(
        self, *, out_seq_no: str, name: str, id_number: str, openid: str
    ) -> str:
        """A verify_id for ``wx.requestFacialVerify``, bound to this identity and user."""
        if not is_valid_out_seq_no(out_seq_no):
            raise ValueError("out_seq_no must be 5-32 characters of [0-9A-Za-z_-]")
        body = {
            "out_seq_no": out_seq_no,
            "cert_info": {"cert_type": CERT_TYPE_ID_CARD, "cert_name": name, "cert_no": id_number},
            "openid": openid,
        }
        try:
            data = await self._call_with_token("/cityservice/face/identify/getverifyid", body)
        except WeChatError as exc:
            log.warning("wechat getverifyid refused", extra={"errcode": exc.errcode})
            raise WeChatUnavailable(details={"errcode": exc.errcode}) from None
        return str(data["verify_id"])

    async def face_result(
        self, *, verify_id: str, out_seq_no: str, name: str, id_number: str, openid: str
    ) -> int:
        """``verify_ret`` of our own server-side query: 10000 means the face matched.

        ``name`` and ``id_number`` must be those given to ``face_verify_id``: WeChat checks the
        ``cert_hash`` made from them against that call's ``cert_info``.
        """
        body = {
            "verify_id": verify_id,
            "out_seq_no": out_seq_no,
            "cert_hash": cert_hash(cert_type=CERT_TYPE_ID_CARD, cert_name=name, cert_no=id_number),
            "openid": openid,
        }
        try:
            data = await self._call_with_token("/cityservice/face/identify/queryverifyinfo", body)
        except WeChatError as exc:
            # An errcode here (not a verify_ret) means the query itself was refused: an expired
            # verify_id, or arguments that do not match getverifyid's (our mistake).
            log.warning("wechat queryverifyinfo refused", extra={"errcode": exc.errcode})
            raise WeChatUnavailable(details={"errcode": exc.errcode}) from None
        return int(data["verify_ret"])

    async def send_subscribe_message(
        self,
        *,
        openid: str,
        template_id: str,
        data: Mapping[str, str],
        page: str,
        miniprogram_state: str,
        lang: str = "zh_CN",
    ) -> int:
        """``subscribeMessage.send``; the ``msgid``. ``WeChatError`` carries WeChat's refusal
        (43101 no consent left, 47003 a value, 40003 the openid, 40037 the template, 41030 the
        page, -1 busy) for the caller to map; ``WeChatUnavailable`` means WeChat was not
        reached or did not answer (its ``__cause__`` says whether the request may have arrived:
        a read timeout)."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
            "miniprogram_state": miniprogram_state,
            "lang": lang,
        }
        if page:
            body["page"] = page
        answer = await self._call_with_token("/cgi-bin/message/subscribe/send", body)
        return int(answer.get("msgid") or 0)


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    errcode = int(data.get("errcode", 0) or 0)
    if errcode:
        raise WeChatError(errcode, str(data.get("errmsg", "")))
    return data
