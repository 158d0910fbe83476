"""Former home of the identity use cases, now split by topic: ``auth.citizens``,
``auth.companies``, ``auth.staff``, with what they share in ``auth.common`` and their errors in
``auth.errors``.

What is left re-exports the names modules outside ``auth`` still import from here, until they
import them from their homes; nothing new goes here, and it goes once they have.
"""

from __future__ import annotations

from datetime import date

from auth.common import ID_CONTEXT, require_realname_level
from auth.staff import staff_standing
from core.clock import local_today, utcnow

__all__ = ["ID_CONTEXT", "require_realname_level", "staff_standing", "today_local"]


def today_local() -> date:
    """Today in China: ``core.clock.local_today(utcnow())``, which callers use instead."""
    return local_today(utcnow())
