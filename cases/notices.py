"""What each event of an application means to the people around it, told through ``notify``.

Cases orchestrate: their own events (``case.<transition>``, supervision, evaluation) and those of
payments (``payment.reminder``, ``payment.refunded``) become messages here, from outbox handlers
registered in ``api/wiring.py``, never inside the transaction that changed the case. ``notify``
then decides how each reaches the person (consent, SMS, quiet hours) and sends it once.

Every message of one event has the key ``outbox:<event id>:<kind>``: a redelivered event
publishes nothing twice (``notify.publish`` keeps an inbox line per key and person).

The applicant side hears of each step of their case: the applicant, the person who filed it for
them (a family member or a company's agent) and, for a company, its legal representative. The
staff side hears of work landing on them: new cases in the department's queue (batched), tasks
given to them, supervision notices, yellow and red cards, poor ratings to follow up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from auth import contacts
from auth.models import Company, StaffRole
from auth.permissions import Action, Subject, can
from cases import kernel
from cases.kernel import SYSTEM, note
from cases.models import Case, CaseEvent, ReviewTask
from cases.states import STATUS_LABELS, CaseStatus
from core.calendar import calendar_source
from core.clock import local_today, utcnow
from core.crypto import FieldCipher
from core.db import in_transaction
from core.outbox import emit
from notify.formatting import COUNT_PLACEHOLDER, Value
from notify.ledger import Message, NotifyDeps, Recipient, publish
from payments.models import FeeOrder

log = logging.getLogger("zhangban.cases.notices")

#: The page that opens a case in the mini-program (``miniprogram_stubs``).
CASE_PAGE = "pages/case/detail?id={case_id}"
STAFF_CASE_PAGE = "pages/staff/case?id={case_id}"
STAFF_INBOX_PAGE = "pages/staff/inbox"
EVALUATE_PAGE = "pages/case/evaluate?id={case_id}"
#: Every page a message of this context links to (``tests/unit/test_message_links``).
LINKED_PAGES = (CASE_PAGE, STAFF_CASE_PAGE, STAFF_INBOX_PAGE, EVALUATE_PAGE)
_CARD_NOTE = {"red": "（红牌）", "yellow": "（黄牌）"}
#: Ratings at or below this are followed up by the department's supervisors.
LOW_RATING = 2


@dataclass(frozen=True)
class Said:
    """What one transition tells the applicant side."""

    kind: str
    status: str
    title: str
    note: str


#: transition -> what the applicant side is told. ``{promised}``, ``{count}``, ``{amount}`` and
#: ``{deadline}`` are filled from the case.
APPLICANT_SIDE: dict[str, Said] = {
    "submit": Said("case.submitted", "已提交", "申请已提交", "材料已提交，等待窗口预审"),
    "resubmit": Said("case.submitted", "已提交", "补正材料已提交", "补正材料已提交，等待预审"),
    "resubmit_in_review": Said(
        "case.submitted", "审查中", "补正材料已提交", "补正材料已提交，继续审查"
    ),
    "request_correction": Said(
        "case.correction_requested", "待补正", "请补正材料", "需补正{count}项材料，请按清单一次提交"
    ),
    "request_correction_in_review": Said(
        "case.correction_requested", "待补正", "请补正材料", "需补正{count}项材料，请按清单一次提交"
    ),
    "accept": Said("case.accepted", "已受理", "申请已受理", "承诺{promised}前办结"),
    "auto_accept": Said(
        "case.accepted", "已受理", "申请已受理", "逾期未答复，依法视为受理，承诺{promised}前办结"
    ),
    "refuse": Said("case.refused", "不予受理", "申请不予受理", "请在小程序查看不予受理告知书"),
    "grant": Said("case.granted", "准予许可", "审批通过", "准予许可，请留意后续缴费或送达通知"),
    "deny": Said("case.denied", "不予许可", "审批未通过", "请查看决定书及申请复议、诉讼的途径"),
    "require_fee": Said("case.fee_due", "待缴费", "请缴纳费用", "请于{deadline}前缴纳{amount}"),
    "fee_paid": Said("case.paid", "已缴费", "缴费成功", "已收到您缴纳的{amount}，等待送达"),
    "lapse": Said("case.lapsed", "已终止", "办理已终止", "逾期未缴费，办理终止"),
    "await_result": Said(
        "case.result_issued", "待送达", "办理结果已出具", "办理结果已出具，等待送达"
    ),
    "complete": Said("case.completed", "已办结", "申请已办结", "办理结果已送达，欢迎评价"),
    "withdraw": Said("case.withdrawn", "已撤回", "申请已撤回", "申请已撤回，办理终止"),
    "suspend": Said(
        "case.suspended", "特别程序", "进入特别程序", "进入听证、检验等特别程序，期间不计时限"
    ),
    "resume": Said("case.resumed", "审查中", "恢复审查", "特别程序结束，恢复审查并继续计时"),
}


def _number(case: Case) -> str:
    return case.acceptance_number or f"ZB{case.id}"


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}元"


def _day(value: date | None) -> str:
    return f"{value:%Y年%m月%d日}" if value else "-"


class CaseNotices:
    """The handlers; one instance per worker (``api/wiring.py``)."""

    def __init__(self, *, notify: NotifyDeps, cipher: FieldCipher) -> None:
        self.notify = notify
        self.cipher = cipher

    # -- who ---------------------------------------------------------------------------------

    async def applicant_side(self, case: Case) -> list[Recipient]:
        """The applicant, and whoever may see the case now by the one rule: the family member
        or company agent who filed it while their mandate or agency lasts, a company's legal
        representative. A mandate ended or an agent removed ends the messages with the access."""
        candidates: list[int | None] = [case.agent_user_id]
        if case.company_id:
            company = await Company.get_or_none(id=case.company_id)
            if company is not None:
                candidates.append(company.legal_rep_id)
        target = kernel.owned(case)
        today = local_today(utcnow())
        people: list[int | None] = [case.applicant_user_id]
        for user_id in dict.fromkeys(c for c in candidates if c):
            if user_id == case.applicant_user_id:
                continue
            if await can(Subject(kind="user", id=user_id), Action.view, target, today=today):
                people.append(user_id)
        return await contacts.users(people, cipher=self.cipher)

    # -- what --------------------------------------------------------------------------------

    async def _publish(self, messages: Sequence[Message]) -> None:
        if messages:
            await publish(messages, deps=self.notify, now=utcnow())

    async def _not_recused(self, case: Case, messages: list[Message]) -> list[Message]:
        """Staff messages about ``case`` reach none of the staff who must step aside from it
        (recusal): a queue line, a notice or a rating of one's own application is not one's
        to read (found from outside: the recused were kept off the case, not off its news)."""
        if not any(m.recipient.ref.startswith("staff:") for m in messages):
            return messages
        recused = await contacts.recused_staff(
            user_ids=(case.applicant_user_id, case.agent_user_id), company_id=case.company_id
        )
        return [m for m in messages if m.recipient.ref not in recused]

    async def on_transition(self, event_id: int, topic: str, payload: dict[str, Any]) -> None:
        """``case.<transition>``: the applicant side's message, and the staff's queue."""
        name = str(payload.get("transition") or topic.removeprefix("case."))
        case = await Case.get_or_none(id=int(payload.get("case_id") or 0))
        if case is None:
            return
        now = utcnow()
        messages: list[Message] = []
        said = APPLICANT_SIDE.get(name)
        if said is not None:
            messages += await self._applicant_messages(event_id, case, said, payload, now)
        if name == "complete":
            messages += await self._evaluation_invitation(event_id, case, now)
        if name in ("submit", "resubmit"):
            messages += await self._queue_messages(
                event_id, case, (StaffRole.clerk,), "新申请待预审", now
            )
        elif name in ("accept", "auto_accept", "resubmit_in_review"):
            messages += await self._queue_messages(
                event_id, case, (StaffRole.reviewer, StaffRole.approver), "新办件待审查", now
            )
        await self._publish(await self._not_recused(case, messages))

    async def _applicant_messages(
        self, event_id: int, case: Case, said: Said, payload: dict[str, Any], now: datetime
    ) -> list[Message]:
        count = len(payload.get("items") or [])
        amount_fen, deadline = case.fee_fen, None
        if said.kind in ("case.fee_due", "case.paid"):
            order = await FeeOrder.filter(reference=f"case:{case.id}").order_by("-id").first()
            if order is not None:
                amount_fen, deadline = order.amount_fen, order.due_on
        text = said.note.format(
            promised=_day(case.promised_due_on),
            count=count,
            amount=_yuan(amount_fen),
            deadline=_day(deadline),
        )
        status = said.status
        values: dict[str, Any] = {
            "item": case.item_name,
            "number": _number(case),
            "status": status,
            "at": now,
            "note": text,
            "count": count,
            "amount": amount_fen,
            "deadline": deadline or local_today(now),
        }
        return [
            Message(
                kind=said.kind,
                event_key=f"outbox:{event_id}:{said.kind}",
                recipient=recipient,
                title=said.title,
                body=f"{case.item_name}（{_number(case)}）：{text}。",
                values=values,
                event_at=now,
                link=CASE_PAGE.format(case_id=case.id),
                subject=f"case:{case.id}",
            )
            for recipient in await self.applicant_side(case)
        ]

    async def _evaluation_invitation(
        self, event_id: int, case: Case, now: datetime
    ) -> list[Message]:
        kind = "case.evaluation_invited"
        return [
            Message(
                kind=kind,
                event_key=f"outbox:{event_id}:{kind}",
                recipient=recipient,
                title="邀请您评价本次服务",
                body=f"{case.item_name}已办结，请为本次服务打分（好差评）。",
                values={
                    "item": case.item_name,
                    "number": _number(case),
                    "note": "请为本次服务评价",
                },
                event_at=now,
                link=EVALUATE_PAGE.format(case_id=case.id),
                subject=f"case:{case.id}",
            )
            for recipient in await self.applicant_side(case)
        ]

    async def _queue_messages(
        self,
        event_id: int,
        case: Case,
        roles: tuple[StaffRole, ...],
        what: str,
        now: datetime,
    ) -> list[Message]:
        kind = "staff.queue"
        staff = await contacts.department_staff(case.lead_department_code, roles)
        return [
            Message(
                kind=kind,
                event_key=f"outbox:{event_id}:{kind}",
                recipient=recipient,
                title=what,
                body=f"{case.item_name}（{_number(case)}）{what}。",
                # {count} is filled when the batch is sent: the cases it gathered
                values={
                    "item": what,
                    "count": COUNT_PLACEHOLDER,
                    "note": "请在移动端待办中处理",
                    "at": now,
                },
                event_at=now,
                link=STAFF_INBOX_PAGE,
                subject=f"case:{case.id}",
                batch=f"queue:{what}",
            )
            for recipient in staff
        ]

    # -- payments' events --------------------------------------------------------------------

    async def on_payment(self, event_id: int, topic: str, payload: dict[str, Any]) -> None:
        """``payment.reminder`` and ``payment.refunded`` of a case's fee."""
        reference = str(payload.get("reference") or "")
        if not reference.startswith("case:"):
            return
        case = await Case.get_or_none(id=int(reference.removeprefix("case:") or 0))
        if case is None:
            return
        now = utcnow()
        due_on = date.fromisoformat(str(payload["due_on"]))
        if topic == "payment.reminder":
            if case.status != CaseStatus.fee_due.value:
                return  # paid or ended since the reminder was decided
            kind, title = "case.fee_reminder", "缴费提醒"
            amount = int(payload["amount_fen"])
            text = f"请于{_day(due_on)}前缴纳{_yuan(amount)}，逾期将终止办理"
            # The last day: an SMS that cannot wait for the morning.
            urgent = due_on <= local_today(now) + timedelta(days=1)
            status = "待缴费"
        else:
            kind, title = "case.refunded", "退款成功"
            amount = int(payload["refund_fen"])
            text = f"已退还{_yuan(amount)}，原路退回"
            urgent = False
            status = "已退款"
        values: dict[str, Value] = {
            "item": case.item_name,
            "number": _number(case),
            "status": status,
            "at": now,
            "note": text,
            "amount": amount,
            "deadline": due_on,
        }
        await self._publish(
            [
                Message(
                    kind=kind,
                    event_key=f"outbox:{event_id}:{kind}",
                    recipient=recipient,
                    title=title,
                    body=f"{case.item_name}（{_number(case)}）：{text}。",
                    values=values,
                    event_at=now,
                    link=CASE_PAGE.format(case_id=case.id),
                    subject=f"case:{case.id}",
                    urgent=urgent,
                )
                for recipient in await self.applicant_side(case)
            ]
        )

    # -- the staff side ----------------------------------------------------------------------

    def _staff_message(
        self,
        event_id: int,
        kind: str,
        case: Case,
        recipient: Recipient,
        *,
        title: str,
        status: str,
        text: str,
        now: datetime,
    ) -> Message:
        return Message(
            kind=kind,
            event_key=f"outbox:{event_id}:{kind}",
            recipient=recipient,
            title=title,
            body=f"{case.item_name}（{_number(case)}）：{text}。",
            values={
                "item": case.item_name,
                "number": _number(case),
                "status": status,
                "note": text,
                "count": 1,
                "at": now,
            },
            event_at=now,
            link=STAFF_CASE_PAGE.format(case_id=case.id),
            subject=f"case:{case.id}",
        )

    async def on_staff_event(self, event_id: int, topic: str, payload: dict[str, Any]) -> None:
        """A task given to someone, a supervision notice, a poor rating, a card."""
        case = await Case.get_or_none(id=int(payload.get("case_id") or 0))
        if case is None:
            return
        now = utcnow()
        messages: list[Message] = []
        if topic == "case.task_reassigned":
            for r in await contacts.staff_members([payload.get("to_staff_id")]):
                messages.append(
                    self._staff_message(
                        event_id,
                        "staff.task_assigned",
                        case,
                        r,
                        title="新任务已指派给您",
                        status="待办理",
                        text="督办人将该审查任务指派给您",
                        now=now,
                    )
                )
        elif topic == "case.supervision_notice":
            people = await contacts.staff_members([payload.get("assignee_staff_id")])
            if not people:
                people = await contacts.department_staff(
                    str(payload.get("department") or case.lead_department_code),
                    (StaffRole.clerk, StaffRole.reviewer, StaffRole.approver),
                )
            card = str(payload.get("card") or "")
            for r in people:
                messages.append(
                    self._staff_message(
                        event_id,
                        "staff.supervision",
                        case,
                        r,
                        title="督办通知",
                        status="督办",
                        text=f"收到督办{_CARD_NOTE.get(card, '')}，请尽快办理",
                        now=now,
                    )
                )
        elif topic == "case.evaluated":
            if int(payload.get("score") or 5) > LOW_RATING:
                return
            for r in await contacts.department_staff(
                case.lead_department_code, (StaffRole.supervisor,)
            ):
                messages.append(
                    self._staff_message(
                        event_id,
                        "staff.low_rating",
                        case,
                        r,
                        title="差评待回访",
                        status="差评",
                        text=f"申请人评价{payload.get('score')}分，请回访整改",
                        now=now,
                    )
                )
        elif topic == "case.card":
            card = str(payload.get("card"))
            kind = "staff.card_red" if card == "red" else "staff.card_yellow"
            label = "红牌" if card == "red" else "黄牌"
            text = "已超过承诺办结时限" if card == "red" else "即将到达承诺办结时限"
            holders = await self._holders(case)
            supervisors = await contacts.department_staff(
                case.lead_department_code, (StaffRole.supervisor,)
            )
            seen: set[str] = set()
            for r in [*holders, *supervisors]:
                if r.ref in seen:
                    continue
                seen.add(r.ref)
                messages.append(
                    self._staff_message(
                        event_id,
                        kind,
                        case,
                        r,
                        title=f"{label}预警",
                        status=label,
                        text=text,
                        now=now,
                    )
                )
        await self._publish(await self._not_recused(case, messages))

    async def _holders(self, case: Case) -> list[Recipient]:
        """Who holds the case now: the assignees of its open review tasks, else the clerks."""
        assignees = await ReviewTask.filter(
            case_id=case.id, status__in=("open", "claimed"), assignee_staff_id__not_isnull=True
        ).values_list("assignee_staff_id", flat=True)
        if assignees:
            return await contacts.staff_members([int(str(a)) for a in assignees])
        return await contacts.department_staff(case.lead_department_code, (StaffRole.clerk,))


# --------------------------------------------------------------------------------------------
# Cards: the moment a case turns yellow or red is an event of its own
# --------------------------------------------------------------------------------------------

CARD_MARKER = "card_notified"
_RUNNING = (CaseStatus.accepted.value, CaseStatus.in_review.value)


async def emit_cards(*, yellow_days: int, now: datetime, limit: int = 500) -> dict[str, int]:
    """Every running case that turned yellow or red since the last run gets one ``case.card``
    event per colour, with an internal timeline line as the marker (so a colour is told once,
    whichever worker runs this)."""
    calendar = await calendar_source.get()
    today = local_today(now)
    yellow_from = calendar.add_working_days(today, yellow_days)
    told = {"yellow": 0, "red": 0}
    candidates = (
        await Case.filter(status__in=_RUNNING, paused_on=None, promised_due_on__lte=yellow_from)
        .order_by("promised_due_on")
        .limit(limit)
    )
    for case in candidates:
        card = "red" if case.promised_due_on and case.promised_due_on < today else "yellow"
        async with in_transaction() as conn:
            if await _marked(conn, case.id, card):
                continue
            await note(
                conn, case, CARD_MARKER, SYSTEM, details={"internal": True, "card": card}, now=now
            )
            await emit(
                "case.card",
                {"case_id": case.id, "card": card, "department": case.lead_department_code},
                using_db=conn,
            )
            told[card] += 1
    return told


async def _marked(conn: Any, case_id: int, card: str) -> bool:
    lines = (
        await CaseEvent.filter(case_id=case_id, action=CARD_MARKER)
        .using_db(conn)
        .values_list("details", flat=True)
    )
    return any(isinstance(d, dict) and d.get("card") == card for d in lines)


__all__ = ["APPLICANT_SIDE", "STATUS_LABELS", "CaseNotices", "emit_cards"]
