"""What the payment peers' fault switches share: how a notification goes wrong on its way to
the merchant (sent several times at once, held and sent out of order, late, never, badly
signed), and how a control request setting them is checked. Each peer adds the faults of its
own platform's fields (another merchant, app, seller or amount, each well signed)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

MAX_DUPLICATES = 100
MAX_DELAY_S = 3600.0


@dataclass
class NotificationFaults:
    #: each notification's attempt is sent this many times at once
    duplicate: int = 1
    #: notifications are held back, then sent newest first
    out_of_order: bool = False
    #: the first attempt waits this many (real) seconds
    delay_s: float = 0.0
    #: the notification is never sent
    drop: bool = False
    #: signed with a key that is not the platform's
    bad_signature: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def checked_faults(kind: type[NotificationFaults], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` checked against ``kind``'s switches: ``ValueError`` naming the first wrong
    one; ``delay_s`` as a float."""
    unknown = sorted(set(values) - set(kind.names()))
    if unknown:
        raise ValueError(f"unknown faults {unknown}; known {list(kind.names())}")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name == "duplicate":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("duplicate must be an integer")
            if not 1 <= value <= MAX_DUPLICATES:
                raise ValueError(f"duplicate must be from 1 to {MAX_DUPLICATES}")
        elif name == "delay_s":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError("delay_s must be a number")
            if not (math.isfinite(value) and 0 <= value <= MAX_DELAY_S):
                raise ValueError(f"delay_s must be from 0 to {MAX_DELAY_S:.0f}")
            value = float(value)
        elif not isinstance(value, bool):
            raise ValueError(f"{name} must be a boolean")
        checked[name] = value
    return checked
