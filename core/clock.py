"""The current moment, in one place: every use case takes ``now`` from its caller, and callers
take it from here, so tests can pass any moment they need."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
