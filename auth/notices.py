"""What mandates and company agents mean to the people concerned, told through ``notify``.

Auth orchestrates its own events: a family mandate granted or ended reaches both people (the one
who did not act learns of it, and can end it at once); an agent added to or removed from a company
reaches the agent and the legal representative. Handlers are registered in ``api/wiring.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from auth import contacts
from auth.models import Company, User
from auth.permissions import Action, Addressee, Subject, can
from core.clock import local_today, utcnow
from core.crypto import FieldCipher, mask_name
from core.errors import Conflict
from notify import consent, inbox
from notify.catalogue import Moment
from notify.ledger import Message, NotifyDeps, publish

MANDATES_PAGE = "pages/mandates/index"
COMPANY_PAGE = "pages/companies/detail?id={company_id}"
#: Every page a message of this context links to (``tests/unit/test_message_links``).
LINKED_PAGES = (MANDATES_PAGE, COMPANY_PAGE)


class AuthNotices:
    def __init__(self, *, notify: NotifyDeps, cipher: FieldCipher) -> None:
        self.notify = notify
        self.cipher = cipher

    async def _names(self, *user_ids: int) -> dict[int, str]:
        return {
            u.id: mask_name(u.real_name) if u.real_name else "用户"
            for u in await User.filter(id__in=list(user_ids))
        }

    async def on_mandate(self, event_id: int, topic: str, payload: dict[str, Any]) -> None:
        principal, agent = int(payload["principal_id"]), int(payload["agent_id"])
        names = await self._names(principal, agent)
        granted = topic == "mandate.granted"
        kind = "mandate.granted" if granted else "mandate.ended"
        status = "已授权" if granted else "已结束"
        now = utcnow()
        messages = []
        for recipient in await contacts.users([principal, agent], cipher=self.cipher):
            other = agent if recipient.ref == contacts.user_ref(principal) else principal
            person = names.get(other, "用户")
            messages.append(
                Message(
                    kind=kind,
                    event_key=f"outbox:{event_id}:{kind}",
                    recipient=recipient,
                    title="亲友代办授权" + status,
                    body=f"您与{person}之间的亲友代办授权{status}。如非本人操作，请立即在小程序中结束授权。",
                    values={"item": "亲友代办授权", "person": person, "status": status, "at": now},
                    event_at=now,
                    link=MANDATES_PAGE,
                    subject=f"mandate:{payload['mandate_id']}",
                )
            )
        await publish(messages, deps=self.notify, now=now)

    async def on_agent(self, event_id: int, topic: str, payload: dict[str, Any]) -> None:
        company = await Company.get_or_none(id=int(payload["company_id"]))
        if company is None:
            return
        agent_user = int(payload["user_id"])
        names = await self._names(agent_user)
        added = topic == "company.agent_added"
        kind = "agent.added" if added else "agent.removed"
        status = "已加入" if added else "已移除"
        now = utcnow()
        messages = []
        for recipient in await contacts.users(
            [agent_user, company.legal_rep_id], cipher=self.cipher
        ):
            person = names.get(agent_user, "经办人")
            messages.append(
                Message(
                    kind=kind,
                    event_key=f"outbox:{event_id}:{kind}",
                    recipient=recipient,
                    title="企业经办人" + status,
                    body=f"{person}{status}{company.name}的经办人。",
                    values={
                        "item": f"{company.name}经办人",
                        "person": person,
                        "status": status,
                        "at": now,
                    },
                    event_at=now,
                    link=COMPANY_PAGE.format(company_id=company.id),
                    subject=f"company:{company.id}",
                )
            )
        await publish(messages, deps=self.notify, now=now)


class NotBound(Conflict):
    code = "notify.wechat_not_bound"
    message = "您的工作账号尚未绑定微信，绑定后才能接收微信消息。"


async def _openid(kind: str, subject_id: int) -> str:
    openid = await contacts.openid_of(kind, subject_id)
    if openid is None:
        raise NotBound()
    return openid


async def report_consent(
    *, kind: str, subject_id: int, results: Mapping[str, str], notify: NotifyDeps, now: datetime
) -> dict[str, Any]:
    """What the phone's consent sheet answered, counted for the person's WeChat account."""
    return await consent.report(
        openid=await _openid(kind, subject_id),
        results=results,
        catalogue=notify.catalogue,
        cipher=notify.cipher,
        now=now,
    )


async def consent_grants(*, kind: str, subject_id: int, notify: NotifyDeps) -> dict[str, Any]:
    return await consent.grants(
        openid=await _openid(kind, subject_id), catalogue=notify.catalogue, cipher=notify.cipher
    )


async def consent_to_ask(
    *, kind: str, subject_id: int, moment: Moment, notify: NotifyDeps
) -> dict[str, Any]:
    return await consent.to_ask(
        openid=await _openid(kind, subject_id),
        moment=moment,
        catalogue=notify.catalogue,
        cipher=notify.cipher,
    )


def _addressee(recipient: str | None) -> Addressee | None:
    kind, _, number = (recipient or "").partition(":")
    if kind not in ("user", "staff") or not number.isdigit():
        return None
    return Addressee(kind="user" if kind == "user" else "staff", id=int(number))


async def read_message(
    *, kind: str, subject: Subject, message_id: int, now: datetime
) -> dict[str, Any]:
    """Mark one inbox line read, if the rule says it is the subject's to read (its recipient
    only): anyone else is told it does not exist."""
    target = _addressee(await inbox.recipient_of(message_id))
    if target is None or not await can(subject, Action.view, target, today=local_today(now)):
        raise inbox.InboxMessageNotFound()
    return await inbox.mark_read(
        recipient=contacts.ref_of(kind, subject.id), message_id=message_id, now=now
    )
