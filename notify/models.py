"""Progress-message tables: the in-app inbox, consent grants, the send ledger and its attempts,
and the people who opted out of SMS.

``notify`` knows nothing of cases: a message carries its recipient (``user:<id>`` or
``staff:<id>``), the texts, and a ``subject`` in the orchestrating context's terms
(``case:<id>``). Addresses (an openid, a phone number) are sealed with the field cipher, like every
personal identifier at rest, and opened only to send.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class DeliveryStatus(StrEnum):
    #: waiting for its time (now, after quiet hours, after a backoff, at the end of a batch)
    queued = "queued"
    #: the intent is recorded and a worker holds it (``locked_until``): the call may be under way
    sending = "sending"
    sent = "sent"
    #: refused for good, or out of attempts: listed for the administrators, who may replay it
    failed = "failed"
    #: a worker died during the call and the channel cannot tell whether it arrived: never sent
    #: again by itself, listed for the administrators
    uncertain = "uncertain"
    #: not sent on this channel, on purpose (no consent left: the SMS and the inbox carry it;
    #: the WeChat message went out, so the SMS kept in reserve is not needed)
    skipped = "skipped"
    #: an SMS kept in reserve while the WeChat message of the same event is on its way: queued
    #: if WeChat refuses it (43101) or gives up, skipped once WeChat took it
    held = "held"


class InboxMessage(Model):
    """One line of a person's in-app inbox: always written, whatever the other channels do."""

    id = fields.BigIntField(primary_key=True)
    #: ``user:<id>`` or ``staff:<id>``
    recipient = fields.CharField(max_length=32)
    #: ``<event key>|<recipient>``: an event redelivered writes nothing twice
    dedupe = fields.CharField(max_length=160, unique=True)
    #: the message type (``case.accepted``): the catalogue's key
    kind = fields.CharField(max_length=48)
    title = fields.CharField(max_length=64)
    body = fields.CharField(max_length=500)
    #: the mini-program page that opens what the message is about
    link = fields.CharField(max_length=256, default="")
    #: what the message is about, in the orchestrator's terms (``case:12``)
    subject = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notify_inbox"
        indexes = (("recipient", "id"), ("recipient", "read_at"))


class ConsentGrant(Model):
    """What one WeChat user allowed of one subscribe template (``wx.requestSubscribeMessage``).

    Keyed by openid, as WeChat keys it: a person who is both a citizen and a staff member holds
    one set of grants. ``remaining`` counts one-time acceptances not used yet; a long-term
    template's acceptance stays until the person turns it off.
    """

    id = fields.BigIntField(primary_key=True)
    openid_hash = fields.CharField(max_length=64)
    template_id = fields.CharField(max_length=64)
    remaining = fields.IntField(default=0)
    long_term = fields.BooleanField(default=False)
    #: the last answer the phone reported: accept, reject, ban or filter
    last_result = fields.CharField(max_length=8, default="")
    #: the last 43101 WeChat answered: our count was wrong, it is zero now
    refused_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "notify_consent"
        unique_together = (("openid_hash", "template_id"),)


class Delivery(Model):
    """The send ledger: one (event, channel, recipient), sent at most once.

    The row is written (``queued``) before any call, moved to ``sending`` with a lease before the
    call, and to its outcome after it. A worker killed during the call leaves ``sending`` with a
    lapsed lease: the next pass asks the channel (``lookup``) and records ``sent`` or queues it
    again, or records ``uncertain`` where the channel cannot tell.
    """

    id = fields.BigIntField(primary_key=True)
    #: ours, unique per (event, channel, recipient); the SMS provider's ``OutId``
    key = fields.CharField(max_length=64, unique=True)
    event_key = fields.CharField(max_length=96)
    channel = fields.CharField(max_length=16)
    recipient = fields.CharField(max_length=32)
    kind = fields.CharField(max_length=48)
    #: the WeChat template id or the SMS template code
    template = fields.CharField(max_length=64)
    #: the openid or phone number, sealed (``notify.ledger.ADDRESS_CONTEXT``)
    address_sealed = fields.CharField(max_length=200)
    #: the values, already formatted to the channel's rules ("{count}" filled at send time)
    data: dict[str, Any] = fields.JSONField(default=dict)
    page = fields.CharField(max_length=256, default="")
    urgent = fields.BooleanField(default=False)
    #: staff queue messages: one row per (person, batch) waits and counts what it stands for
    batch = fields.CharField(max_length=96, null=True, unique=True)
    batch_count = fields.IntField(default=1)
    status = fields.CharField(max_length=16, default=DeliveryStatus.queued.value)
    attempts = fields.IntField(default=0)
    next_at = fields.DatetimeField()
    locked_by = fields.CharField(max_length=64, default="")
    locked_until = fields.DatetimeField(null=True)
    #: the channel's code and words of the last attempt
    last_code = fields.CharField(max_length=64, default="")
    last_error = fields.CharField(max_length=300, default="")
    #: the field a 47003 named
    failed_field = fields.CharField(max_length=32, default="")
    #: the channel's id of the message (WeChat msgid, SMS BizId)
    reference = fields.CharField(max_length=64, default="")
    #: SMS delivery receipt: "", "delivered" or "undelivered"
    receipt = fields.CharField(max_length=16, default="")
    #: when the event happened: event-to-send latency is ``sent_at - event_at``
    event_at = fields.DatetimeField()
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "notify_delivery"
        indexes = (("status", "next_at"), ("status", "kind", "updated_at"), ("recipient", "id"))


class DeliveryAttempt(Model):
    """Every call to a channel and what it answered: the administrators' evidence."""

    id = fields.BigIntField(primary_key=True)
    delivery_id = fields.BigIntField(db_index=True)
    at = fields.DatetimeField()
    outcome = fields.CharField(max_length=16)
    code = fields.CharField(max_length=64, default="")
    detail = fields.CharField(max_length=300, default="")
    duration_ms = fields.IntField(default=0)

    class Meta:
        table = "notify_attempt"


class SmsOptOut(Model):
    """A person who asked for no SMS (退订). WeChat and the inbox still carry their messages."""

    id = fields.BigIntField(primary_key=True)
    recipient = fields.CharField(max_length=32, unique=True)
    at = fields.DatetimeField()

    class Meta:
        table = "notify_sms_opt_out"


class FailureAlert(Model):
    """A message type whose failures in one hour passed the threshold: raised once per hour."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=48)
    #: the hour (UTC, ``YYYY-MM-DDTHH``) it was raised for
    hour = fields.CharField(max_length=13)
    failures = fields.IntField()
    #: the 47003 fields and templates of those failures
    details: dict[str, Any] = fields.JSONField(default=dict)
    raised_at = fields.DatetimeField()

    class Meta:
        table = "notify_failure_alert"
        unique_together = (("kind", "hour"),)
