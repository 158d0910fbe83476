"""Money as people read it: fen in figures ("¥1,234.50") and in Chinese capitals (大写), the
form a receipt carries so that no digit can be altered (壹万贰仟叁佰肆拾伍元陆角柒分)."""

from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
#: units within a group of four digits, from the highest
SMALL_UNITS = ("仟", "佰", "拾", "")
#: the unit of each group of four, from the lowest
GROUP_UNITS = ("", "万", "亿", "万亿")
MAX_FEN = 10**18  # far beyond any fee; keeps the groups within GROUP_UNITS


def figures(fen: int) -> str:
    """``123450`` → ``"1,234.50"``."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def _group(value: int) -> str:
    """Four digits or fewer in capitals, zeros inside read once (一千零五 → 壹仟零伍)."""
    text = ""
    zero = False
    for index, digit in enumerate(f"{value:04d}"):
        d = int(digit)
        if d == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += DIGITS[d] + SMALL_UNITS[index]
    return text


def capitals(fen: int) -> str:
    """The amount in Chinese capitals as a receipt writes it (人民币大写).

    Follows the usual rules of 会计基础工作规范 article 52: whole yuan end in 整; zeros between
    digits are read once; a zero yuan with cents reads only the cents (``0.05`` → ``伍分``);
    ``0`` is ``零元整``.
    """
    if not 0 <= fen < MAX_FEN:
        raise ValueError("fen must be between 0 and 10**18")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    words = ""
    if yuan:
        groups: list[int] = []
        rest = yuan
        while rest:
            rest, group = divmod(rest, 10_000)
            groups.append(group)
        pending_zero = False
        for position in range(len(groups) - 1, -1, -1):
            group = groups[position]
            if group == 0:
                pending_zero = bool(words)
                continue
            if words and (pending_zero or group < 1000):
                words += "零"
            words += _group(group) + GROUP_UNITS[position]
            pending_zero = False
        words += "元"
    if not cents:
        return (words or "零元") + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen_digit:
        words += DIGITS[fen_digit] + "分"
    else:
        words += "整"
    return words
