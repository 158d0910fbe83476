"""Values cut and formatted to each channel's field rules, so that a send is never refused for
its shape.

WeChat checks a subscribe message's every value against the type its key's prefix names
(``thing1`` is a ``thing``) and answers 47003 for one that breaks the rule, losing the message.
The rules (PROTOCOLS.md, the sendMessage page): ``thing`` ≤ 20 characters; ``number`` ≤ 32
digits (a decimal point allowed); ``letter`` ≤ 32 letters; ``symbol`` ≤ 5; ``character_string``
≤ 32 of digits, letters and symbols; ``time`` 24-hour ``HH:MM``; ``date`` ``2026年11月22日`` with
an optional time; ``amount`` a currency sign and ≤ 10 digits, may end in 元; ``phone_number``
≤ 17 digits and symbols; ``car_number`` ≤ 8; ``name`` ≤ 10 Chinese characters or 20 letters;
``phrase`` ≤ 5 Chinese characters; no newline anywhere.

SMS providers take registered templates whose variables are plain text of limited length; a
newline or a link in a variable is refused too.

Everything here is pure: values in, text out.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Final

from core.clock import LOCAL_TZ

Value = str | int | date | datetime

#: The WeChat value types, by key prefix, longest first (``character_string`` before ``car``).
WECHAT_TYPES: Final = (
    "character_string",
    "phone_number",
    "car_number",
    "amount",
    "number",
    "letter",
    "symbol",
    "phrase",
    "thing",
    "time",
    "date",
    "name",
)
_KEY = re.compile(r"([a-z_]+?)([0-9]+)")

THING_MAX = 20
STRING_MAX = 32
PHRASE_MAX = 5
NAME_CJK_MAX = 10
NAME_LATIN_MAX = 20
SYMBOL_MAX = 5
PHONE_MAX = 17
CAR_MAX = 8
AMOUNT_DIGITS_MAX = 10
#: An SMS template variable (Alibaba Cloud: 35 characters for most variable types).
SMS_VALUE_MAX = 35

ELLIPSIS = "…"
_CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_RANGES}]")
_ASCII_PRINTABLE = re.compile(r"[^\x21-\x7e]")


#: A batched message's count, filled when the batch is sent (``notify.ledger.Sender``).
COUNT_PLACEHOLDER = "{count}"


class FormatError(ValueError):
    """A value that cannot be shown in a field of that type at all (a programming mistake:
    an amount that is not a number). Raised at publish time, never at send time."""


def wechat_type(key: str) -> str:
    """The value type a template key names: ``thing12`` → ``thing``."""
    match = _KEY.fullmatch(key)
    if match is None or match.group(1) not in WECHAT_TYPES:
        raise FormatError(f"template key {key!r} names no WeChat value type")
    return match.group(1)


def plain(text: str) -> str:
    """One line of visible text: newlines and other control characters become spaces, emoji
    and other symbols outside the basic planes are dropped (WeChat refuses them in several
    types and shows them as boxes on older phones), runs of spaces collapse."""
    kept = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cs", "Co", "Cn", "Cf") or ord(char) > 0xFFFF or category == "So":
            continue
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters; a cut value ends in an ellipsis, so the reader knows."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def _local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ) if value.tzinfo else value


def format_date(value: Value) -> str:
    if isinstance(value, datetime):
        local = _local(value)
        return f"{local:%Y年%m月%d日} {local:%H:%M}"
    if isinstance(value, date):
        return f"{value:%Y年%m月%d日}"
    raise FormatError("a date field takes a date or a datetime")


def format_amount(fen: Value) -> str:
    """Integer fen as yuan with two decimals, after the currency sign the ``amount`` type
    requires ("1个币种符号+10位以内纯数字，可带小数，结尾可带元"): ``1230`` → ``¥12.30元``."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise FormatError("an amount is a non-negative integer of fen")
    text = f"{fen // 100}.{fen % 100:02d}"
    if len(text.replace(".", "")) > AMOUNT_DIGITS_MAX:
        raise FormatError("an amount has at most 10 digits")
    return f"¥{text}元"


def wechat_value(key: str, value: Value) -> str:
    """``value`` as the field ``key`` accepts it; raises ``FormatError`` only when no faithful
    text exists (an amount that is not an amount)."""
    kind = wechat_type(key)
    if value == COUNT_PLACEHOLDER and kind == "number":
        return COUNT_PLACEHOLDER
    if kind == "date":
        return format_date(value)
    if kind == "time":
        if not isinstance(value, datetime):
            raise FormatError("a time field takes a datetime")
        return f"{_local(value):%H:%M}"
    if kind == "amount":
        return format_amount(value)
    text = plain(str(value))
    if kind == "thing":
        return cut(text, THING_MAX) or "-"
    if kind == "number":
        digits = re.sub(r"[^0-9.]", "", text)
        if not digits:
            raise FormatError(f"{key} takes a number")
        return digits[:STRING_MAX]
    if kind == "letter":
        return re.sub(r"[^A-Za-z]", "", text)[:STRING_MAX] or "-"
    if kind == "symbol":
        return text.replace(" ", "")[:SYMBOL_MAX] or "-"
    if kind == "character_string":
        return _ASCII_PRINTABLE.sub("", text)[:STRING_MAX] or "-"
    if kind == "phone_number":
        return re.sub(r"[^0-9+\-]", "", text)[:PHONE_MAX] or "-"
    if kind == "car_number":
        return text.replace(" ", "")[:CAR_MAX] or "-"
    if kind == "name":
        # A Chinese name (masks keep their ``*``) or a Latin one; nothing else is a name.
        if _CJK.search(text):
            return re.sub(rf"[^{_CJK_RANGES}*·]", "", text)[:NAME_CJK_MAX]
        latin = " ".join(re.sub(r"[^A-Za-z .]", "", text).split())[:NAME_LATIN_MAX]
        return latin or "用户"
    # phrase: Chinese characters only, five at most (a status: 已受理, 待缴费)
    chinese = "".join(_CJK.findall(text))
    if not chinese:
        raise FormatError(f"{key} takes up to five Chinese characters")
    return chinese[:PHRASE_MAX]


def sms_value(value: Value) -> str:
    """A template variable: one line, no link-like text the carriers refuse, cut to length."""
    if isinstance(value, datetime):
        text = f"{_local(value):%m月%d日%H:%M}"
    elif isinstance(value, date):
        text = f"{value:%m月%d日}"
    else:
        text = plain(str(value))
    # Carriers refuse variables that carry links; ours never should, a free text might.
    text = re.sub(r"(?i)https?://\S+", "", text).strip()
    return cut(text, SMS_VALUE_MAX) or "-"
