"""The authorization matrix of the HTTP API, generated from the route table.

For every route of the application (``app.router.routes``), every kind of subject (anonymous,
the applicant, another citizen, agents under a mandate and of a company by scope, ended or
revoked ones, staff of the case's department by role, of another department, supervisors, admins,
a deactivated account) and the object states that matter (draft, submitted, in review, decided),
the answer over HTTP must be what ``auth.permissions`` decides:

* the expected decision comes from the rule itself: the route's declaration (``@endpoint``:
  audience and action, checked before any lookup) and ``auth.permissions.can`` on the target
  the route acts on, described from the world's rows the way the use case describes it;
* a refusal is a 401, 403 or 404 with one of the codes that mean "not you" (``DENIALS``); an
  allowed caller gets anything else (2xx, or a 400/409 of the object's state: the rule let them
  through);
* a refused caller changes nothing (row counts of every table before and after).

A route without an entry in ``SCENARIOS`` fails ``test_every_route_has_a_scenario``: a new route
is not done until its authorization is part of this matrix.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sanic import Sanic
from tortoise import Tortoise, connections

from api.endpoint import Audience, Endpoint, spec_of
from auth.common import ID_CONTEXT
from auth.models import Company, CompanyAgent, Mandate, Staff, User
from auth.permissions import (
    DEPLOYMENT,
    Action,
    Addressed,
    Addressee,
    Owned,
    Relation,
    StaffAccount,
    Subject,
    Target,
    can,
    departments,
    may_attempt,
)
from cases import evaluation, fees, filing, kernel, prereview, review, supervision
from cases.models import Case, Evaluation, ReviewTask, SupervisionNotice
from core import clock
from core.models import OutboxEvent
from notify.models import Delivery, InboxMessage
from payments.models import ChannelOrder, Discrepancy, FeeOrder, Payment
from payments.orders import Applied, apply_trade
from payments.providers.base import TradeState, TradeStatus
from storage.models import Upload
from tests import factories
from tests.cases_flow import CaseCatalogue, import_case_catalogue
from tests.cases_service import CIPHER, ready_file, worker_paused
from tests.people import id_number

pytestmark = pytest.mark.usefixtures("clean")

#: Codes that mean "not you": the answers of a refusal, whatever the route.
DENIALS = frozenset(
    {
        "auth.token_missing",
        "auth.token_invalid",
        "auth.token_expired",
        "auth.token_revoked",
        "auth.forbidden",
        "auth.staff_inactive",
        "auth.not_company_rep",
        "auth.role_not_grantable",
        "auth.no_case_of_person",
        "auth.mandate_not_found",
        "case.not_found",
        "case.role_not_allowed",
        "case.task_not_held",
        "storage.upload_not_found",
        "supervision.not_addressed_to_you",
        "supervision.other_department",
        "evaluation.forbidden",
        "notify.message_not_found",
    }
)
#: Routes that are not the API: the local object store (authorised by its SigV4 signatures,
#: tested by the object-store contract suite) and the probe routes of the test set-up.
EXTERNAL_PREFIXES = ("objects/", "__test__/")

CITIZENS = (
    "owner",
    "stranger",
    "mandate_agent",
    "mandate_ended",
    "company_rep",
    "agent_apply",
    "agent_pay",
    "agent_view",
    "agent_revoked",
)
STAFF = {
    "clerk": ("lead", ["clerk"]),
    "reviewer": ("lead", ["reviewer"]),
    "approver": ("lead", ["approver"]),
    "dispatcher": ("lead", ["dispatcher"]),
    "clerk_other": ("other", ["clerk"]),
    "supervisor": ("other", ["supervisor"]),
    "supervisor_lead": ("lead", ["supervisor"]),
    "admin_lead": ("lead", ["admin"]),
    "catalog_admin_lead": ("lead", ["catalog_admin"]),
    "admin_other": ("other", ["admin"]),
    "finance": ("lead", ["finance"]),
    "finance_other": ("other", ["finance"]),
    "deactivated": ("lead", ["clerk", "reviewer", "approver", "admin"]),
    # Handlers of the lead department who apply too, on the same WeChat as a citizen of the
    # world (``RECUSED``): their own applications, and their companies', are not theirs to see.
    "handler_self": ("lead", ["clerk", "reviewer", "approver", "dispatcher"]),
    "handler_rep": ("lead", ["clerk", "reviewer", "approver", "dispatcher"]),
    "handler_agent": ("lead", ["clerk", "reviewer", "approver", "dispatcher"]),
}
#: The citizen each recused handler is (the owner of the cases; the company's representative;
#: an agent of the company with ``apply``).
RECUSED = {"handler_self": "owner", "handler_rep": "company_rep", "handler_agent": "agent_apply"}
SUBJECT_KINDS = ("anonymous", *CITIZENS, *STAFF)


# --------------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------------


@dataclass
class World:
    app: Sanic
    cat: CaseCatalogue
    state: str
    subjects: dict[str, Subject]
    tokens: dict[str, str]
    company: Company
    spare_agent: CompanyAgent
    mandate: Mandate
    case: Case
    company_case: Case
    file: Upload
    company_file: Upload
    attachment: Upload
    task: ReviewTask | None
    notice: SupervisionNotice | None
    rating: Evaluation | None
    event: OutboxEvent
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, kind: str) -> int:
        return self.subjects[kind].id

    def staff_account(self, kind: str) -> StaffAccount:
        row = self.extra["staff_rows"][kind]
        return StaffAccount(department_code=row.department_code, roles=frozenset(row.roles))


_seq = itertools.count(1)


async def _case_in(state: str, world: dict[str, Any], *, company: bool) -> Case:
    """A case of the catalogue's item, for the owner (or the company), brought to ``state``;
    ``fee``: a case of the paid item, granted, its fee paid (the worker paused, the case still
    waits in ``fee_due`` for the event, and the order is paid: every fee route has its object)."""
    if state == "fee":
        return await _paid_case(world, company=company)
    now = datetime.now(UTC)
    subjects, cat = world["subjects"], world["cat"]
    applicant = subjects["company_rep"] if company else subjects["owner"]
    case = await filing.create_draft(
        subject=applicant,
        item_code=cat.item,
        company_id=world["company"].id if company else None,
        principal_user_id=None,
        form={"reason": "姓名更正"},
        cipher=CIPHER,
        now=now,
    )
    for material in (cat.id_card, cat.photo):
        await ready_file(case, material, now=now)
    if state == "draft":
        return case
    await filing.submit(subject=applicant, case_id=case.id, cipher=CIPHER, now=now)
    if state == "submitted":
        return await Case.get(id=case.id)
    await prereview.accept(subject=subjects["clerk"], case_id=case.id, comment="", now=now)
    task = await ReviewTask.get(case_id=case.id, role="reviewer", department_code=cat.lead)
    await review.claim_task(subject=subjects["reviewer"], task_id=task.id, now=now)
    if state == "decided":
        await review.decide_task(
            subject=subjects["reviewer"],
            task_id=task.id,
            outcome="deny",
            opinion="不符合法定条件。",
            now=now,
        )
    return await Case.get(id=case.id)


async def _paid_case(world: dict[str, Any], *, company: bool) -> Case:
    now = datetime.now(UTC)
    subjects, cat = world["subjects"], world["cat"]
    applicant = subjects["company_rep"] if company else subjects["owner"]
    case = await filing.create_draft(
        subject=applicant,
        item_code=cat.paid_item,
        company_id=world["company"].id if company else None,
        principal_user_id=None,
        form={"reason": "姓名更正"},
        cipher=CIPHER,
        now=now,
    )
    await ready_file(case, cat.paid_material, now=now)
    await filing.submit(subject=applicant, case_id=case.id, cipher=CIPHER, now=now)
    await prereview.accept(subject=subjects["clerk"], case_id=case.id, comment="", now=now)
    task = await ReviewTask.get(case_id=case.id, role="reviewer", department_code=cat.lead)
    await review.claim_task(subject=subjects["reviewer"], task_id=task.id, now=now)
    await review.decide_task(
        subject=subjects["reviewer"], task_id=task.id, outcome="pass", opinion="同意。", now=now
    )
    order = await FeeOrder.get(open_reference=fees.reference_of(case.id))
    attempt = await ChannelOrder.create(
        order_id=order.id,
        channel="wechatpay",
        mode="in_app",
        out_trade_no=f"ZBMATRIX{order.id}{next(_seq)}",
        amount_fen=order.amount_fen,
        created_at=now,
        expires_at=now + timedelta(minutes=30),
    )
    paid = TradeStatus(
        out_trade_no=attempt.out_trade_no,
        state=TradeState.paid,
        transaction_id=f"4200MATRIX{order.id}{next(_seq)}",
        amount_fen=order.amount_fen,
        paid_at=now,
    )
    assert await apply_trade(channel="wechatpay", status=paid, now=now) is Applied.recorded
    await Discrepancy.create(
        channel="wechatpay",
        day=clock.local_today(now),
        kind="amount",
        entry="payment",
        out_trade_no=attempt.out_trade_no,
        ours_fen=order.amount_fen,
        theirs_fen=order.amount_fen - 1,
        department_code=order.payee_department_code,
        found_at=now,
    )
    return await Case.get(id=case.id)


async def build_world(app: Sanic, state: str, sandbox: httpx.AsyncClient) -> World:
    cat = await import_case_catalogue(app, audience="both")
    now = datetime.now(UTC)
    n = next(_seq)
    users = {}
    for kind in CITIZENS:
        number = id_number()
        users[kind] = await User.create(
            openid=f"o-matrix-{n}-{kind}",
            realname_level=1,
            real_name="张三丰",
            id_number_enc=CIPHER.encrypt(number, context=ID_CONTEXT),
            id_number_hash=CIPHER.lookup_hash(number, context=ID_CONTEXT),
        )
        # WeChat knows the user (the sandbox learns an openid when it issues a login code).
        known = await sandbox.post(
            "/wechat/_control/login-code", json={"openid": users[kind].openid}
        )
        assert known.status_code == 200, known.text
    subjects: dict[str, Subject] = {k: Subject(kind="user", id=u.id) for k, u in users.items()}
    staff_rows: dict[str, Staff] = {}
    for kind, (where, roles) in STAFF.items():
        department = cat.lead if where == "lead" else cat.other
        row = await Staff.create(
            username=f"matrix{n}{kind}".replace("_", ""),
            name="测试工作人员",
            department_code=department,
            roles=roles,
            active=kind != "deactivated",
        )
        staff_rows[kind] = row
        subjects[kind] = Subject(
            kind="staff", id=row.id, department_code=department, roles=frozenset(roles)
        )
    company = await Company.create(
        uscc=f"9136040{n:011d}"[:18],
        name=f"矩阵测试公司{n}",
        legal_rep=users["company_rep"],
        verified_at=now,
    )
    for kind, scopes, revoked in (
        ("agent_apply", ["apply"], None),
        ("agent_pay", ["pay"], None),
        ("agent_view", ["view"], None),
        ("agent_revoked", ["apply", "pay", "view"], now),
    ):
        await CompanyAgent.create(
            company=company, user=users[kind], scopes=scopes, accepted_at=now, revoked_at=revoked
        )
    spare_agent = await CompanyAgent.create(company=company, scopes=["view"])
    for kind, citizen in RECUSED.items():
        person = users[citizen]
        await Staff.filter(id=staff_rows[kind].id).update(openid=person.openid)
        answers_for = frozenset({company.id}) if citizen != "owner" else frozenset()
        subjects[kind] = replace(subjects[kind], person_id=person.id, person_companies=answers_for)
    today = clock.local_today(now)
    mandate = await Mandate.create(
        principal=users["owner"],
        agent=users["mandate_agent"],
        item_codes=[],
        ends_on=today.replace(year=today.year + 1),
    )
    await Mandate.create(
        principal=users["owner"],
        agent=users["mandate_ended"],
        item_codes=[],
        ends_on=today.replace(year=today.year + 1),
        ended_at=now,
        ended_by="principal",
    )
    raw = {"subjects": subjects, "cat": cat, "company": company}
    case = await _case_in(state, raw, company=False)
    company_case = await _case_in(state, raw, company=True)
    file = await Upload.filter(case_id=case.id).order_by("id").first()
    company_file = await Upload.filter(case_id=company_case.id).order_by("id").first()
    assert file is not None and company_file is not None
    attachment = await ready_file(case, None, now=now, staff_id=subjects["clerk"].id)
    task = await ReviewTask.filter(case_id=case.id).order_by("id").first()
    notice = None
    if state == "in_review":
        await supervision.issue_notice(
            subject=subjects["supervisor"],
            case_id=case.id,
            message="请加快办理。",
            now=now,
            yellow_days=2,
        )
        notice = await SupervisionNotice.filter(case_id=case.id).first()
    rating = None
    if state == "decided":
        await evaluation.rate(
            subject=subjects["owner"], case_id=case.id, score=1, tags=[], comment="", now=now
        )
        rating = await Evaluation.get(case_id=case.id)
    event = await OutboxEvent.all().order_by("id").first()
    assert event is not None
    tokens_service = app.ctx.auth.tokens
    tokens = {}
    for kind, subject in subjects.items():
        audience = "staff" if subject.is_staff else "citizen"
        pair = await tokens_service.issue(
            subject=f"{'s' if subject.is_staff else 'u'}:{subject.id}", audience=audience
        )
        tokens[kind] = pair.access_token
    return World(
        app=app,
        cat=cat,
        state=state,
        subjects=subjects,
        tokens=tokens,
        company=company,
        spare_agent=spare_agent,
        mandate=mandate,
        case=case,
        company_case=company_case,
        file=file,
        company_file=company_file,
        attachment=attachment,
        task=task,
        notice=notice,
        rating=rating,
        event=event,
        extra={
            "staff_rows": staff_rows,
            **(await _fee_rows(case, company_case)),
            **(await _notify_rows(subjects, now)),
        },
    )


async def _notify_rows(subjects: dict[str, Subject], now: datetime) -> dict[str, Any]:
    """An inbox line of the owner and one of the clerk, and a failed message, so the message
    routes have something of one person to refuse to the others."""
    lines = {}
    for kind in ("owner", "clerk"):
        subject = subjects[kind]
        line = await InboxMessage.create(
            recipient=f"{subject.kind}:{subject.id}",
            dedupe=f"matrix:{kind}:{subject.id}:{now.timestamp()}",
            kind="case.accepted",
            title="申请已受理",
            body="测试消息",
            created_at=now,
        )
        lines[kind] = line.id
    delivery = await Delivery.create(
        key=f"w{subjects['owner'].id:040d}",
        event_key="outbox:0:matrix",
        channel="wechat",
        recipient=f"user:{subjects['owner'].id}",
        kind="case.accepted",
        template="ZbProgress",
        address_sealed=CIPHER.encrypt("o-matrix", context="notify_delivery.address"),
        status="failed",
        next_at=now,
        event_at=now,
        created_at=now,
        updated_at=now,
    )
    return {"messages": lines, "delivery": delivery.id}


async def _fee_rows(case: Case, company_case: Case) -> dict[str, Any]:
    """The payments (by case), a receipt and a reconciliation difference of the world's cases,
    when they have a fee."""
    found: dict[str, Any] = {"payments": {}}
    for each in (case, company_case):
        order = await FeeOrder.get_or_none(reference=fees.reference_of(each.id))
        if order is not None and order.payment_id is not None:
            found["payments"][each.id] = order.payment_id
    if found["payments"]:
        payment = await Payment.get(id=next(iter(found["payments"].values())))
        found["receipt"] = {
            "receipt_number": payment.receipt_number,
            "code": payment.verification_code,
        }
        found["discrepancy"] = (await Discrepancy.all().order_by("id").first()).id  # type: ignore[union-attr]
    return found


# --------------------------------------------------------------------------------------------
# Scenarios: how to call each route on the world, and what it acts on
# --------------------------------------------------------------------------------------------

Value = Callable[[World], Any]
TargetOf = Callable[[World, Subject], Awaitable[Target | None] | Target | None]


@dataclass(frozen=True)
class Variant:
    """One way of calling a route: its parameters, query, body, and the target it acts on
    (``None``: the caller's own things, allowed to every caller of the audience)."""

    name: str = "default"
    params: dict[str, Value] = field(default_factory=dict)
    query: Callable[[World], dict[str, Any]] | None = None
    body: Callable[[World], Any] | None = None
    target: TargetOf | None = None
    action: Callable[[World], Action] | None = None
    #: A further condition of the route, beside the rule (who uploaded an attachment).
    also: Callable[[World, str], bool] | None = None


def sending(variants: tuple[Variant, ...], body: dict[str, Any]) -> tuple[Variant, ...]:
    """The same variants, each sending ``body`` (a copy each call)."""
    return tuple(replace(v, body=lambda w: copy.deepcopy(body)) for v in variants)


@dataclass(frozen=True)
class Scenario:
    variants: tuple[Variant, ...] = (Variant(),)
    states: tuple[str, ...] = ("submitted",)
    #: An allowed call changes the world for the next allowed caller: rebuild it.
    destructive: bool = False


def _case(w: World) -> int:
    return w.case.id


def holds_task(w: World, kind: str) -> bool:
    """During review the case is handled by the holder of its task (the world's reviewer)."""
    return w.task is not None and w.task.assignee_staff_id == w.subjects[kind].id


def _owned(case: Case) -> Owned:
    return kernel.owned(case)


def case_target(w: World, s: Subject) -> Target:
    return _owned(w.case)


def company_case_target(w: World, s: Subject) -> Target:
    return _owned(w.company_case)


def upload_target(upload: Upload) -> Owned:
    return Owned(
        owner_user_id=upload.owner_user_id, company_id=upload.company_id, item_code=upload.item_code
    )


def task_target(w: World, s: Subject) -> Target:
    assert w.task is not None
    return kernel.owned(w.case, departments=(w.task.department_code,))


def task_action(w: World) -> Action:
    assert w.task is not None
    return Action.review if w.task.role == "reviewer" else Action.approve


async def person_target(w: World, s: Subject) -> Target:
    return await kernel.person_as_handled(user_id=w.user("owner"))


def own_department(w: World, s: Subject) -> Target:
    return departments(s.department_code)


def lead(w: World, s: Subject) -> Target:
    return departments(w.cat.lead)


CASE_STATES = ("draft", "submitted", "decided")
STAFF_STATES = ("draft", "submitted", "in_review", "decided")
on_case = {"case_id": _case}
personal_and_company = (
    Variant("personal", params=on_case, target=case_target),
    Variant("company", params={"case_id": lambda w: w.company_case.id}, target=company_case_target),
)


def staff_case(body: Callable[[World], Any] | None = None, **kw: Any) -> Scenario:
    """A staff route on a case: a person's, and a company's (whose representative and agents
    may work in the department: recusal)."""
    states = kw.pop("states", STAFF_STATES)
    return Scenario(
        variants=(
            Variant(params=on_case, body=body, target=case_target, **kw),
            Variant(
                "company",
                params={"case_id": lambda w: w.company_case.id},
                body=body,
                target=company_case_target,
                **kw,
            ),
        ),
        states=states,
    )


def account(kind: str) -> Variant:
    return Variant(
        kind,
        params={"staff_id": lambda w: w.subjects[kind].id},
        target=lambda w, s: w.staff_account(kind),
    )


def both_accounts(**kw: Any) -> Scenario:
    return Scenario(
        variants=tuple(
            Variant(
                kind,
                params={"staff_id": (lambda k: lambda w: w.subjects[k].id)(kind)},
                body=kw.get("body"),
                target=(lambda k: lambda w, s: w.staff_account(k))(kind),
            )
            for kind in ("clerk", "supervisor_lead")
        ),
        destructive=kw.get("destructive", False),
    )


def guide_body(w: World) -> dict[str, Any]:
    return factories.guide(lead_department=w.cat.lead)


anonymous = Scenario()
SCENARIOS: dict[str, Scenario] = {
    # -- anyone ---------------------------------------------------------------------------
    "health.healthz": anonymous,
    "health.readyz": anonymous,
    "docs.openapi_json": anonymous,
    "docs.redoc": anonymous,
    "docs.swagger": anonymous,
    "public.search_items": anonymous,
    "public.get_item": Scenario(variants=(Variant(params={"code": lambda w: w.cat.item}),)),
    "public.list_departments": anonymous,
    "public.get_department": Scenario(variants=(Variant(params={"code": lambda w: w.cat.lead}),)),
    "public.list_themes": anonymous,
    "cases.public_status": Scenario(
        variants=(
            Variant(
                params={"acceptance_number": lambda w: w.case.acceptance_number},
                query=lambda w: {"name": "张三丰"},
            ),
        ),
        states=("in_review",),
    ),
    "identity.login": Scenario(variants=(Variant(body=lambda w: {"code": "no-such-code"}),)),
    "identity.refresh": Scenario(variants=(Variant(body=lambda w: {"refresh_token": "x" * 40}),)),
    "identity.staff_bind": Scenario(
        variants=(Variant(body=lambda w: {"bind_code": "AAAA-BBBB-CCCC", "code": "no-such"}),)
    ),
    "identity.staff_login": Scenario(variants=(Variant(body=lambda w: {"code": "no-such"}),)),
    "identity.staff_refresh": Scenario(
        variants=(Variant(body=lambda w: {"refresh_token": "x" * 40}),)
    ),
    # -- a citizen's own things -----------------------------------------------------------
    "identity.logout": anonymous,
    "identity.me": anonymous,
    "identity.bind_phone": Scenario(variants=(Variant(body=lambda w: {"code": "no-such"}),)),
    "identity.realname": Scenario(
        variants=(Variant(body=lambda w: {"name": "张三丰", "id_number": "360426199101010071"}),)
    ),
    "identity.face_start": anonymous,
    "identity.face_result": Scenario(variants=(Variant(body=lambda w: {"verify_id": "nope"}),)),
    "identity.my_companies": anonymous,
    "identity.register_company": Scenario(
        variants=(Variant(body=lambda w: {"uscc": "91110000600037341L", "name": "某公司"}),)
    ),
    "identity.accept": Scenario(variants=(Variant(body=lambda w: {"code": "no-such-code"}),)),
    "identity.mandates": anonymous,
    "identity.grant": Scenario(
        variants=(
            Variant(
                body=lambda w: {
                    "agent_name": "李四",
                    "agent_id_number": "360426199101010071",
                    "ends_on": "2099-01-01",
                }
            ),
        )
    ),
    # -- companies and mandates -----------------------------------------------------------
    "identity.invite": Scenario(
        variants=(
            Variant(
                params={"company_id": lambda w: w.company.id},
                body=lambda w: {"scopes": ["view"]},
                target=lambda w, s: Owned(company_id=w.company.id),
            ),
        )
    ),
    "identity.agents": Scenario(
        variants=(
            Variant(
                params={"company_id": lambda w: w.company.id},
                target=lambda w, s: Owned(company_id=w.company.id),
            ),
        )
    ),
    "identity.revoke_agent": Scenario(
        variants=(
            Variant(
                params={
                    "company_id": lambda w: w.company.id,
                    "agent_id": lambda w: w.spare_agent.id,
                },
                target=lambda w, s: Owned(company_id=w.company.id),
            ),
        )
    ),
    "identity.end": Scenario(
        variants=(
            Variant(
                params={"mandate_id": lambda w: w.mandate.id},
                target=lambda w, s: Relation(
                    frozenset({w.mandate.principal_id, w.mandate.agent_id})  # type: ignore[attr-defined]
                ),
            ),
        )
    ),
    # -- a citizen's cases and files ------------------------------------------------------
    "cases.create": Scenario(
        variants=(
            Variant(
                "for_company",
                body=lambda w: {
                    "item_code": w.cat.item,
                    "company_id": w.company.id,
                    "form": {"reason": "姓名更正"},
                },
                target=lambda w, s: Owned(company_id=w.company.id, item_code=w.cat.item),
            ),
            Variant(
                "for_principal",
                body=lambda w: {
                    "item_code": w.cat.item,
                    "principal_user_id": w.user("owner"),
                    "form": {"reason": "姓名更正"},
                },
                target=lambda w, s: Owned(owner_user_id=w.user("owner"), item_code=w.cat.item),
            ),
        )
    ),
    "cases.list_mine": Scenario(
        variants=(
            Variant(
                "company",
                query=lambda w: {"company_id": w.company.id},
                target=lambda w, s: Owned(company_id=w.company.id),
            ),
        )
    ),
    "cases.detail": Scenario(variants=personal_and_company, states=CASE_STATES),
    "cases.save_form": Scenario(
        variants=sending(personal_and_company, {"form": {"reason": "改"}}), states=CASE_STATES
    ),
    "cases.delete_draft": Scenario(
        variants=personal_and_company, states=CASE_STATES, destructive=True
    ),
    "cases.submit": Scenario(variants=personal_and_company, states=CASE_STATES),
    "cases.withdraw": Scenario(
        variants=sending(personal_and_company, {"reason": "不办了"}), states=CASE_STATES
    ),
    "evaluations.rate": Scenario(
        variants=sending(personal_and_company, {"score": 5}), states=CASE_STATES
    ),
    "uploads.create_intent": Scenario(
        variants=(
            Variant(
                "for_case",
                body=lambda w: {
                    "item_code": w.cat.item,
                    "material_code": w.cat.id_card,
                    "case_id": w.case.id,
                    "filename": "id.jpg",
                    "content_type": "image/jpeg",
                    "size": 1000,
                },
                target=case_target,
            ),
            Variant(
                "for_company",
                body=lambda w: {
                    "item_code": w.cat.item,
                    "material_code": w.cat.photo,
                    "company_id": w.company.id,
                    "filename": "id.jpg",
                    "content_type": "image/jpeg",
                    "size": 1000,
                },
                target=lambda w, s: Owned(company_id=w.company.id, item_code=w.cat.item),
            ),
        ),
        states=("draft", "submitted"),
    ),
    "uploads.list_mine": Scenario(
        variants=(
            Variant(
                "company",
                query=lambda w: {"company_id": w.company.id},
                target=lambda w, s: Owned(company_id=w.company.id),
            ),
        )
    ),
    **{
        name: Scenario(
            variants=(
                Variant(
                    "personal",
                    params={"upload_id": lambda w: w.file.id},
                    target=lambda w, s: upload_target(w.file),
                ),
                Variant(
                    "company",
                    params={"upload_id": lambda w: w.company_file.id},
                    target=lambda w, s: upload_target(w.company_file),
                ),
            ),
            states=("draft", "submitted"),
            destructive=name == "uploads.delete",
        )
        for name in ("uploads.get_one", "uploads.complete", "uploads.delete")
    },
    # -- staff: cases -----------------------------------------------------------------------
    "cases.inbox": Scenario(
        variants=(
            Variant(
                query=lambda w: {"role": "clerk"},
                target=own_department,
                action=lambda w: Action.accept,
            ),
        )
    ),
    "cases.staff_detail": staff_case(),
    "cases.accept": staff_case(lambda w: {}),
    "cases.refuse": staff_case(lambda w: {"reasons": "材料不符合要求。"}),
    "cases.corrections": Scenario(
        variants=(
            Variant(
                params=on_case,
                body=lambda w: {
                    "items": [{"kind": "material", "code": w.cat.photo, "problem": "照片模糊。"}]
                },
                target=case_target,
                action=lambda w: Action.review if w.state == "in_review" else Action.accept,
                also=lambda w, kind: w.state != "in_review" or holds_task(w, kind),
            ),
        ),
        states=("draft", "submitted", "in_review"),
    ),
    "cases.suspend": Scenario(
        variants=(
            Variant(
                params=on_case,
                body=lambda w: {"procedure": "hearing", "reason": "举行听证。"},
                target=case_target,
                action=lambda w: Action.review,
                also=holds_task,
            ),
        ),
        states=("in_review",),
    ),
    "cases.resume": Scenario(
        variants=(
            Variant(
                params=on_case,
                body=lambda w: {},
                target=case_target,
                action=lambda w: Action.review,
                also=holds_task,
            ),
        ),
        states=("in_review",),
    ),
    "cases.complete": staff_case(lambda w: {}),
    "cases.comment": staff_case(lambda w: {"text": "已核实。"}),
    "cases.attachment_intent": staff_case(
        lambda w: {"filename": "记录.pdf", "content_type": "application/pdf", "size": 1000}
    ),
    "cases.reveal_form_field": staff_case(
        lambda w: {"field": "reason", "reason": "核对申请人身份信息"}
    ),
    "cases.attachment_complete": Scenario(
        variants=(
            Variant(
                params={"upload_id": lambda w: w.attachment.id},
                target=case_target,
                also=lambda w, kind: kind == "clerk",
            ),
        ),
        states=STAFF_STATES,
    ),
    "uploads.staff_get": Scenario(
        variants=(Variant(params={"upload_id": lambda w: w.file.id}, target=case_target),),
        states=STAFF_STATES,
    ),
    **{
        f"cases.{name}": Scenario(
            variants=(
                Variant(
                    params={"task_id": lambda w: w.task.id},  # type: ignore[union-attr]
                    body=(lambda w: {"outcome": "pass", "opinion": "符合法定条件。"})
                    if name == "decide"
                    else None,
                    target=task_target,
                    action=task_action,
                ),
            ),
            states=("in_review",),
        )
        for name in ("claim", "release", "decide")
    },
    "identity.reveal": Scenario(
        variants=(
            Variant(
                params={"user_id": lambda w: w.user("owner")},
                body=lambda w: {"field": "id_number", "reason": "核对申请人身份"},
                target=person_target,
            ),
        ),
        states=("draft", "submitted"),
    ),
    "identity.staff_me": anonymous,
    "identity.staff_logout": anonymous,
    # -- staff: supervision -----------------------------------------------------------------
    "supervision.board": Scenario(
        variants=(Variant(query=lambda w: {"department": w.cat.lead}, target=lead),)
    ),
    "supervision.carded": Scenario(
        variants=(Variant(query=lambda w: {"department": w.cat.lead, "card": "red"}, target=lead),)
    ),
    "supervision.issue_notice": staff_case(lambda w: {"message": "请加快办理。"}),
    "supervision.case_notices": staff_case(),
    "supervision.reassign": Scenario(
        variants=(
            Variant(
                params={"task_id": lambda w: w.task.id},  # type: ignore[union-attr]
                body=lambda w: {"staff_id": w.subjects["reviewer"].id},
                target=task_target,
                action=lambda w: Action.reassign,
            ),
        ),
        states=("in_review",),
    ),
    "supervision.assignees": Scenario(
        variants=(
            Variant(
                params={"task_id": lambda w: w.task.id},  # type: ignore[union-attr]
                target=task_target,
                action=lambda w: Action.reassign,
            ),
        ),
        states=("in_review",),
    ),
    "supervision.my_notices": anonymous,
    "supervision.acknowledge": Scenario(
        variants=(
            Variant(
                params={"notice_id": lambda w: w.notice.id},  # type: ignore[union-attr]
                target=lambda w: None,  # replaced below
            ),
        ),
        states=("in_review",),
    ),
    # -- staff: ratings ---------------------------------------------------------------------
    "evaluations.staff_list": Scenario(
        variants=(Variant(query=lambda w: {"department": w.cat.lead}, target=lead),)
    ),
    "evaluations.stats": Scenario(
        variants=(Variant(query=lambda w: {"department": w.cat.lead}, target=lead),)
    ),
    "evaluations.answer": Scenario(
        variants=(
            Variant(
                params={"evaluation_id": lambda w: w.rating.id},  # type: ignore[union-attr]
                body=lambda w: {"answer": "已核实，向您致歉。"},
                # the rated case in the rating's department: its applicant side steps aside
                target=lambda w, s: kernel.owned(
                    w.case,
                    departments=(w.rating.department_code,),  # type: ignore[union-attr]
                ),
            ),
        ),
        states=("decided",),
    ),
    # -- administration ---------------------------------------------------------------------
    "admin.list_staff": Scenario(
        variants=(Variant(target=lambda w, s: StaffAccount(s.department_code or "", frozenset())),)
    ),
    "admin.create_staff": Scenario(
        variants=(
            Variant(
                body=lambda w: {
                    "username": f"made{next(_seq)}",
                    "name": "新来的",
                    "roles": ["clerk"],
                },
                target=lambda w, s: StaffAccount(s.department_code or "", frozenset({"clerk"})),
            ),
        )
    ),
    "admin.bind_code": both_accounts(),
    "admin.deactivate": both_accounts(destructive=True),
    "admin.activate": both_accounts(),
    "admin.roles": Scenario(
        variants=tuple(
            Variant(
                kind,
                params={"staff_id": (lambda k: lambda w: w.subjects[k].id)(kind)},
                body=lambda w: {"roles": ["clerk", "reviewer"]},
                target=(lambda k: lambda w, s: w.staff_account(k))(kind),
            )
            for kind in ("clerk", "supervisor_lead")
        ),
        destructive=True,
    ),
    "admin.create_draft": Scenario(variants=(Variant(body=guide_body, target=lead),)),
    "admin.versions": Scenario(
        variants=(Variant(params={"code": lambda w: w.cat.item}, target=lead),)
    ),
    "admin.update_draft": Scenario(
        variants=(
            Variant(
                params={"code": lambda w: w.cat.item, "number": lambda w: 1},
                body=lambda w: {**guide_body(w), "code": w.cat.item},
                target=lead,
            ),
        )
    ),
    "admin.publish": Scenario(
        variants=(
            Variant(params={"code": lambda w: w.cat.item, "number": lambda w: 1}, target=lead),
        )
    ),
    "admin.retire": Scenario(
        variants=(
            Variant(params={"code": lambda w: w.cat.item, "number": lambda w: 1}, target=lead),
        ),
        destructive=True,
    ),
    "calendar_admin.show_year": Scenario(variants=(Variant(target=lambda w, s: DEPLOYMENT),)),
    "calendar_admin.set_day": Scenario(
        variants=(
            Variant(
                params={"day": lambda w: "2027-06-11"},
                body=lambda w: {"is_workday": False, "note": "测试"},
                target=lambda w, s: DEPLOYMENT,
            ),
        )
    ),
    "calendar_admin.unset_day": Scenario(
        variants=(Variant(params={"day": lambda w: "2027-06-11"}, target=lambda w, s: DEPLOYMENT),)
    ),
    "outbox_admin.list_events": Scenario(variants=(Variant(target=lambda w, s: DEPLOYMENT),)),
    "outbox_admin.get_event": Scenario(
        variants=(
            Variant(params={"event_id": lambda w: w.event.id}, target=lambda w, s: DEPLOYMENT),
        )
    ),
    "outbox_admin.replay": Scenario(
        variants=(
            Variant(params={"event_id": lambda w: w.event.id}, target=lambda w, s: DEPLOYMENT),
        )
    ),
}
FEE_STATES = ("fee",)


def fee_case_target(w: World, s: Subject) -> Target:
    """A case's fee, to finance: the case as the payee (lead) department holds it."""
    return kernel.owned(w.case, departments=(w.case.lead_department_code,))


def fee_company_case_target(w: World, s: Subject) -> Target:
    return kernel.owned(w.company_case, departments=(w.company_case.lead_department_code,))


def _payment_params(company: bool) -> dict[str, Value]:
    def case_id(w: World) -> int:
        return (w.company_case if company else w.case).id

    def payment_id(w: World) -> int:
        return int(w.extra["payments"][case_id(w)])

    return {"case_id": case_id, "payment_id": payment_id}


receipts = (
    Variant("personal", params=_payment_params(False), target=case_target),
    Variant("company", params=_payment_params(True), target=company_case_target),
)
finance_lists = (
    Variant("lead", query=lambda w: {"department": w.cat.lead}, target=lead),
    Variant("own", target=own_department),
)
SCENARIOS.update(
    {
        "payments.fee": Scenario(variants=personal_and_company, states=FEE_STATES),
        "payments.pay": Scenario(
            variants=sending(personal_and_company, {"channel": "alipay", "mode": "qr"}),
            states=FEE_STATES,
        ),
        "payments.returned": Scenario(
            variants=sending(personal_and_company, {"out_trade_no": "ZBNOSUCHATTEMPT"}),
            states=FEE_STATES,
        ),
        "payments.receipt": Scenario(variants=receipts, states=FEE_STATES),
        "payments.receipt_pdf": Scenario(variants=receipts, states=FEE_STATES),
        "payments.verify_receipt": Scenario(
            variants=(Variant(query=lambda w: dict(w.extra["receipt"])),), states=FEE_STATES
        ),
        "payments.department_orders": Scenario(variants=finance_lists, states=FEE_STATES),
        "payments.department_refunds": Scenario(variants=finance_lists, states=FEE_STATES),
        "payments.discrepancies": Scenario(variants=finance_lists, states=FEE_STATES),
        "payments.resolve": Scenario(
            variants=(
                Variant(
                    params={"discrepancy_id": lambda w: w.extra["discrepancy"]},
                    body=lambda w: {"note": "已与银行核对。"},
                    target=lead,
                ),
            ),
            states=FEE_STATES,
        ),
        "payments.refund": Scenario(
            variants=(
                Variant(
                    params=on_case,
                    body=lambda w: {"amount_fen": 100, "reason": "部分费用退回"},
                    target=fee_case_target,
                ),
                Variant(
                    "company",
                    params={"case_id": lambda w: w.company_case.id},
                    body=lambda w: {"amount_fen": 100, "reason": "部分费用退回"},
                    target=fee_company_case_target,
                ),
            ),
            states=FEE_STATES,
        ),
        # The platforms' callbacks: anyone may post; what is refused is told in the platform's
        # own answer (tests/functional/test_payments*.py), never a 5XX.
        "callbacks.wechatpay_paid": anonymous,
        "callbacks.wechatpay_refunded": anonymous,
        "callbacks.alipay_notified": anonymous,
    }
)


def _line_of(kind: str) -> Variant:
    """An inbox line of ``kind``'s: only its one recipient reads or marks it."""
    return Variant(
        f"line of {kind}",
        params={"message_id": lambda w: w.extra["messages"][kind]},
        target=lambda w, s: Addressee(kind=w.subjects[kind].kind, id=w.subjects[kind].id),
        action=lambda w: Action.view,
    )


on_deployment = Variant(target=lambda w, s: DEPLOYMENT)
on_delivery = Variant(
    params={"delivery_id": lambda w: w.extra["delivery"]}, target=lambda w, s: DEPLOYMENT
)
consent = {"results": {"ZbProgress0000000000000000000000000000000": "accept"}}
staff_consent = {"results": {"ZbStaffTask00000000000000000000000000000": "accept"}}
SCENARIOS.update(
    {
        # Own things, scoped by the token: every caller of the audience, on their own.
        "notify.me_list_messages": anonymous,
        "notify.me_unread": anonymous,
        "notify.me_read_all": anonymous,
        "notify.me_grants": anonymous,
        "notify.me_report": Scenario(variants=sending((Variant(),), consent)),
        "notify.to_ask": Scenario(variants=(Variant(query=lambda w: {"moment": "submit"}),)),
        "notify.get_preferences": anonymous,
        "notify.put_preferences": Scenario(variants=sending((Variant(),), {"sms": False})),
        "notify.staff_list_messages": anonymous,
        "notify.staff_unread": anonymous,
        "notify.staff_read_all": anonymous,
        "notify.staff_grants": anonymous,
        "notify.staff_report": Scenario(variants=sending((Variant(),), staff_consent)),
        "notify.staff_to_ask": anonymous,
        # One person's line: theirs only.
        "notify.me_read_one": Scenario(variants=(_line_of("owner"), _line_of("clerk"))),
        "notify.staff_read_one": Scenario(variants=(_line_of("clerk"), _line_of("owner"))),
        # The send ledger: the deployment's operators.
        "notify.list_deliveries": Scenario(variants=(on_deployment,)),
        "notify.list_alerts": Scenario(variants=(on_deployment,)),
        "notify.get_delivery": Scenario(variants=(on_delivery,)),
        "notify.replay_delivery": Scenario(variants=(on_delivery,), destructive=True),
        # The SMS provider's receipts: anyone may post; the token in the URL decides.
        "notify_callbacks.sms_receipts": anonymous,
    }
)
SCENARIOS["supervision.acknowledge"] = Scenario(
    variants=(
        Variant(
            params={"notice_id": lambda w: w.notice.id},  # type: ignore[union-attr]
            target=lambda w, s: Addressed(
                w.notice.assignee_staff_id,  # type: ignore[union-attr]
                w.notice.department_code,  # type: ignore[union-attr]
                case=_owned(w.case),
            ),
            action=lambda w: Action.acknowledge,
        ),
    ),
    states=("in_review",),
)
SCENARIOS["identity.end"] = Scenario(
    variants=(
        Variant(
            params={"mandate_id": lambda w: w.mandate.id},
            target=lambda w, s: Relation(frozenset({w.user("owner"), w.user("mandate_agent")})),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# The routes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    spec: Endpoint


def api_routes(app: Sanic) -> list[Route]:
    found = []
    for route in app.router.routes:
        if route.path.startswith(EXTERNAL_PREFIXES) or route.path.startswith("sandbox"):
            continue
        spec = spec_of(route.handler)
        name = route.name.split(".", 1)[1]
        assert spec is not None, f"route {name} ({route.path}) has no @endpoint declaration"
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            found.append(Route(name=name, method=method, path=route.path, spec=spec))
    return sorted(found, key=lambda r: r.name)


def test_every_route_has_a_scenario(app: Sanic) -> None:
    names = {route.name for route in api_routes(app)}
    missing = sorted(names - set(SCENARIOS))
    assert not missing, f"routes without an entry in the authorization matrix: {missing}"
    stale = sorted(set(SCENARIOS) - names)
    assert not stale, f"matrix entries of no route: {stale}"


# --------------------------------------------------------------------------------------------
# Expected and observed
# --------------------------------------------------------------------------------------------


async def expected(world: World, kind: str, route: Route, variant: Variant) -> bool:
    """Whether ``auth.permissions`` lets ``kind`` through ``route`` on the world's target."""
    spec = route.spec
    if spec.audience is Audience.anonymous:
        return True
    subject = world.subjects.get(kind)
    if spec.audience is Audience.public:
        return subject is None or not subject.is_staff  # a token, when sent, is a citizen's
    if subject is None or kind == "deactivated":
        return False
    if subject.is_staff != (spec.audience is Audience.staff):
        return False
    if spec.actions and not any(may_attempt(subject, a) for a in spec.actions):
        return False
    if variant.target is None:
        return True
    target = variant.target(world, subject)
    if isinstance(target, Awaitable):
        target = await target
    if target is None:
        return True
    action = variant.action(world) if variant.action else spec.actions[0]
    allowed = await can(subject, action, target, today=clock.local_today(datetime.now(UTC)))
    if allowed and variant.also is not None:
        return variant.also(world, kind)
    return allowed


def _path(route: Route, world: World, variant: Variant) -> str:
    import re

    def fill(match: re.Match[str]) -> str:
        return str(variant.params[match.group(1)](world))

    return "/" + re.sub(r"<([A-Za-z_][A-Za-z0-9_]*)(?::[^>]*)?>", fill, route.path)


async def call(
    http: httpx.AsyncClient, world: World, kind: str, route: Route, variant: Variant
) -> httpx.Response:
    headers = {}
    if kind != "anonymous":
        headers["authorization"] = f"Bearer {world.tokens[kind]}"
    kwargs: dict[str, Any] = {"headers": headers}
    if variant.query is not None:
        kwargs["params"] = variant.query(world)
    if variant.body is not None:
        kwargs["json"] = variant.body(world)
    elif route.method in ("POST", "PUT"):
        kwargs["json"] = {}
    return await http.request(route.method, _path(route, world, variant), **kwargs)


def denied(response: httpx.Response) -> bool:
    if response.status_code not in (401, 403, 404):
        return False
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return False
    return code in DENIALS


async def fingerprint() -> dict[str, int]:
    """Row counts of every table: what a refused request must leave as it was."""
    conn = connections.get("default")
    counts = {}
    for model in Tortoise.apps["models"].values():
        table = model._meta.db_table
        if table == "aerich":
            continue
        rows = await conn.execute_query_dict(f'SELECT count(*) AS n FROM "{table}"')
        counts[table] = int(rows[0]["n"])
    return counts


ROUTE_NAMES = sorted(SCENARIOS)


@pytest.mark.parametrize("name", ROUTE_NAMES)
async def test_route_answers_as_the_rule_decides(
    name: str, clean: Sanic, http: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    routes = [r for r in api_routes(clean) if r.name == name]
    assert routes, f"no route named {name}"
    scenario = SCENARIOS[name]
    problems: list[str] = []
    # The worker's handlers write after the fact (statistics of decisions): paused, so that the
    # rows a refused caller must leave alone are the requests' alone.
    async with worker_paused(clean):
        for route in routes:
            for state in scenario.states:
                for variant in scenario.variants:
                    problems += await _check(clean, http, sandbox, route, scenario, variant, state)
    assert not problems, "\n".join(problems[:40])


async def _check(
    app: Sanic,
    http: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    route: Route,
    scenario: Scenario,
    variant: Variant,
    state: str,
) -> list[str]:
    world = await build_world(app, state, sandbox)
    decisions = {kind: await expected(world, kind, route, variant) for kind in SUBJECT_KINDS}
    where = f"{route.method} {route.path} [{variant.name}, {state}]"
    problems: list[str] = []
    before = await fingerprint()
    for kind in (k for k in SUBJECT_KINDS if not decisions[k]):
        response = await call(http, world, kind, route, variant)
        if not denied(response):
            problems.append(f"{where}: {kind} expected a refusal, got {_said(response)}")
    after = await fingerprint()
    if before != after:
        changed = {t: (before[t], after[t]) for t in before if before[t] != after.get(t)}
        problems.append(f"{where}: refused callers changed rows: {changed}")
    first = True
    for kind in (k for k in SUBJECT_KINDS if decisions[k]):
        if scenario.destructive and not first:
            world = await build_world(app, state, sandbox)
        first = False
        response = await call(http, world, kind, route, variant)
        if denied(response) or response.status_code >= 500:
            problems.append(f"{where}: {kind} expected through, got {_said(response)}")
    return problems


def _said(response: httpx.Response) -> str:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = ""
    return f"{response.status_code} {code}".strip()
