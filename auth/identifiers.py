"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100).

These checks only catch typing mistakes before a paid real-name or registry call is made; they
say nothing about whether the person or the company exists.

python-stdnum supplies the check characters and the GB/T 2260 region table, but its whole-number
``validate`` is not used for ID numbers:

* ``stdnum.cn.ric.get_birth_place`` rejects a region code that was created after the birth year
  (``360426`` dates from 1983, so everyone from 德安县 born earlier would be refused), although
  the code comes from where the number was issued, which is often long after birth;
* for a known province with an unknown county (``360499``) it raises ``KeyError`` instead of a
  validation error;
* it checks the check digit first, while users are better served by hearing about a wrong
  birth date or region before a wrong last character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from stdnum import numdb
from stdnum.cn import ric, uscc

from core.errors import ValidationFailed, field_error

__all__ = ["IdNumberInfo", "check_id_number", "check_uscc", "complete_id_number"]

# ASCII classes on purpose: ``\d`` would let Arabic-Indic or other Unicode digits through.
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_OLD_ID_SHAPE = re.compile(r"[0-9]{15}")
_EARLIEST_BIRTH_YEAR = 1900

_USCC_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")
_USCC_EXCLUDED = frozenset("IOSVZ")
_USCC_LENGTH = 18

_MSG_FORMAT = "身份证号码应为18位，由17位数字和最后1位数字或字母X组成，请核对。"
_MSG_OLD_15 = "身份证号码应为18位，不支持15位旧号码，请填写换发后的18位号码。"
_MSG_BIRTH_DATE = "身份证号码中的出生日期无效，请核对。"
_MSG_REGION = "身份证号码中的地区代码无效，请核对。"
_MSG_CHECK_DIGIT = "身份证号码校验位不正确，请核对。"

_MSG_USCC_LENGTH = "统一社会信用代码应为18位，请核对。"
_MSG_USCC_EXCLUDED = "统一社会信用代码含有不允许的字母 I、O、S、V、Z，请核对是否误将数字写成字母。"
_MSG_USCC_CHARS = "统一社会信用代码只能由数字和大写字母组成，第3至8位应为数字，请核对。"
_MSG_USCC_CHECK_DIGIT = "统一社会信用代码校验位不正确，请核对。"


@dataclass(frozen=True)
class IdNumberInfo:
    """What a valid ID number tells about its holder, so callers never re-parse the digits."""

    # Kept out of repr(): an info object in a traceback or a debug log must not leak the number.
    number: str = field(repr=False)
    birth_date: date
    sex: Literal["M", "F"]
    region_code: str
    province: str

    def age_on(self, day: date) -> int:
        """Completed years; someone born on 29 February turns a year older on 1 March."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)


def _normalise(value: str) -> str:
    # NFKC turns the full-width digits and Ｘ of a Chinese input method into ASCII.
    return unicodedata.normalize("NFKC", value).strip().upper()


def _id_error(message: str, code: str) -> ValidationFailed:
    return ValidationFailed([field_error("id_number", message, code)])


def _parse_birth_date(digits: str, today: date) -> date | None:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    if born.year < _EARLIEST_BIRTH_YEAR or born > today:
        return None
    return born


def _province_of(region_code: str) -> str | None:
    """The province of a county code that GB/T 2260 has ever listed, whatever the period.

    The validity years in stdnum's table are ignored on purpose (see the module docstring).
    """
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(region_code):
        info.update(props)
    if not info.get("county") or not info.get("province"):
        return None
    return info["province"]


def complete_id_number(body: str) -> str:
    """The 17-digit ``body`` with its GB 11643 check character (demo data, sandbox records)."""
    if len(body) != 17 or not body.isdigit():
        raise ValueError("an ID number body is 17 digits")
    return body + str(ric.calc_check_digit(body + "0"))  # stdnum ignores the last character


def check_id_number(value: str, *, today: date) -> IdNumberInfo:
    """Validate a resident ID number; raise ``ValidationFailed`` on ``id_number`` if it is wrong.

    ``today`` is a parameter so that "not in the future" is testable and follows the caller's
    clock (Asia/Shanghai), not the server's.
    """
    number = _normalise(value)
    if _OLD_ID_SHAPE.fullmatch(number):
        # First-generation 15-digit numbers have no check digit and no century; every holder
        # has been issued an 18-digit number since, which is the one real-name services accept.
        raise _id_error(_MSG_OLD_15, "format")
    if not _ID_SHAPE.fullmatch(number):
        raise _id_error(_MSG_FORMAT, "format")
    born = _parse_birth_date(number[6:14], today)
    if born is None:
        raise _id_error(_MSG_BIRTH_DATE, "birth_date")
    region_code = number[:6]
    province = _province_of(region_code)
    if province is None:
        raise _id_error(_MSG_REGION, "region")
    if number[-1] != ric.calc_check_digit(number):
        raise _id_error(_MSG_CHECK_DIGIT, "check_digit")
    return IdNumberInfo(
        number=number,
        birth_date=born,
        sex="M" if int(number[16]) % 2 else "F",
        region_code=region_code,
        province=province,
    )


def _uscc_error(message: str, code: str) -> ValidationFailed:
    return ValidationFailed([field_error("uscc", message, code)])


def check_uscc(value: str) -> str:
    """Validate a unified social credit code and return it normalised (upper-case, no spaces).

    Only the alphabet, the digits of the region part and the check character are enforced, not
    ``stdnum.cn.uscc.validate``: that one demands eight leading digits, but the registering
    authority (first character) may also be a letter, e.g. Y for "other" authorities or N for
    rural collective economic organisations, and such codes must not be refused.
    """
    code = uscc.compact(unicodedata.normalize("NFKC", value))
    if len(code) != _USCC_LENGTH:
        raise _uscc_error(_MSG_USCC_LENGTH, "format")
    if any(c in _USCC_EXCLUDED for c in code):
        raise _uscc_error(_MSG_USCC_EXCLUDED, "format")
    # The alphabet is ASCII, so after this check isdigit() cannot meet a full-width digit.
    if any(c not in _USCC_ALPHABET for c in code) or not code[2:8].isdigit():
        raise _uscc_error(_MSG_USCC_CHARS, "format")
    if code[-1] != uscc.calc_check_digit(code):
        raise _uscc_error(_MSG_USCC_CHECK_DIGIT, "check_digit")
    return code
