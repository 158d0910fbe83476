"""The message-channel port: what every outward channel (the WeChat subscribe message, an SMS
provider) does with one message, in the channel's own terms translated to ours.

The in-app inbox is not a channel of this port: it is our own table, always written.

An ``Envelope`` is one message to one address, already formatted to the channel's rules by
``notify`` (``notify.formatting``); the adapter adds only its transport (token, signature). Its
``key`` is ours and unique per (event, channel, recipient): a channel that keeps a caller's
reference (an SMS provider's ``OutId``) is given it, so a send that may or may not have happened
before a crash can be looked up instead of repeated (``lookup``).

What every adapter must do is written on each method and checked by the contract suite
``tests/contract/test_notify_channels.py``, run against every channel of
``notify.providers.factory`` pointed at its ``sandbox/`` peer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    """What became of one send."""

    #: the channel accepted the message
    sent = "sent"
    #: busy, timed out, 5xx, rate limited: the same message may be sent again later
    transient = "transient"
    #: refused for good (a bad field, a bad address, a bad template): sending it again would be
    #: refused again; someone must fix the cause
    permanent = "permanent"
    #: the person gave no consent that is left (WeChat 43101): not an error, a fallback
    no_consent = "no_consent"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    #: the channel's own code as text ("0", "-1", "43101", "isv.MOBILE_NUMBER_ILLEGAL", "http_503",
    #: "timeout"): kept on every attempt for the administrators
    code: str = ""
    #: the channel's words, cut and masked by the caller before they are stored
    detail: str = ""
    #: the channel's id of the message when it gives one (WeChat msgid, an SMS BizId)
    reference: str = ""
    #: the field the channel refused, when it names it (47003 "data.thing1.value invalid")
    field: str = ""


class Known(StrEnum):
    """What a channel can tell of a send that may have happened (``lookup``)."""

    sent = "sent"
    not_sent = "not_sent"
    #: the channel offers no way to know (WeChat subscribe messages)
    unknown = "unknown"


@dataclass(frozen=True)
class Envelope:
    #: ours, unique per (event, channel, recipient); ``[0-9A-Za-z_-]``, at most 64 characters
    key: str
    #: an openid for WeChat, a mainland mobile number (11 digits) for SMS
    address: str
    #: the WeChat template id, or the SMS provider's registered template code
    template: str
    #: field key -> value, already cut and formatted to the channel's rules
    fields: Mapping[str, str] = field(default_factory=dict)
    #: the mini-program page the message opens (WeChat only)
    page: str = ""


class Channel(Protocol):
    """One outward channel. ``name`` is the ledger's channel column: never rename one."""

    name: str

    async def send(self, envelope: Envelope) -> SendResult:
        """Send once. Never raises for what the channel answered: every answer, a timeout and
        an unreachable channel included, is a ``SendResult``. A timeout is ``transient``: the
        caller records that the outcome is uncertain and asks ``lookup`` before sending again
        where the channel can tell."""
        ...

    async def lookup(self, envelope: Envelope, *, sent_at: datetime) -> Known:
        """Whether a send of ``envelope.key`` attempted at ``sent_at`` reached the channel.
        ``unknown`` when the channel cannot tell (then the caller records the send as uncertain
        rather than risk sending it twice)."""
        ...
