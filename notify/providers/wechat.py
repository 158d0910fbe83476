"""The WeChat subscribe message as a channel (``subscribeMessage.send``), through the one
WeChat client and its one access token.

WeChat offers no way to ask whether a message arrived: ``lookup`` answers ``unknown``, so a send
interrupted by a crash is recorded as uncertain rather than risked twice.
"""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from notify.providers.base import Envelope, Known, Outcome, SendResult
from platforms.wechat import WeChatClient, WeChatError, WeChatUnavailable

#: Answers that a later try may turn into a send: -1 system busy, 45009/45011 rate limits.
TRANSIENT_CODES = frozenset({-1, 45009, 45011})
#: "user refuse to accept the msg": no acceptance left for this template (or never given).
NO_CONSENT = 43101
#: "argument invalid! data.thing1.value invalid": the field WeChat refused.
_FIELD = re.compile(r"data\.([a-z_]+[0-9]+)\.value")


class WeChatSubscribe:
    name = "wechat"

    def __init__(self, client: WeChatClient, *, miniprogram_state: str, lang: str = "zh_CN"):
        self._client = client
        self._state = miniprogram_state
        self._lang = lang

    async def send(self, envelope: Envelope) -> SendResult:
        try:
            msgid = await self._client.send_subscribe_message(
                openid=envelope.address,
                template_id=envelope.template,
                data=envelope.fields,
                page=envelope.page,
                miniprogram_state=self._state,
                lang=self._lang,
            )
        except WeChatError as exc:
            code = str(exc.errcode)
            if exc.errcode == NO_CONSENT:
                return SendResult(Outcome.no_consent, code, exc.errmsg)
            if exc.errcode in TRANSIENT_CODES:
                return SendResult(Outcome.transient, code, exc.errmsg)
            found = _FIELD.search(exc.errmsg)
            return SendResult(
                Outcome.permanent, code, exc.errmsg, field=found.group(1) if found else ""
            )
        except WeChatUnavailable as exc:
            return SendResult(Outcome.transient, _unreached_code(exc.__cause__), "not reached")
        return SendResult(Outcome.sent, "0", "ok", reference=str(msgid) if msgid else "")

    async def lookup(self, envelope: Envelope, *, sent_at: datetime) -> Known:
        return Known.unknown


def _unreached_code(cause: BaseException | None) -> str:
    """``timeout`` when the request may have arrived (WeChat did not answer in time): the
    caller then treats the message as possibly delivered."""
    if isinstance(cause, httpx.ConnectTimeout | httpx.ConnectError):
        return "unreachable"
    if isinstance(cause, httpx.TimeoutException):
        return "timeout"
    if isinstance(cause, httpx.HTTPStatusError):
        return f"http_{cause.response.status_code}"
    return "unreachable"
