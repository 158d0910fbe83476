"""Personal identifiers inside free text: mainland resident ID numbers (GB 11643) and mobile
numbers, as people type them.

Two uses, two rules:

- ``holds_identifier`` decides whether text someone typed (a form field the item did not mark,
  a withdrawal reason, a rating's comment, a staff comment) carries a whole number, to refuse it:
  full-width digits count, and so do digits split by spaces, hyphens or dots
  ("139-1234-5678", "360426 19720101 2913"); a number is a run of exactly its length, so a
  19-digit bank account is not an ID number that happens to hide inside it.
- ``core.logging.redact`` masks what must never reach a log, and errs the other way: any window
  of a longer run that is a valid ID number is masked.
"""

from __future__ import annotations

import re
import unicodedata

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
#: A run of digits (an ID number may end in X), not part of a longer one.
_RUN = re.compile(r"(?<![0-9])[0-9]+[Xx]?(?![0-9])")
#: What people put between the groups of a number they type.
_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[\s\-‐‑‒–—.·/]+(?=[0-9Xx])")
_MOBILE = re.compile(r"(?:86)?1[3-9][0-9]{9}")


def is_id_number(text: str) -> bool:
    """Whether 18 characters are a resident ID number: a plausible birth date and the check
    character (GB 11643), so that other long numbers stay what they are."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(c) * w for c, w in zip(text[:17], WEIGHTS, strict=True))
    return CHECK[total % 11] == text[17].upper()


def holds_identifier(text: str) -> bool:
    """Whether typed text carries a whole ID or mobile number (see the module docstring)."""
    plain = unicodedata.normalize("NFKC", text)
    for view in (plain, _BETWEEN_DIGITS.sub("", plain)):
        for run in _RUN.findall(view):
            if is_id_number(run) or _MOBILE.fullmatch(run):
                return True
    return False
