"""Helpers for case tests: a catalogue shaped for cases, the citizen's filing flow and the staff
of the departments, all over HTTP as the mini-program does it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sanic import Sanic

from core.calendar import calendar_source
from tests import factories, images
from tests.people import Phone, citizen
from tests.staff import StaffMember, staff_member
from tests.uploads import uploaded


@dataclass(frozen=True)
class CaseCatalogue:
    lead: str
    partner: str  # parallel department of ``parallel_item``
    other: str  # a department with nothing to do with these items
    item: str  # free, lead only, review then approval; materials id + photo, conditional proof
    id_card: str
    photo: str
    proof: str  # conditional: needed when form.moving is true
    paid_item: str  # fee 5000 fen, one reviewer step, lead only
    paid_material: str
    parallel_item: str  # lead + partner in parallel, then approval
    parallel_material: str


async def import_case_catalogue(app: Sanic, *, audience: str = "person") -> CaseCatalogue:
    """The case tests' one catalogue: three departments and three items (see ``CaseCatalogue``),
    open to ``audience`` (``both`` lets companies apply too)."""
    lead = factories.department(name="测试市公安局")
    partner = factories.department(name="测试市市场监督管理局")
    other = factories.department(name="测试市园林局")
    id_card = factories.material(name="居民身份证", formats=["jpg", "png"], max_files=2)
    photo = factories.material(name="近期免冠照片", formats=["jpg", "png"], max_files=1)
    proof = factories.material(
        name="迁入地住所证明",
        requirement="conditional",
        condition="迁入新住所时提供",
        when={"moving": True},
        formats=["jpg", "png", "pdf"],
    )
    item = factories.guide(
        lead_department=lead["code"],
        name="户口登记项目变更",
        audience=audience,
        materials=[id_card, photo, proof],
        form_schema={
            "type": "object",
            "properties": {
                "reason": {"type": "string", "title": "申请原因", "minLength": 2},
                "moving": {"type": "boolean", "title": "是否迁入新住所"},
            },
            "required": ["reason"],
        },
        review_steps=[{"name": "审查", "role": "reviewer"}, {"name": "决定", "role": "approver"}],
    )
    paid_material = factories.material(name="营业执照", formats=["jpg", "png"])
    paid_item = factories.guide(
        lead_department=lead["code"],
        name="收费证明办理",
        audience=audience,
        materials=[paid_material],
        fee={"amount_fen": 5000, "basis": "《测试收费标准》"},
        online_payment=True,
        review_steps=[{"name": "审查决定", "role": "reviewer"}],
    )
    parallel_material = factories.material(name="经营场所证明", formats=["jpg", "png"])
    parallel_item = factories.guide(
        lead_department=lead["code"],
        parallel_departments=[partner["code"]],
        name="并联审批测试事项",
        audience=audience,
        materials=[parallel_material],
        review_steps=[
            {"name": "并联审查", "role": "reviewer"},
            {"name": "决定", "role": "approver"},
        ],
    )
    await factories.imported(
        app, departments=[lead, partner, other], items=[item, paid_item, parallel_item]
    )
    calendar_source.invalidate()  # the tables were emptied: no override of an earlier test
    return CaseCatalogue(
        lead=lead["code"],
        partner=partner["code"],
        other=other["code"],
        item=item["code"],
        id_card=id_card["code"],
        photo=photo["code"],
        proof=proof["code"],
        paid_item=paid_item["code"],
        paid_material=paid_material["code"],
        parallel_item=parallel_item["code"],
        parallel_material=parallel_material["code"],
    )


def required_materials(cat: CaseCatalogue, item: str) -> list[str]:
    """The materials an item of the catalogue needs whatever the form says."""
    return {
        cat.item: [cat.id_card, cat.photo],
        cat.paid_item: [cat.paid_material],
        cat.parallel_item: [cat.parallel_material],
    }[item]


PHOTO = images.png(64, 48)


async def draft(
    person: Phone, item: str, form: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    response = await person.call(
        "POST",
        "/api/v1/cases",
        json={"item_code": item, "form": form if form is not None else {"reason": "姓名更正"}}
        | extra,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def attach(person: Phone, case_id: int, item: str, material: str) -> dict[str, Any]:
    """One photo uploaded for the case's material, as the mini-program does it."""
    return await uploaded(person, item, material, PHOTO, content_type="image/png", case_id=case_id)


async def filed(person: Phone, cat: CaseCatalogue, item: str | None = None) -> int:
    """A case submitted with every required material; its id."""
    item = item or cat.item
    case = await draft(person, item)
    for material in required_materials(cat, item):
        await attach(person, case["id"], item, material)
    submitted = await person.call("POST", f"/api/v1/cases/{case['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    return int(case["id"])


async def applicant(phone: Phone) -> Phone:
    return await citizen(phone)


@dataclass
class Office:
    """The staff of the lead and partner departments, one per role."""

    clerk: StaffMember
    reviewer: StaffMember
    approver: StaffMember
    dispatcher: StaffMember
    supervisor: StaffMember
    partner_reviewer: StaffMember
    other_clerk: StaffMember


async def office(
    app: Sanic, api: httpx.AsyncClient, sandbox: httpx.AsyncClient, cat: CaseCatalogue
) -> Office:
    async def member(dept: str, *roles: str) -> StaffMember:
        return await staff_member(app, api, sandbox, department_code=dept, roles=list(roles))

    return Office(
        clerk=await member(cat.lead, "clerk"),
        reviewer=await member(cat.lead, "reviewer"),
        approver=await member(cat.lead, "approver"),
        dispatcher=await member(cat.lead, "dispatcher"),
        supervisor=await member(cat.lead, "supervisor"),
        partner_reviewer=await member(cat.partner, "reviewer"),
        other_clerk=await member(cat.other, "clerk"),
    )


async def open_task(staff: StaffMember, case_id: int, role: str | None = None) -> int:
    """The id of the staff member's department's open task on the case."""
    inbox = await staff.call("GET", "/api/v1/staff/inbox", params={"role": role or staff.roles[0]})
    assert inbox.status_code == 200, inbox.text
    for row in inbox.json()["items"]:
        if row["id"] == case_id and row["task"]["status"] == "open":
            return int(row["task"]["id"])
    raise AssertionError(f"no open task for case {case_id}: {inbox.json()}")


async def pass_step(staff: StaffMember, case_id: int, outcome: str = "pass") -> httpx.Response:
    task = await open_task(staff, case_id)
    claimed = await staff.call("POST", f"/api/v1/staff/tasks/{task}/claim")
    assert claimed.status_code == 200, claimed.text
    return await staff.call(
        "POST",
        f"/api/v1/staff/tasks/{task}/decide",
        json={"outcome": outcome, "opinion": "材料齐全，符合法定条件。"},
    )


@dataclass
class Scene:
    """What most case tests start from: the case catalogue, its departments staffed one per
    role, and an applicant at L1 (the ``scene`` fixture, ``tests.case_fixtures``)."""

    app: Sanic
    cat: CaseCatalogue
    staff: Office
    person: Phone


async def scene_of(
    app: Sanic,
    api: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    phone: Callable[[], Phone],
    cat: CaseCatalogue,
) -> Scene:
    return Scene(
        app=app,
        cat=cat,
        staff=await office(app, api, sandbox, cat),
        person=await applicant(phone()),
    )
