"""The WeChat mini-program server API, as a local HTTP peer (base ``/sandbox/wechat``).

Paths, fields and error codes are the real platform's (``PROTOCOLS.md`` and the platform's own
pages: code2Session, getStableAccessToken, getAccessToken, getPhoneNumber, getVerifyId,
queryVerifyInfo, sendMessage and the phone's wx.requestSubscribeMessage), so an adapter pointed
at ``<server>/sandbox/wechat`` instead of ``https://api.weixin.qq.com`` runs unchanged. Like the
platform, every answer is HTTP 200 and an error is ``{"errcode", "errmsg"}`` whose ``errmsg``
ends in `` rid: …``; adapters must branch on ``errcode``, never on the text. The peer enforces
every rule the documentation states: a lenient peer would hide the adapter's mistakes until they
met the real platform.

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

Subscribe messages (``POST /cgi-bin/message/subscribe/send``), written from the sendMessage page
(``developers.weixin.qq.com/miniprogram/dev/server/API/mp-message-management/subscribe-message/
api_sendmessage.html``, formerly ``…/OpenApiDoc/…/sendMessage.html``: fields, "其他说明" /
"注意事项" and the error codes) and the phone's ``wx.requestSubscribeMessage`` page
(``developers.weixin.qq.com/miniprogram/dev/api/open-api/subscribe-message/
wx.requestSubscribeMessage.html``):

* ``touser`` empty or not an openid of this app: 40003; ``template_id`` empty or not a template
  of the app: 40037; ``page`` not a page of the mini-program: 41030 ("与 app.json 保持一致");
  ``miniprogram_state`` is developer|trial|formal (default formal), ``lang`` is
  zh_CN|en_US|zh_HK|zh_TW (default zh_CN);
* ``data`` is ``{key: {"value": …}}``. "每个模板参数都会以类型为前缀" (``thing1``,
  ``number01``…), and each value must follow the rule of its type, else 47003 whose errmsg names
  the field: ``argument invalid! data.<key>.value is empty`` or ``… invalid``. The rules
  ("订阅消息参数值内容限制说明"): thing ≤ 20 characters of Chinese, letters, digits or symbols;
  number ≤ 32, digits with an optional decimal part; letter ≤ 32 letters; symbol ≤ 5 symbols;
  character_string ≤ 32 digits, letters or symbols; time ``HH:MM[:SS]`` in 24 h, optionally after
  a date; date ``y年m月d日``, ``y年m月``, ``m月d日`` or joined by ``-``, ``/`` or ``.``
  (``2018-01-01``, ``2018/01/01``, ``2018.01.01``, ``2018-01``, ``01-01``), optionally followed
  by a time; time and date also take a span, two moments joined by ``~``; amount is one currency
  symbol then ≤ 10 digits, optionally with decimals, optionally ending in 元; phone_number ≤ 17
  digits or symbols; car_number ≤ 8, letters or digits except that the first and the last may be
  Chinese (粤A8Z888挂); name ≤ 10 Chinese characters, or ≤ 20 letters or symbols, Chinese mixed
  with letters counting as Chinese; phrase ≤ 5 Chinese characters only; enum one of the
  template's values. "符号表示除中文、英文、数字外的常见符号，不能带有换行等控制字符";
* consent comes from the phone: each ``accept`` of a one-time template allows one send of it
  (acceptances add up, and a send uses one), an ``accept`` of a long-term template allows any
  number; without one the send answers 43101 ("user refuse to accept the msg"). One call of
  ``wx.requestSubscribeMessage`` takes at most 5 templates ("一次调用最多可订阅5条消息"; the page
  said 3 until recently) of one kind ("一次性模板 id 和永久模板 id 不可同时使用"), and answers
  ``accept``, ``reject``, ``ban`` ("已被后台封禁": WeChat has banned the template) or ``filter``
  (another template of the call has the same title) per template; the phone's failures are its
  own errCodes (10001 empty, 20001 unknown template, 20002 mixed kinds, 20003 too many);
* a banned template answers 43107 ("检查模板id对应的模板是否被封禁"); two sends to one user at
  the same time answer 43108 ("并发下发消息给同一个粉丝"); a busy platform answers -1 ("system
  error", "系统繁忙，此时请开发者稍候再试");
* success is ``{"errcode": 0, "errmsg": "ok", "msgid": <int>}``.

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

Choices where the platform is silent (subscribe messages):

* "characters" are Unicode code points (Python's ``len``): one Chinese character, even outside
  the BMP, is one character. Chinese means the CJK ideograph blocks (basic, extension A to H,
  compatibility); letters are ASCII letters and digits ASCII digits (full-width ones are
  neither); a symbol is the ASCII space or a punctuation or symbol character (Unicode P* or S*)
  of the BMP. Emoji are not "常见符号": anything above U+FFFF other than a Chinese character, and
  the Miscellaneous Symbols, Dingbats and Miscellaneous Symbols and Arrows blocks
  (U+2600–U+27BF, U+2B00–U+2BFF), are refused in every type, as are control and format
  characters, other spaces and non-ASCII letters;
* a value of white space only is "empty"; a ``value`` that is not a JSON string is "invalid"
  (the page says "any", but the rules are about text); attributes beside ``value`` (the old
  template messages' ``color``) are ignored; a ``data`` key that is not a keyword of the
  template is refused with ``argument invalid! data.<key> is not a keyword of the template``
  (checked after the template's own keys, which are checked in the template's order: the errmsg
  names the first bad one); ``data`` absent counts as ``{}``, ``data`` not an object is 47001;
* number: no sign, ``.`` only between digits, 32 characters including the point; amount: the
  currency symbol (one Unicode Sc character: ￥, ¥, $…) is required as the table writes it, no
  sign or thousands separator, and the 10 digits count the decimals too; name must hold a
  Chinese character or a letter; phone_number must hold a digit; time and date: hours 00–23 on
  two digits, minutes and seconds on two digits, month and day on one or two digits and a real
  calendar day (29 February without a year is allowed), one ASCII space between date and time, a
  time value needs a time of day, a span is exactly two moments around one ASCII ``~`` (a date
  span may end in a bare time);
* ``page``: absent, null or "" means no jump. Otherwise at most 1024 characters, its path (the
  part before ``?``) must be one of the pages set by ``_control/subscribe-pages``, or by default
  shaped like ``pages/<segment>[/<segment>…]`` (segments of ``[A-Za-z0-9_-]``), never with a
  leading ``/``; the query after ``?`` must be non-empty and hold no space or control character;
* a ``miniprogram_state`` or ``lang`` outside its list answers 40097 (invalid args); a body that
  is not a JSON object 47001; the checks run in this order: body, touser, template_id, page,
  miniprogram_state, lang, data, ban (43107), concurrent send (43108), consent (43101), so a
  refused send never uses an acceptance up;
* one-time acceptances never expire; ``reject`` leaves earlier one-time acceptances alone but
  ends a long-term one (43101: "如果用户之前曾经订阅过，则表示用户取消了订阅关系"); ``filter``
  gives nothing; ``ban`` bans the template for the whole app: every later request shows
  ``ban`` for it whatever the user does, its sends answer 43107, acceptances already given stay
  and work again once ``_control/subscribe-ban`` lifts the ban;
* the faults of ``_control/subscribe-faults`` strike each send call before anything else, even
  the token check, and each struck call counts down ``count``; ``slow`` delays every answer,
  refusals included;
* two sends are "at the same time" only while a ``slow`` fault holds a delivered send's answer:
  during that delay another send to the same user answers 43108 ("send to the same user
  concurrently") without delivering; 43107's errmsg is "template banned" (both texts are ours);
* a template has 2 to 5 keywords ("最多支持5个，最少2个关键词组合"), each a known type followed
  by digits, and an ``enum`` keyword needs its list of values; ``msgid`` is a 61-bit integer,
  unique while the peer runs; the peer keeps the last 100,000 delivered messages.

The ``_control/`` routes are not WeChat: they play the phone (log in, tap "allow phone number",
finish a face verification, answer a subscribe request) and the test (pre-program failures, mark
a user high-risk, lower a quota, expire tokens, move the clock, read call counts, define the
subscribe templates and pages, make the send API busy, slow or failing, read what was sent).
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import hashlib
import logging
import math
import re
import secrets
import string
import time
import unicodedata
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import wraps
from typing import Any, TypeGuard

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json

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
    40037: "invalid template_id",
    41030: "invalid page",
    43101: "user refuse to accept the msg",
    43107: "template banned",
    43108: "send to the same user concurrently",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    47001: "data format error",
    47003: "argument invalid!",
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
#: Counted like the APIs above, reported in ``stats()["subscribe"]``.
SUBSCRIBE_API = "subscribe_send"

#: wx.requestSubscribeMessage: "一次调用最多可订阅5条消息".
SUBSCRIBE_TEMPLATES_PER_CALL = 5
SUBSCRIBE_RESULTS = ("accept", "reject", "ban", "filter")
MINIPROGRAM_STATES = ("developer", "trial", "formal")
SUBSCRIBE_LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")
SUBSCRIBE_FAULT_MODES = ("normal", "busy", "slow", "failing")
SUBSCRIBE_SLOW_MAX_S = 60.0
#: Delivered messages kept for ``_control/subscribe-messages``; older ones are forgotten.
SUBSCRIBE_HISTORY = 100_000
SUBSCRIBE_PAGE_MAX_LENGTH = 1024
#: addWxaNewTemplate: "最多支持5个，最少2个关键词组合".
TEMPLATE_KEYS_MIN = 2
TEMPLATE_KEYS_MAX = 5
_TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TEMPLATE_KEY = re.compile(r"([a-z_]+)([0-9]+)")
_PAGE_PATH = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
_DEFAULT_PAGE_PATH = re.compile(r"pages(?:/[A-Za-z0-9_-]+)+")
#: What the phone's fail callback reports (wx.requestSubscribeMessage "错误码").
_SUBSCRIBE_FAILS = {
    10001: "TmplIds can't be empty",
    20001: "No template data return, verify the template id exist",
    20002: "Templates type must be same",
    20003: "Templates count out of max bounds",
}


# --- subscribe message values ("订阅消息参数值内容限制说明") ------------------------------


def _is_chinese(char: str) -> bool:
    """汉字: the CJK ideograph blocks (basic, extensions A to H, compatibility)."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x323AF
    )


def _is_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _is_symbol(char: str) -> bool:
    """符号: "除中文、英文、数字外的常见符号，不能带有换行等控制字符".

    The ASCII space, or a punctuation or symbol character of the BMP; emoji (above U+FFFF, and
    the pictograph blocks of the BMP) are not "common symbols"."""
    if char == " ":
        return True
    code = ord(char)
    if code > 0xFFFF or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF:
        return False
    return unicodedata.category(char)[0] in "PS"


def _made_of(value: str, *kinds: Callable[[str], bool]) -> bool:
    return all(any(kind(char) for kind in kinds) for char in value)


_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?元?")
_TIME_OF_DAY = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?")
#: "为y年m月d日，y年m月、m月d日格式，或者用‘-’、‘/’、‘.’符号连接，如2018-01-01，2018/01/01，
#: 2018.01.01，2018-01，01-01".
_DATE_FORMS = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日",
        r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月",
        r"(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日",
        r"(?P<y>[0-9]{4})(?P<s>[-/.])(?P<m>[0-9]{1,2})(?P=s)(?P<d>[0-9]{1,2})",
        r"(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})",
        r"(?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})",
    )
)


def _calendar_date(text: str) -> bool:
    """One of the documented date forms, and a day the calendar has (no 2018-02-30)."""
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match is None:
            continue
        parts = match.groupdict()
        month = int(parts["m"])
        if not 1 <= month <= 12:
            return False
        if parts.get("d") is None:
            return True
        year = int(parts["y"]) if parts.get("y") else 2000  # a leap year: 2月29日 is a day
        return 1 <= int(parts["d"]) <= calendar.monthrange(year, month)[1]
    return False


def _moment(text: str, *, date_first: bool) -> bool:
    """One moment: ``[date ]HH:MM[:SS]`` for a time value, ``date[ HH:MM[:SS]]`` for a date."""
    day, space, clock = text.partition(" ")
    if not space:
        if date_first:
            return _calendar_date(text)
        return _TIME_OF_DAY.fullmatch(text) is not None
    return _calendar_date(day) and _TIME_OF_DAY.fullmatch(clock) is not None


def _time_value(value: str) -> bool:
    """time: "24小时制时间格式（支持+年月日），支持填时间段，两个时间点之间用“~”符号连接"."""
    moments = value.split("~")
    return len(moments) <= 2 and all(_moment(m, date_first=False) for m in moments)


def _date_value(value: str) -> bool:
    """date: "年月日格式（支持+24小时制时间），支持填时间段，两个时间点之间用“~”符号连接"."""
    moments = value.split("~")
    if len(moments) == 1:
        return _moment(value, date_first=True)
    if len(moments) != 2:
        return False
    start, end = moments
    if not _moment(start, date_first=True):
        return False
    return _moment(end, date_first=True) or (
        " " in start and _TIME_OF_DAY.fullmatch(end) is not None
    )


def _amount_value(value: str) -> bool:
    """amount: "1个币种符号+10位以内纯数字，可带小数，结尾可带“元”"."""
    if unicodedata.category(value[0]) != "Sc":
        return False
    match = _AMOUNT.fullmatch(value[1:])
    return match is not None and len(match.group(1)) + len(match.group(2) or "") <= 10


def _car_number_value(value: str) -> bool:
    """car_number: "8位以内，第一位与最后一位可为汉字，其余为字母或数字" (粤A8Z888挂)."""

    def alnum(char: str) -> bool:
        return _is_letter(char) or _is_digit(char)

    ends = (value[0], value[-1])
    return (
        len(value) <= 8
        and all(alnum(char) or _is_chinese(char) for char in ends)
        and all(alnum(char) for char in value[1:-1])
    )


def _name_value(value: str) -> bool:
    """name: "10个以内纯汉字或20个以内纯字母或符号 … 中文和字母混合按中文名算，10个字内"."""
    if not _made_of(value, _is_chinese, _is_letter, _is_symbol):
        return False
    if any(_is_chinese(char) for char in value):
        return len(value) <= 10
    return len(value) <= 20 and any(_is_letter(char) for char in value)


#: The value rule of each keyword type but ``enum``, for a non-empty value.
_VALUE_RULES: dict[str, Callable[[str], bool]] = {
    "thing": lambda v: len(v) <= 20 and _made_of(v, _is_chinese, _is_letter, _is_digit, _is_symbol),
    "number": lambda v: len(v) <= 32 and _NUMBER.fullmatch(v) is not None,
    "letter": lambda v: len(v) <= 32 and _made_of(v, _is_letter),
    "symbol": lambda v: len(v) <= 5 and _made_of(v, _is_symbol),
    "character_string": lambda v: len(v) <= 32 and _made_of(v, _is_letter, _is_digit, _is_symbol),
    "time": _time_value,
    "date": _date_value,
    "amount": _amount_value,
    "phone_number": lambda v: (
        len(v) <= 17 and _made_of(v, _is_digit, _is_symbol) and any(map(_is_digit, v))
    ),
    "car_number": _car_number_value,
    "name": _name_value,
    "phrase": lambda v: len(v) <= 5 and _made_of(v, _is_chinese),
}
#: "每个模板参数都会以类型为前缀": the types the sendMessage page lists.
SUBSCRIBE_KEY_TYPES = (*_VALUE_RULES, "enum")


@dataclass(frozen=True)
class SubscribeTemplate:
    """A subscribe-message template of the mini-program, as the MP console holds it.

    ``keys`` are its keywords in display order (``thing1``, ``time2``…); a ``long_term`` one
    ("长期性订阅") may be sent any number of times after one acceptance; ``enums`` gives the
    allowed values of each ``enum`` keyword."""

    keys: tuple[str, ...]
    long_term: bool = False
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _SentMessage:
    """A delivered message, compact: 100,000 of them stay in memory."""

    touser: str
    template_id: str
    page: str | None
    #: The template's keywords (shared with it) and their values, in the template's order.
    keys: tuple[str, ...]
    values: tuple[str, ...]
    miniprogram_state: str
    lang: str
    msgid: int
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "touser": self.touser,
            "template_id": self.template_id,
            "page": self.page,
            "data": {
                key: {"value": value} for key, value in zip(self.keys, self.values, strict=True)
            },
            "miniprogram_state": self.miniprogram_state,
            "lang": self.lang,
            "msgid": self.msgid,
            "at": self.at,
        }


@dataclass(frozen=True)
class _CheckedTemplate:
    template: SubscribeTemplate
    key_set: frozenset[str]
    #: (keyword, rule) in the template's order; the rule gets a non-empty value.
    rules: tuple[tuple[str, Callable[[str], bool]], ...]


def _checked_template(template_id: str, template: SubscribeTemplate) -> _CheckedTemplate:
    """The template ready for sends, or ValueError naming what the platform would not hold."""
    if not isinstance(template_id, str) or not _TEMPLATE_ID.fullmatch(template_id):
        raise ValueError("a template_id is 1-128 characters of [A-Za-z0-9_-]")
    keys = template.keys
    if not isinstance(keys, tuple) or not all(isinstance(key, str) for key in keys):
        raise ValueError(f"{template_id}: keys must be a list of strings")
    if not TEMPLATE_KEYS_MIN <= len(keys) <= TEMPLATE_KEYS_MAX or len(set(keys)) != len(keys):
        raise ValueError(
            f"{template_id}: a template has {TEMPLATE_KEYS_MIN} to {TEMPLATE_KEYS_MAX} "
            "different keywords"
        )
    if not isinstance(template.long_term, bool):
        raise ValueError(f"{template_id}: long_term must be a boolean")
    rules: list[tuple[str, Callable[[str], bool]]] = []
    enum_keys: set[str] = set()
    for key in keys:
        match = _TEMPLATE_KEY.fullmatch(key)
        if match is None or match.group(1) not in SUBSCRIBE_KEY_TYPES:
            raise ValueError(
                f"{template_id}: keyword {key!r} is not a type ({', '.join(SUBSCRIBE_KEY_TYPES)}) "
                "followed by digits"
            )
        if match.group(1) == "enum":
            enum_keys.add(key)
            allowed = template.enums.get(key)
            if not allowed or not all(
                isinstance(v, str) and v.strip() and v.isprintable() for v in allowed
            ):
                raise ValueError(f"{template_id}: {key} needs a list of printable values")
            rules.append((key, frozenset(allowed).__contains__))
        else:
            rules.append((key, _VALUE_RULES[match.group(1)]))
    extra = sorted(set(template.enums) - enum_keys)
    if extra:
        raise ValueError(f"{template_id}: enums given for keys that are not enum keywords: {extra}")
    return _CheckedTemplate(template=template, key_set=frozenset(keys), rules=tuple(rules))


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

    def __init__(self, errcode: int, detail: str = "", *, errmsg: str | None = None) -> None:
        self.errcode = errcode
        base = ERRMSG.get(errcode, "system error")
        if errmsg is not None:
            # The platform's own wording, e.g. "argument invalid! data.thing1.value invalid".
            self.errmsg = errmsg
        else:
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

    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        clock: Callable[[], float] = time.time,
        subscribe_templates: Mapping[str, SubscribeTemplate] | None = None,
        subscribe_history: int = SUBSCRIBE_HISTORY,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self._clock = clock
        if subscribe_history < 1:
            raise ValueError("subscribe_history must be at least 1")
        self._subscribe_history = subscribe_history
        #: What ``reset`` goes back to: the templates this mini-program was built with.
        self._initial_templates = {
            template_id: _checked_template(template_id, template)
            for template_id, template in (subscribe_templates or {}).items()
        }
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
        self._reset_subscribe()

    def _reset_subscribe(self) -> None:
        """Templates back to the constructor's; no pages, bans, grants, messages or faults."""
        self._templates: dict[str, _CheckedTemplate] = dict(self._initial_templates)
        self._banned_templates: set[str] = set()
        #: None: any path shaped like ``pages/…``.
        self._subscribe_pages: frozenset[str] | None = None
        #: openid → template_id → unused one-time acceptances (no zero entries).
        self._one_time: dict[str, Counter[str]] = {}
        #: openid → long-term templates accepted.
        self._long_term: dict[str, set[str]] = {}
        self._messages: deque[_SentMessage] = deque()
        self._messages_by_openid: dict[str, deque[_SentMessage]] = {}
        self._next_msgid = (1 << 60) + secrets.randbelow(1 << 59)
        self._fault_mode = "normal"
        #: Calls the fault still applies to; None: until set back to normal.
        self._fault_remaining: int | None = None
        self._fault_delay_s = 0.0
        #: Users with a delivered send whose answer a slow fault still holds.
        self._in_flight: Counter[str] = Counter()
        #: Bumped by every reset, so a send held across one does not touch the new state.
        self._generation = getattr(self, "_generation", 0) + 1

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
        """Call counts per API, for tests that check caching, refresh and quota behaviour.

        The send API's counts are in their own ``subscribe`` section, beside what it delivered,
        refused for want of consent (43101) and lost to a fault, so ``calls`` keeps its keys."""
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
            "subscribe": {
                "calls": self._calls[SUBSCRIBE_API],
                "errors": self._errors[SUBSCRIBE_API],
                "delivered": self._counters["subscribe_delivered"],
                "refused": self._counters["subscribe_refused"],
                "faults": self._counters["subscribe_faults"],
            },
        }

    def count(self, api: str, *, error: bool) -> None:
        self._calls[api] += 1
        if error:
            self._errors[api] += 1

    # --- control: subscribe messages ------------------------------------------------------

    def set_subscribe_templates(self, templates: Mapping[str, SubscribeTemplate]) -> None:
        """Add or replace templates (all or none: a bad one changes nothing)."""
        try:
            checked = {tid: _checked_template(tid, t) for tid, t in templates.items()}
        except ValueError as exc:
            raise ControlError(400, 40097, str(exc)) from None
        self._templates.update(checked)

    def subscribe_template_values(self) -> dict[str, Any]:
        return {
            template_id: {
                "keys": list(checked.template.keys),
                "long_term": checked.template.long_term,
                "enums": {key: list(values) for key, values in checked.template.enums.items()},
                "banned": template_id in self._banned_templates,
            }
            for template_id, checked in self._templates.items()
        }

    def set_subscribe_pages(self, pages: list[str] | None) -> list[str] | None:
        """The mini-program's pages (app.json), or None for the ``pages/…`` shape rule."""
        if pages is None:
            self._subscribe_pages = None
            return None
        for page in pages:
            if len(page) > SUBSCRIBE_PAGE_MAX_LENGTH or not _PAGE_PATH.fullmatch(page):
                raise ControlError(
                    400, 40097, f"page {page!r} is not a path of [A-Za-z0-9_-] segments"
                )
        self._subscribe_pages = frozenset(pages)
        return sorted(self._subscribe_pages)

    def set_template_banned(self, template_id: str, *, banned: bool) -> None:
        """WeChat's back office bans a template ("已被后台封禁"), or lifts the ban."""
        if template_id not in self._templates:
            raise ControlError(404, 40037, "template_id unknown to this app")
        if banned:
            self._banned_templates.add(template_id)
        else:
            self._banned_templates.discard(template_id)

    def request_subscribe(self, *, openid: str, results: Mapping[str, str]) -> dict[str, str]:
        """``wx.requestSubscribeMessage`` on the user's phone, the user answering ``results``.

        Returns what the success callback gets: ``errMsg`` and one result per template, the
        one the phone shows (a banned template is ``ban`` whatever the user would have done).
        A call the phone refuses raises its fail errCode."""
        if openid not in self._unionids:
            raise ControlError(400, 40003, "openid unknown to this app: log the user in first")

        def fail(errcode: int) -> ControlError:
            return ControlError(
                400, errcode, f"requestSubscribeMessage:fail {_SUBSCRIBE_FAILS[errcode]}"
            )

        if not results:
            raise fail(10001)
        if len(results) > SUBSCRIBE_TEMPLATES_PER_CALL:
            raise fail(20003)
        for template_id, result in results.items():
            if result not in SUBSCRIBE_RESULTS:
                raise ControlError(
                    400,
                    47001,
                    f"{template_id}: result must be one of {', '.join(SUBSCRIBE_RESULTS)}",
                )
            if template_id not in self._templates:
                raise fail(20001)
        if len({self._templates[tid].template.long_term for tid in results}) > 1:
            raise fail(20002)
        answer = {"errMsg": "requestSubscribeMessage:ok"}
        for template_id, result in results.items():
            long_term = self._templates[template_id].template.long_term
            if result == "ban":
                self._banned_templates.add(template_id)
            if template_id in self._banned_templates:
                answer[template_id] = "ban"
                continue
            if result == "accept":
                if long_term:
                    self._long_term.setdefault(openid, set()).add(template_id)
                else:
                    self._one_time.setdefault(openid, Counter())[template_id] += 1
            elif result == "reject" and long_term:
                # The user turned the long-term subscription off.
                accepted = self._long_term.get(openid)
                if accepted is not None:
                    accepted.discard(template_id)
                    if not accepted:
                        del self._long_term[openid]
            answer[template_id] = result
        return answer

    def subscribe_grants(self, openid: str) -> dict[str, Any]:
        """What ``openid`` may still be sent: unused one-time acceptances, long-term ones."""
        if openid not in self._unionids:
            raise ControlError(400, 40003, "openid unknown to this app: log the user in first")
        return {
            "openid": openid,
            "one_time": dict(sorted(self._one_time.get(openid, Counter()).items())),
            "long_term": sorted(self._long_term.get(openid, set())),
        }

    def subscribe_messages(
        self,
        *,
        openid: str | None = None,
        template_id: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Delivered messages, oldest first (the newest ``limit`` of them when given)."""
        source: deque[_SentMessage] | tuple[()] = (
            self._messages if openid is None else self._messages_by_openid.get(openid, ())
        )
        found = [m for m in source if template_id is None or m.template_id == template_id]
        return [m.as_dict() for m in (found[-limit:] if limit is not None else found)]

    def set_subscribe_fault(
        self, *, mode: str, count: int = 0, delay_s: float | None = None
    ) -> dict[str, Any]:
        """How the next ``count`` sends (0: every send until ``normal``) go wrong.

        ``busy``: -1 without delivering; ``slow``: delivered, answered ``delay_s`` later;
        ``failing``: HTTP 502 with an HTML body, without delivering."""
        if mode not in SUBSCRIBE_FAULT_MODES:
            raise ControlError(
                400, 40097, f"mode must be one of {', '.join(SUBSCRIBE_FAULT_MODES)}"
            )
        if count < 0:
            raise ControlError(400, 40097, "count must be a non-negative integer")
        if mode == "slow":
            if delay_s is None or not (
                math.isfinite(delay_s) and 0 < delay_s <= SUBSCRIBE_SLOW_MAX_S
            ):
                raise ControlError(
                    400,
                    40097,
                    f"slow needs delay_s, more than 0 and at most {SUBSCRIBE_SLOW_MAX_S}",
                )
        elif delay_s is not None:
            raise ControlError(400, 40097, "delay_s goes with mode slow only")
        if mode == "normal" and count:
            raise ControlError(400, 40097, "normal takes no count")
        self._fault_mode = mode
        self._fault_remaining = count or None
        self._fault_delay_s = delay_s or 0.0
        return self.subscribe_fault_values()

    def subscribe_fault_values(self) -> dict[str, Any]:
        return {
            "mode": self._fault_mode,
            "count": self._fault_remaining or 0,
            "delay_s": self._fault_delay_s if self._fault_mode == "slow" else None,
        }

    def take_subscribe_fault(self) -> tuple[str, float]:
        """The fault for this send call (``normal`` when none), counting it down."""
        mode, delay_s = self._fault_mode, self._fault_delay_s
        if mode == "normal":
            return mode, 0.0
        self._counters["subscribe_faults"] += 1
        if self._fault_remaining is not None:
            self._fault_remaining -= 1
            if self._fault_remaining <= 0:
                self._fault_mode, self._fault_remaining, self._fault_delay_s = "normal", None, 0.0
        return mode, delay_s

    def hold_send(self, openid: str) -> int:
        """A delivered send whose answer is being held: sends to ``openid`` answer 43108."""
        self._in_flight[openid] += 1
        return self._generation

    def release_send(self, openid: str, generation: int) -> None:
        if generation != self._generation:
            return
        if self._in_flight[openid] > 1:
            self._in_flight[openid] -= 1
        else:
            self._in_flight.pop(openid, None)

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

    def subscribe_send(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """``POST /cgi-bin/message/subscribe/send`` (after the token check).

        Every per-send step is a dictionary look-up or bounded by the template's five keywords,
        so the peer keeps up with a load test."""
        if body is None:
            raise WeChatError(47001)
        touser = body.get("touser")
        if not isinstance(touser, str) or touser not in self._unionids:
            raise WeChatError(40003)
        template_id = body.get("template_id")
        checked = self._templates.get(template_id) if isinstance(template_id, str) else None
        if checked is None:
            raise WeChatError(40037)
        assert isinstance(template_id, str)
        page = self._subscribe_page(body.get("page"))
        mp_state = body.get("miniprogram_state")
        if mp_state is None:
            mp_state = "formal"
        elif mp_state not in MINIPROGRAM_STATES:
            raise WeChatError(40097, "miniprogram_state must be developer, trial or formal")
        lang = body.get("lang")
        if lang is None:
            lang = "zh_CN"
        elif lang not in SUBSCRIBE_LANGS:
            raise WeChatError(40097, "lang must be zh_CN, en_US, zh_HK or zh_TW")
        data = body.get("data")
        if data is None:
            data = {}
        elif not isinstance(data, dict):
            raise WeChatError(47001, "data must be an object")
        values = self._subscribe_values(checked, data)
        if template_id in self._banned_templates:
            raise WeChatError(43107)
        if self._in_flight.get(touser):
            raise WeChatError(43108)
        self._use_acceptance(touser, template_id)
        msgid = self._next_msgid
        self._next_msgid += 1
        self._record_message(
            _SentMessage(
                touser=touser,
                template_id=template_id,
                page=page,
                keys=checked.template.keys,
                values=values,
                miniprogram_state=mp_state,
                lang=lang,
                msgid=msgid,
                at=self.now(),
            )
        )
        self._counters["subscribe_delivered"] += 1
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _subscribe_page(self, page: Any) -> str | None:
        """The page the card opens, or None (no jump); 41030 when the app has no such page."""
        if page is None or page == "":
            return None
        if not isinstance(page, str) or len(page) > SUBSCRIBE_PAGE_MAX_LENGTH:
            raise WeChatError(41030)
        path, question, query = page.partition("?")
        if question and (not query or not query.isprintable() or " " in query):
            raise WeChatError(41030)
        if self._subscribe_pages is None:
            known = _DEFAULT_PAGE_PATH.fullmatch(path) is not None
        else:
            known = path in self._subscribe_pages
        if not known:
            raise WeChatError(41030)
        return page

    @staticmethod
    def _subscribe_values(checked: _CheckedTemplate, data: dict[str, Any]) -> tuple[str, ...]:
        """Each keyword's value in the template's order, or 47003 naming the first bad one
        (template order, then extra keys), with the platform's wording."""
        values: list[str] = []
        for key, rule in checked.rules:
            item = data.get(key)
            value = item.get("value") if isinstance(item, dict) else item
            if value is None or (isinstance(value, str) and not value.strip()):
                raise WeChatError(47003, errmsg=f"argument invalid! data.{key}.value is empty")
            if not isinstance(item, dict) or not isinstance(value, str) or not rule(value):
                raise WeChatError(47003, errmsg=f"argument invalid! data.{key}.value invalid")
            values.append(value)
        for key in data:
            if key not in checked.key_set:
                raise WeChatError(
                    47003, errmsg=f"argument invalid! data.{key} is not a keyword of the template"
                )
        return tuple(values)

    def _use_acceptance(self, openid: str, template_id: str) -> None:
        """A long-term acceptance, else one one-time acceptance, used up; else 43101."""
        if template_id in self._long_term.get(openid, ()):
            return
        counts = self._one_time.get(openid)
        if counts is None or counts[template_id] < 1:
            self._counters["subscribe_refused"] += 1
            raise WeChatError(43101)
        counts[template_id] -= 1
        if not counts[template_id]:
            del counts[template_id]
            if not counts:
                del self._one_time[openid]

    def _record_message(self, message: _SentMessage) -> None:
        """Append, forgetting the oldest beyond the history size (O(1): the oldest message is
        also the oldest of its user)."""
        if len(self._messages) >= self._subscribe_history:
            oldest = self._messages.popleft()
            of_user = self._messages_by_openid[oldest.touser]
            of_user.popleft()
            if not of_user:
                del self._messages_by_openid[oldest.touser]
        self._messages.append(message)
        self._messages_by_openid.setdefault(message.touser, deque()).append(message)


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


def _subscribe_template_from(template_id: str, spec: Any) -> SubscribeTemplate:
    """A ``_control/subscribe-templates`` entry as a template (its rules checked later)."""
    if not isinstance(spec, dict):
        raise ControlError(400, 47001, f"{template_id}: a template is an object")
    unknown = sorted(set(spec) - {"keys", "long_term", "enums"})
    if unknown:
        raise ControlError(400, 47001, f"{template_id}: unknown fields {unknown}")
    keys = spec.get("keys")
    long_term = spec.get("long_term", False)
    enums = spec.get("enums", {})
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise ControlError(400, 47001, f"{template_id}: keys must be a list of strings")
    if not isinstance(long_term, bool):
        raise ControlError(400, 47001, f"{template_id}: long_term must be a boolean")
    if not isinstance(enums, dict) or not all(isinstance(v, list) for v in enums.values()):
        raise ControlError(400, 47001, f"{template_id}: enums maps keywords to lists of values")
    return SubscribeTemplate(
        keys=tuple(keys),
        long_term=long_term,
        enums={key: tuple(values) for key, values in enums.items()},
    )


_BAD_GATEWAY = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


def wechat_blueprint(state: WeChatSandbox) -> Blueprint:
    """The platform's routes and the control routes, served from ``state``."""
    bp = Blueprint("sandbox_wechat", url_prefix="/sandbox/wechat")

    def error_answer(errcode: int, errmsg: str) -> dict[str, Any]:
        return {"errcode": errcode, "errmsg": f"{errmsg} rid: {_rid(state.now())}"}

    def platform(api: str) -> Callable[[Callable[[Request], dict[str, Any]]], Handler]:
        """Answer like the platform: HTTP 200 always, errors as errcode/errmsg, counted."""

        def decorate(fn: Callable[[Request], dict[str, Any]]) -> Handler:
            @wraps(fn)
            async def handler(request: Request) -> HTTPResponse:
                try:
                    payload = fn(request)
                except WeChatError as exc:
                    state.count(api, error=True)
                    return json(error_answer(exc.errcode, exc.errmsg))
                except Exception:
                    log.exception("sandbox wechat handler failed", extra={"api": api})
                    state.count(api, error=True)
                    return json(error_answer(-1, "system error"))
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

    @bp.post("/cgi-bin/message/subscribe/send", name="subscribe_send")
    async def subscribe_send(request: Request) -> HTTPResponse:
        """subscribeMessage.send, through the fault the test set (``_control/subscribe-faults``).

        Not ``platform``: a slow answer is awaited, and a failing gateway is not JSON."""
        mode, delay_s = state.take_subscribe_fault()
        if mode == "failing":
            state.count(SUBSCRIBE_API, error=True)
            return html(_BAD_GATEWAY, status=502)
        if mode == "busy":
            state.count(SUBSCRIBE_API, error=True)
            return json(error_answer(-1, ERRMSG[-1]))
        delivered_to: str | None = None
        try:
            state.check_access_token(request.args.get("access_token"))
            body = json_object(request)
            answer = state.subscribe_send(body)
            assert body is not None
            delivered_to = body["touser"]
        except WeChatError as exc:
            answer = error_answer(exc.errcode, exc.errmsg)
        except Exception:
            log.exception("sandbox wechat handler failed", extra={"api": SUBSCRIBE_API})
            answer = error_answer(-1, ERRMSG[-1])
        state.count(SUBSCRIBE_API, error=answer["errcode"] != 0)
        if mode == "slow":
            # Delivered (or refused) already; only the answer is late, so a client that gives
            # up meanwhile cannot know the message reached the user. The platform keeps the
            # send in hand for the whole delay even if the client hangs up (Sanic then cancels
            # this handler), hence a timer rather than a ``finally``.
            if delivered_to is not None:
                held = state.hold_send(delivered_to)
                asyncio.get_running_loop().call_later(
                    delay_s, state.release_send, delivered_to, held
                )
            await asyncio.sleep(delay_s)
        return json(answer)

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

    @bp.get("/_control/subscribe-templates", name="control_subscribe_templates")
    @control
    def subscribe_templates(request: Request) -> dict[str, Any]:
        return {"templates": state.subscribe_template_values()}

    @bp.put("/_control/subscribe-templates", name="control_set_subscribe_templates")
    @control
    def set_subscribe_templates(request: Request) -> dict[str, Any]:
        """Add or replace templates: ``{"templates": {id: {"keys", "long_term"?, "enums"?}}}``."""
        templates = control_body(request).get("templates")
        if not isinstance(templates, dict):
            raise ControlError(400, 47001, "templates must be an object of template_id: template")
        state.set_subscribe_templates(
            {tid: _subscribe_template_from(tid, spec) for tid, spec in templates.items()}
        )
        return {"templates": state.subscribe_template_values()}

    @bp.put("/_control/subscribe-pages", name="control_set_subscribe_pages")
    @control
    def set_subscribe_pages(request: Request) -> dict[str, Any]:
        """The mini-program's pages: ``{"pages": [path, …]}``, or ``null`` for ``pages/…``."""
        data = control_body(request)
        pages = data.get("pages", ...)
        if pages is not None and not (
            isinstance(pages, list) and all(isinstance(page, str) for page in pages)
        ):
            raise ControlError(400, 47001, "pages must be a list of paths, or null")
        return {"pages": state.set_subscribe_pages(pages)}

    @bp.post("/_control/subscribe", name="control_subscribe")
    @control
    def subscribe(request: Request) -> dict[str, Any]:
        """The user answers ``wx.requestSubscribeMessage``: ``{"openid", "results": {id: r}}``."""
        data = control_body(request)
        openid = data.get("openid")
        results = data.get("results")
        if not _valid_openid(openid):
            raise ControlError(400, 40003, "openid must be 1-64 characters of [A-Za-z0-9_-]")
        if not isinstance(results, dict):
            raise ControlError(400, 47001, "results must be an object of template_id: result")
        return state.request_subscribe(openid=openid, results=results)

    @bp.post("/_control/subscribe-ban", name="control_subscribe_ban")
    @control
    def subscribe_ban(request: Request) -> dict[str, Any]:
        """WeChat bans a template, or lifts the ban: ``{"template_id", "banned": true}``."""
        data = control_body(request)
        template_id = data.get("template_id")
        banned = data.get("banned", True)
        if not isinstance(template_id, str) or not isinstance(banned, bool):
            raise ControlError(400, 47001, "template_id (a string) and banned (a boolean)")
        state.set_template_banned(template_id, banned=banned)
        return {"template_id": template_id, "banned": banned}

    @bp.get("/_control/subscribe-grants", name="control_subscribe_grants")
    @control
    def subscribe_grants(request: Request) -> dict[str, Any]:
        openid = request.args.get("openid")
        if not _valid_openid(openid):
            raise ControlError(400, 40003, "openid must be 1-64 characters of [A-Za-z0-9_-]")
        return state.subscribe_grants(openid)

    @bp.post("/_control/subscribe-faults", name="control_subscribe_faults")
    @control
    def subscribe_faults(request: Request) -> dict[str, Any]:
        """``{"mode": normal|busy|slow|failing, "count": n (0: until normal), "delay_s"}``."""
        data = control_body(request)
        mode = data.get("mode")
        count = data.get("count", 0)
        delay_s = data.get("delay_s")
        if not isinstance(mode, str):
            raise ControlError(400, 47001, "mode must be a string")
        if isinstance(count, bool) or not isinstance(count, int):
            raise ControlError(400, 47001, "count must be an integer")
        if delay_s is not None and (
            isinstance(delay_s, bool) or not isinstance(delay_s, int | float)
        ):
            raise ControlError(400, 47001, "delay_s must be a number")
        return state.set_subscribe_fault(
            mode=mode, count=count, delay_s=None if delay_s is None else float(delay_s)
        )

    @bp.get("/_control/subscribe-messages", name="control_subscribe_messages")
    @control
    def subscribe_messages(request: Request) -> dict[str, Any]:
        """Delivered messages, oldest first: ``?openid=&template_id=&limit=`` (all optional)."""
        args = request.args
        limit_text = args.get("limit")
        limit: int | None = None
        if limit_text is not None:
            if not (limit_text.isascii() and limit_text.isdigit() and int(limit_text) > 0):
                raise ControlError(400, 47001, "limit must be a positive integer")
            limit = int(limit_text)
        messages = state.subscribe_messages(
            openid=args.get("openid"), template_id=args.get("template_id"), limit=limit
        )
        return {"messages": messages}

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
