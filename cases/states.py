"""Case states and the transitions between them, as data.

Every change of a case's status goes through one of the transitions below and nothing else: the
service looks the transition up by name, checks the actor's role against ``roles``, and applies it
as a compare-and-set update ``WHERE status IN from_states``. Tests walk this table to prove every
state is reachable from a draft and every final state has no exit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CaseStatus(StrEnum):
    draft = "draft"  # 草稿
    submitted = "submitted"  # 已提交，待预审
    correction_requested = "correction_requested"  # 待补正
    refused = "refused"  # 不予受理
    accepted = "accepted"  # 已受理
    in_review = "in_review"  # 审查中
    suspended = "suspended"  # 特别程序（听证、现场核查、专家评审）
    decided_granted = "decided_granted"  # 准予许可
    decided_denied = "decided_denied"  # 不予许可
    fee_due = "fee_due"  # 待缴费
    result_pending = "result_pending"  # 待送达
    completed = "completed"  # 已办结
    withdrawn = "withdrawn"  # 已撤回
    lapsed = "lapsed"  # 逾期未缴费，终止办理


class Role(StrEnum):
    """Who acts: the applicant side, a staff role, or the system (jobs, callbacks)."""

    applicant = "applicant"
    clerk = "clerk"
    reviewer = "reviewer"
    approver = "approver"
    dispatcher = "dispatcher"
    supervisor = "supervisor"
    system = "system"


S = CaseStatus

#: Citizen-facing labels: the mini-program shows these as they are.
STATUS_LABELS: dict[CaseStatus, str] = {
    S.draft: "草稿",
    S.submitted: "待预审",
    S.correction_requested: "待补正",
    S.refused: "不予受理",
    S.accepted: "已受理",
    S.in_review: "审查中",
    S.suspended: "特别程序中",
    S.decided_granted: "准予许可",
    S.decided_denied: "不予许可",
    S.fee_due: "待缴费",
    S.result_pending: "待送达",
    S.completed: "已办结",
    S.withdrawn: "已撤回",
    S.lapsed: "逾期未缴费",
}


@dataclass(frozen=True)
class Transition:
    name: str
    from_states: frozenset[CaseStatus]
    to: CaseStatus
    roles: frozenset[Role]
    label: str  # what the timeline says, in Chinese


def _t(
    name: str, sources: set[CaseStatus], to: CaseStatus, roles: set[Role], label: str
) -> Transition:
    return Transition(name, frozenset(sources), to, frozenset(roles), label)


_BEFORE_DECISION = {S.submitted, S.correction_requested, S.accepted, S.in_review, S.suspended}
_STAFF_DECIDERS = {Role.reviewer, Role.approver}

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("submit", {S.draft}, S.submitted, {Role.applicant}, "提交申请"),
        _t("resubmit", {S.correction_requested}, S.submitted, {Role.applicant}, "补正后重新提交"),
        _t(
            "resubmit_in_review",
            {S.correction_requested},
            S.in_review,
            {Role.applicant},
            "补正后重新提交（审查中）",
        ),
        _t("accept", {S.submitted}, S.accepted, {Role.clerk}, "受理"),
        _t("auto_accept", {S.submitted}, S.accepted, {Role.system}, "逾期未答复，依法视为受理"),
        _t("refuse", {S.submitted}, S.refused, {Role.clerk}, "不予受理"),
        _t(
            "request_correction",
            {S.submitted},
            S.correction_requested,
            {Role.clerk},
            "一次性告知补正材料",
        ),
        _t(
            "request_correction_in_review",
            {S.in_review},
            S.correction_requested,
            _STAFF_DECIDERS,
            "审查中要求补正",
        ),
        _t("start_review", {S.accepted}, S.in_review, _STAFF_DECIDERS, "开始审查"),
        _t("suspend", {S.in_review}, S.suspended, _STAFF_DECIDERS, "进入特别程序"),
        _t("resume", {S.suspended}, S.in_review, _STAFF_DECIDERS, "特别程序结束，恢复审查"),
        _t("grant", {S.in_review}, S.decided_granted, _STAFF_DECIDERS, "准予许可"),
        _t("deny", {S.in_review}, S.decided_denied, _STAFF_DECIDERS, "不予许可"),
        _t("require_fee", {S.decided_granted}, S.fee_due, {Role.system}, "待缴费"),
        _t("await_result", {S.decided_granted}, S.result_pending, {Role.system}, "待送达"),
        _t("fee_paid", {S.fee_due}, S.result_pending, {Role.system}, "已缴费"),
        _t("complete", {S.result_pending}, S.completed, {Role.dispatcher}, "已送达，办结"),
        _t("lapse", {S.fee_due}, S.lapsed, {Role.system}, "缴费期限已过，办件终止"),
        _t(
            "withdraw",
            _BEFORE_DECISION | {S.fee_due},
            S.withdrawn,
            {Role.applicant},
            "申请人撤回申请",
        ),
    )
}

#: The timeline lines that are no transition (``cases.kernel.note``), in Chinese as the
#: timeline shows them; every note's action must be here.
NOTE_LABELS: dict[str, str] = {
    "create": "创建草稿",
    "claim": "领取审查任务",
    "release": "放回待办队列",
    "pass": "审查通过",
    "comment": "内部意见",
    "attachment": "上传附件",
    "reassign": "改派审查任务",
    "card_notified": "亮牌提醒",
    "supervision_notice": "督办",
    "supervision_acknowledged": "签收督办",
    "evaluate": "申请人评价",
    "evaluation_answer": "回复评价",
    "fee_order_opened": "开具缴费通知",
    "payment_surplus": "多缴款项待退",
    "fee_refunded": "已退款",
    "fee_refund_failed": "退款未成功",
    "duration_recorded": "办理时长已记录",
}

#: Every timeline action's label: transitions and notes.
EVENT_LABELS: dict[str, str] = {
    **NOTE_LABELS,
    **{name: t.label for name, t in TRANSITIONS.items()},
}

FINAL_STATES: frozenset[CaseStatus] = frozenset(
    {S.refused, S.decided_denied, S.completed, S.withdrawn, S.lapsed}
)

#: States in which the legal clock runs (cards are computed only for these).
CLOCK_RUNNING: frozenset[CaseStatus] = frozenset({S.accepted, S.in_review})
#: States in which the clock is stopped (the due dates move by the days spent here).
CLOCK_PAUSED: frozenset[CaseStatus] = frozenset({S.suspended})
#: States after which the applicant may rate the service (好差评).
RATEABLE: frozenset[CaseStatus] = frozenset({S.completed, S.refused, S.decided_denied})
#: States in which the applicant may still change the draft's form and files.
EDITABLE: frozenset[CaseStatus] = frozenset({S.draft, S.correction_requested})


def exits(status: CaseStatus) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.from_states]


def reachable_from(start: CaseStatus) -> set[CaseStatus]:
    seen = {start}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for transition in exits(current):
            if transition.to not in seen:
                seen.add(transition.to)
                frontier.append(transition.to)
    return seen
