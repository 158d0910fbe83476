"""Search keys: how people type a service's name on a phone.

A citizen types Chinese (``身份证``), full pinyin (``shenfenzheng``) or initials (``sfz``). Each
published item keeps one lower-case ``search_text`` holding its name and keywords in characters,
in full pinyin and in initials, so every form is a plain substring match that SQLite and
PostgreSQL both run the same way.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import lazy_pinyin

MAX_QUERY_CHARS = 50
_SEPARATORS = re.compile(r"[\s,，、;；:：/|()（）\[\]【】\"'“”‘’·.。!?！？-]+")


def _pinyin_forms(phrase: str) -> tuple[str, str]:
    syllables = [s for s in lazy_pinyin(phrase, errors="ignore") if s]
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables).lower()
    return full, initials


def build_search_text(name: str, keywords: list[str]) -> str:
    """The text that search matches against; words are kept apart so matches stay within one."""
    phrases = [name, *keywords]
    parts: list[str] = []
    for phrase in phrases:
        phrase = normalise(phrase)
        if not phrase:
            continue
        full, initials = _pinyin_forms(phrase)
        parts.extend(p for p in (phrase, full, initials) if p)
    return "|" + "|".join(parts) + "|"


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, punctuation and spaces removed."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _SEPARATORS.sub("", text)


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so a query of ``%`` matches a percent sign, not everything."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
