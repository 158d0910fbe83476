"""Check characters of the two national identifiers the peers hand out and look up.

The sandbox needs them to seed valid demo data and to answer like an authority would (an ID
number that cannot exist is never a match). Kept here rather than imported from a context because
the sandbox may depend on ``core`` only.
"""

from __future__ import annotations

import datetime as dt

#: GB 11643 weights of the first 17 digits of a resident ID number.
ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECK_CHARS = "10X98765432"
#: GB 32100 alphabet (no I, O, S, V, Z) and weights of a unified social credit code.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_number_check_char(first17: str) -> str:
    """The 18th character of a resident ID number whose first 17 digits are given."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("an ID number starts with 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, ID_NUMBER_WEIGHTS, strict=True))
    return ID_NUMBER_CHECK_CHARS[total % 11]


def is_valid_id_number(value: str) -> bool:
    """True for an 18-character resident ID number with a real birth date and check char."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_number_check_char(value[:17]) == value[17].upper()


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 are given."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise ValueError("a credit code starts with 17 characters of the GB 32100 alphabet")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """True for an 18-character unified social credit code with the right check character."""
    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return False
    return uscc_check_char(value[:17]) == value[17]
