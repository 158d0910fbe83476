"""Staff over HTTP: WeChat binding and login, token audiences, department administration,
deactivation, the catalogue administration API and the recorded reveal of personal data.

"A staff member of department A opening department B's admin functions" is refused everywhere
with 403, and the database is checked to be unchanged after each refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sanic import Sanic

from auth import staff as staff_accounts
from auth.models import PersonalDataAccess, Staff
from auth.permissions import Subject
from catalog import service as catalog
from catalog.models import Item, ItemVersion
from core.clock import utcnow
from tests import factories
from tests.cases_flow import import_case_catalogue
from tests.cases_service import draft, submitted
from tests.functional.test_http_edge import assert_envelope
from tests.people import Handset, Phone, citizen
from tests.staff import Hire, StaffMember, create_staff, username

DEPT_A = "DEPT-A"
DEPT_B = "DEPT-B"


async def staff_row(member: StaffMember | int) -> dict[str, Any]:
    staff_id = member if isinstance(member, int) else member.id
    row = await Staff.get(id=staff_id)
    return {
        "username": row.username,
        "name": row.name,
        "department_code": row.department_code,
        "roles": list(row.roles),
        "active": row.active,
        "openid": row.openid,
        "bind_code_hash": row.bind_code_hash,
    }


# --------------------------------------------------------------------------------------------
# Binding and login
# --------------------------------------------------------------------------------------------


async def test_bind_code_binds_a_wechat_once(hire: Hire) -> None:
    member = await hire(DEPT_A, "clerk")

    assert member.tokens["staff"] == {
        "id": member.id,
        "username": (await Staff.get(id=member.id)).username,
        "name": "测试工作人员",
        "department_code": DEPT_A,
        "roles": ["clerk"],
        "active": True,
        "wechat_bound": True,
    }
    assert member.tokens["access_token"] and member.tokens["refresh_token"]
    row = await staff_row(member)
    assert row["openid"] == member.openid and row["bind_code_hash"] is None
    me = await member.call("GET", "/api/v1/staff/me")
    assert me.status_code == 200 and me.json()["id"] == member.id

    # The code is used up: neither another phone nor the same WeChat can use it again.
    intruder = member.another_phone(member.bind_code)
    assert_envelope(await intruder.try_bind(), 400, "auth.bind_code_invalid")
    assert_envelope(await member.try_bind(), 400, "auth.bind_code_invalid")
    assert (await staff_row(member))["openid"] == member.openid


async def test_bind_code_is_case_and_space_tolerant(hire: Hire) -> None:
    member = await hire(DEPT_A, "clerk", bind=False)

    response = await member.try_bind(f"  {member.bind_code.lower()} ")

    assert response.status_code == 200, response.text


async def test_expired_or_unknown_bind_code_is_refused(hire: Hire) -> None:
    member = await hire(DEPT_A, "clerk", bind=False)
    await Staff.filter(id=member.id).update(
        bind_code_expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    before = await staff_row(member)

    assert_envelope(await member.try_bind(), 400, "auth.bind_code_invalid")
    assert_envelope(await member.try_bind("0000-0000-0000"), 400, "auth.bind_code_invalid")

    assert await staff_row(member) == before
    assert before["openid"] is None


async def test_a_wechat_bound_to_another_staff_cannot_bind_again(hire: Hire) -> None:
    first = await hire(DEPT_A, "clerk")
    second = await hire(DEPT_A, "reviewer", bind=False)
    second.openid = first.openid  # the first staff member's WeChat
    before = await staff_row(second)

    assert_envelope(await second.try_bind(), 409, "auth.wechat_bound_elsewhere")

    assert await staff_row(second) == before
    # The code was not used up by the refused attempt: with their own WeChat it works.
    second.openid = None
    assert (await second.try_bind()).status_code == 200


async def test_staff_log_in_with_their_bound_wechat(hire: Hire) -> None:
    member = await hire(DEPT_A, "clerk")
    first_tokens = dict(member.tokens)

    logged_in = await member.login()

    assert logged_in["staff"]["id"] == member.id
    assert logged_in["access_token"] != first_tokens["access_token"]
    assert (await member.call("GET", "/api/v1/staff/me")).status_code == 200


async def test_a_citizen_wechat_is_not_staff(
    clean: Sanic, phone: Callable[[], Phone], client: httpx.AsyncClient
) -> None:
    person = phone()
    await person.login()
    code = await person.wx_login_code()

    assert_envelope(
        await client.post("/api/v1/staff/auth/login", json={"code": code}), 403, "auth.not_staff"
    )
    assert not await Staff.exists()


async def test_staff_and_citizen_tokens_do_not_cross(
    hire: Hire, phone: Callable[[], Phone], client: httpx.AsyncClient
) -> None:
    member = await hire(DEPT_A, "admin")
    person = phone()
    await person.login()

    for path in ("/api/v1/me", "/api/v1/companies", "/api/v1/mandates"):
        assert_envelope(await member.call("GET", path), 401, "auth.token_invalid")
    for path in ("/api/v1/staff/me", "/api/v1/admin/staff"):
        assert_envelope(await person.call("GET", path), 401, "auth.token_invalid")
    assert_envelope(
        await reveal(person, person, {"field": "id_number", "reason": "核对身份信息"}),
        401,
        "auth.token_invalid",
    )
    assert_envelope(
        await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": member.tokens["refresh_token"]}
        ),
        401,
        "auth.refresh_invalid",
    )
    assert_envelope(
        await client.post(
            "/api/v1/staff/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]}
        ),
        401,
        "auth.refresh_invalid",
    )
    assert not await PersonalDataAccess.exists()


# --------------------------------------------------------------------------------------------
# Department administration
# --------------------------------------------------------------------------------------------


@pytest.fixture
async def departments(hire: Hire) -> dict[str, StaffMember]:
    """An admin, a clerk and a dispatcher in A; an admin and a clerk in B."""
    people: dict[str, StaffMember] = {}
    for key, dept, roles in (
        ("admin_a", DEPT_A, ["admin"]),
        ("clerk_a", DEPT_A, ["clerk"]),
        ("dispatcher_a", DEPT_A, ["dispatcher"]),
        ("admin_b", DEPT_B, ["admin"]),
        ("clerk_b", DEPT_B, ["clerk", "reviewer"]),
    ):
        people[key] = await hire(dept, *roles)
    return people


async def test_admin_lists_staff_of_their_own_department_only(
    departments: dict[str, StaffMember],
) -> None:
    for admin, dept in (("admin_a", DEPT_A), ("admin_b", DEPT_B)):
        response = await departments[admin].call("GET", "/api/v1/admin/staff")
        assert response.status_code == 200, response.text
        listed = response.json()["staff"]
        expected = {m.id for m in departments.values() if m.department_code == dept}
        assert {s["id"] for s in listed} == expected
        assert {s["department_code"] for s in listed} == {dept}
        assert all("bind_code" not in s and "openid" not in s for s in listed)


async def test_admin_creates_staff_in_their_own_department(
    departments: dict[str, StaffMember], client: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    name = username()
    elsewhere = await departments["admin_a"].call(
        "POST",
        "/api/v1/admin/staff",
        json={
            "username": name,
            "name": "新来的",
            "roles": ["reviewer"],
            "department_code": DEPT_B,  # not a field of the request: refused, not ignored
        },
    )
    error = assert_envelope(elsewhere, 400, "request.validation_failed")
    assert error["details"]["fields"][0]["field"] == "department_code"
    assert not await Staff.filter(username=name).exists()
    response = await departments["admin_a"].call(
        "POST",
        "/api/v1/admin/staff",
        json={"username": name, "name": "新来的", "roles": ["reviewer"]},
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["department_code"] == DEPT_A
    assert created["roles"] == ["reviewer"] and created["wechat_bound"] is False
    assert response.headers["cache-control"] == "no-store"
    row = await Staff.get(username=name)
    assert row.department_code == DEPT_A
    assert row.created_by == f"s:{departments['admin_a'].id}"

    newcomer = StaffMember(
        api=client,
        sandbox=sandbox,
        id=row.id,
        department_code=DEPT_A,
        roles=["reviewer"],
        bind_code=created["bind_code"],
    )
    assert (await newcomer.bind())["staff"]["department_code"] == DEPT_A


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "AB", "name": "新来的", "roles": ["clerk"]}, "username"),
        ({"username": "valid_name", "name": "新来的", "roles": ["root"]}, "roles[0]"),
        ({"username": "valid_name", "name": "新来的", "roles": []}, "roles"),
    ],
)
async def test_admin_create_with_bad_input_is_refused(
    departments: dict[str, StaffMember], body: dict[str, Any], field: str
) -> None:
    count = await Staff.all().count()

    error = assert_envelope(
        await departments["admin_a"].call("POST", "/api/v1/admin/staff", json=body),
        400,
        "request.validation_failed",
    )

    assert [f["field"] for f in error["details"]["fields"]] == [field]
    assert await Staff.all().count() == count


async def test_admin_create_with_a_taken_username_is_409(
    departments: dict[str, StaffMember],
) -> None:
    taken = (await Staff.get(id=departments["clerk_b"].id)).username
    count = await Staff.all().count()

    assert_envelope(
        await departments["admin_a"].call(
            "POST",
            "/api/v1/admin/staff",
            json={"username": taken, "name": "重名的", "roles": ["clerk"]},
        ),
        409,
        "auth.username_taken",
    )
    assert await Staff.all().count() == count


async def test_admin_of_a_cannot_administer_staff_of_b(
    departments: dict[str, StaffMember],
) -> None:
    admin_a, clerk_b = departments["admin_a"], departments["clerk_b"]
    before = await staff_row(clerk_b)
    base = f"/api/v1/admin/staff/{clerk_b.id}"

    for method, path, body in (
        ("POST", f"{base}/deactivate", None),
        ("POST", f"{base}/activate", None),
        ("PUT", f"{base}/roles", {"roles": ["admin"]}),
        ("POST", f"{base}/bind-code", None),
    ):
        error = assert_envelope(await admin_a.call(method, path, json=body), 403, "auth.forbidden")
        assert error["details"] == {"department": DEPT_B}

    assert await staff_row(clerk_b) == before
    assert (await clerk_b.call("GET", "/api/v1/staff/me")).status_code == 200


async def test_admin_changes_roles_of_their_own_staff(
    departments: dict[str, StaffMember],
) -> None:
    clerk = departments["clerk_a"]

    response = await departments["admin_a"].call(
        "PUT", f"/api/v1/admin/staff/{clerk.id}/roles", json={"roles": ["reviewer", "clerk"]}
    )

    assert response.status_code == 200, response.text
    assert response.json()["roles"] == ["clerk", "reviewer"]
    assert (await staff_row(clerk))["roles"] == ["clerk", "reviewer"]


async def test_a_worker_reuses_a_standing_for_at_most_max_age_and_forgets_its_own_changes(
    clean: Sanic, departments: dict[str, StaffMember]
) -> None:
    """The staff guard reads the account at most ``revocation_check_s`` late (tests run with 0,
    so every request reads afresh); a change made through this worker is seen at once."""
    clerk = departments["clerk_a"]
    first = await staff_accounts.staff_standing(staff_id=clerk.id, max_age_s=60)
    assert first.roles == ("clerk",)

    # Another process (the CLI, another worker) changes the account behind this worker's back.
    await Staff.filter(id=clerk.id).update(roles=["clerk", "reviewer"])
    assert await staff_accounts.staff_standing(staff_id=clerk.id, max_age_s=60) == first
    assert (await staff_accounts.staff_standing(staff_id=clerk.id, max_age_s=0)).roles == (
        "clerk",
        "reviewer",
    )

    # A change through this worker's service is seen at once, however long the reuse allowed.
    await staff_accounts.set_staff_roles(admin=None, staff_id=clerk.id, roles=["clerk"])
    standing = await staff_accounts.staff_standing(staff_id=clerk.id, max_age_s=60)
    assert standing.roles == ("clerk",)
    await staff_accounts.set_staff_active(
        tokens=clean.ctx.auth.tokens, admin=None, staff_id=clerk.id, active=False
    )
    assert (await staff_accounts.staff_standing(staff_id=clerk.id, max_age_s=60)).active is False


@pytest.mark.parametrize("who", ["clerk_a", "dispatcher_a"])
async def test_staff_who_are_not_admins_cannot_use_admin_staff(
    departments: dict[str, StaffMember], who: str
) -> None:
    member = departments[who]
    count = await Staff.all().count()
    before = await staff_row(departments["clerk_a"])

    assert_envelope(await member.call("GET", "/api/v1/admin/staff"), 403, "auth.forbidden")
    assert_envelope(
        await member.call(
            "POST",
            "/api/v1/admin/staff",
            json={"username": username(), "name": "新来的", "roles": ["admin"]},
        ),
        403,
        "auth.forbidden",
    )
    assert_envelope(
        await member.call(
            "PUT",
            f"/api/v1/admin/staff/{departments['clerk_a'].id}/roles",
            json={"roles": ["admin"]},
        ),
        403,
        "auth.forbidden",
    )

    assert await Staff.all().count() == count
    assert await staff_row(departments["clerk_a"]) == before


async def test_deactivation_ends_sessions_at_once_and_reactivation_allows_login(
    departments: dict[str, StaffMember],
) -> None:
    admin, clerk = departments["admin_a"], departments["clerk_a"]
    old = dict(clerk.tokens)
    assert (await clerk.call("GET", "/api/v1/staff/me")).status_code == 200

    response = await admin.call("POST", f"/api/v1/admin/staff/{clerk.id}/deactivate")

    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert (await staff_row(clerk))["active"] is False
    assert_envelope(await clerk.call("GET", "/api/v1/staff/me"), 401, "auth.token_revoked")
    assert_envelope(
        await clerk.api.post(
            "/api/v1/staff/auth/refresh", json={"refresh_token": old["refresh_token"]}
        ),
        401,
        "auth.token_revoked",
    )
    assert_envelope(await clerk.try_login(), 403, "auth.staff_inactive")
    # Other staff are untouched.
    assert (await admin.call("GET", "/api/v1/staff/me")).status_code == 200

    response = await admin.call("POST", f"/api/v1/admin/staff/{clerk.id}/activate")

    assert response.status_code == 200, response.text
    assert response.json()["active"] is True
    await clerk.login()
    assert (await clerk.call("GET", "/api/v1/staff/me")).status_code == 200
    # Tokens from before the deactivation stay dead.
    stale = await clerk.api.get(
        "/api/v1/staff/me", headers={"authorization": f"Bearer {old['access_token']}"}
    )
    assert_envelope(stale, 401, "auth.token_revoked")


# --------------------------------------------------------------------------------------------
# Catalogue administration
# --------------------------------------------------------------------------------------------


@pytest.fixture
async def catalogue(clean: Sanic, hire: Hire) -> dict[str, Any]:
    """Departments A and B, a catalogue admin of each, and a draft item led by B."""
    dept_a = factories.department(name="测试市甲局")
    dept_b = factories.department(name="测试市乙局")
    await factories.imported(clean, publish=False, departments=[dept_a, dept_b])
    b_item = factories.guide(lead_department=dept_b["code"], name="乙局的事项")
    await catalog.create_draft(guide=b_item, actor="test")
    return {
        "a": dept_a["code"],
        "b": dept_b["code"],
        "b_item": b_item,
        "admin_a": await hire(dept_a["code"], "catalog_admin"),
        "admin_b": await hire(dept_b["code"], "catalog_admin"),
    }


async def versions_of(code: str) -> list[tuple[int, str, str]]:
    rows = await ItemVersion.filter(item__code=code).order_by("number")
    return [(v.number, v.status, v.guide["lead_department"]) for v in rows]


async def test_catalog_admin_creates_and_publishes_an_item_of_their_department(
    catalogue: dict[str, Any], client: httpx.AsyncClient
) -> None:
    admin = catalogue["admin_a"]
    guide = factories.guide(lead_department=catalogue["a"], name="甲局新事项")

    created = await admin.call("POST", "/api/v1/admin/items", json=guide)

    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["status"]) == (1, "draft")
    assert (await client.get(f"/api/v1/items/{guide['code']}")).status_code == 404

    published = await admin.call("POST", f"/api/v1/admin/items/{guide['code']}/versions/1/publish")

    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    public = await client.get(f"/api/v1/items/{guide['code']}")
    assert public.status_code == 200, public.text
    assert public.json()["name"] == "甲局新事项"
    assert public.json()["lead_department"] == catalogue["a"]
    versions = await admin.call("GET", f"/api/v1/admin/items/{guide['code']}/versions")
    assert [v["status"] for v in versions.json()["versions"]] == ["published"]


async def test_department_admin_may_also_administer_the_catalogue(
    catalogue: dict[str, Any], hire: Hire
) -> None:
    admin = await hire(catalogue["a"], "admin")

    response = await admin.call(
        "POST", "/api/v1/admin/items", json=factories.guide(lead_department=catalogue["a"])
    )

    assert response.status_code == 201, response.text


async def test_catalog_admin_cannot_create_or_publish_items_led_by_another_department(
    catalogue: dict[str, Any], client: httpx.AsyncClient
) -> None:
    admin = catalogue["admin_a"]
    b_code = catalogue["b_item"]["code"]
    new_b = factories.guide(lead_department=catalogue["b"])

    assert_envelope(
        await admin.call("POST", "/api/v1/admin/items", json=new_b), 403, "auth.forbidden"
    )
    for method, path, body in (
        ("POST", f"/api/v1/admin/items/{b_code}/versions/1/publish", None),
        ("POST", f"/api/v1/admin/items/{b_code}/versions/1/retire", None),
        ("PUT", f"/api/v1/admin/items/{b_code}/versions/1", catalogue["b_item"]),
        ("GET", f"/api/v1/admin/items/{b_code}/versions", None),
    ):
        assert_envelope(await admin.call(method, path, json=body), 403, "auth.forbidden")

    assert not await Item.exists(code=new_b["code"])
    assert await versions_of(b_code) == [(1, "draft", catalogue["b"])]
    assert (await client.get(f"/api/v1/items/{b_code}")).status_code == 404


async def test_catalog_admin_cannot_hand_their_draft_to_another_department(
    catalogue: dict[str, Any],
) -> None:
    admin = catalogue["admin_a"]
    guide = factories.guide(lead_department=catalogue["a"])
    assert (await admin.call("POST", "/api/v1/admin/items", json=guide)).status_code == 201

    moved = {**guide, "lead_department": catalogue["b"]}
    assert_envelope(
        await admin.call("PUT", f"/api/v1/admin/items/{guide['code']}/versions/1", json=moved),
        403,
        "auth.forbidden",
    )

    assert await versions_of(guide["code"]) == [(1, "draft", catalogue["a"])]


async def test_catalog_admin_cannot_take_over_another_departments_item(
    catalogue: dict[str, Any], client: httpx.AsyncClient
) -> None:
    admin_a, admin_b = catalogue["admin_a"], catalogue["admin_b"]
    b_code = catalogue["b_item"]["code"]
    published = await admin_b.call("POST", f"/api/v1/admin/items/{b_code}/versions/1/publish")
    assert published.status_code == 200, published.text
    takeover = {**catalogue["b_item"], "lead_department": catalogue["a"], "name": "被甲局改名"}

    response = await admin_a.call("POST", "/api/v1/admin/items", json=takeover)

    try:
        assert_envelope(response, 403, "auth.forbidden")
        assert await versions_of(b_code) == [(1, "published", catalogue["b"])]
    finally:
        # Whatever the create answered, the rest of the takeover must not work either.
        await admin_a.call("POST", f"/api/v1/admin/items/{b_code}/versions/2/publish")
        public = await client.get(f"/api/v1/items/{b_code}")
        assert public.json()["lead_department"] == catalogue["b"]
        assert (
            await admin_b.call("GET", f"/api/v1/admin/items/{b_code}/versions")
        ).status_code == 200


async def test_invalid_guide_is_refused_with_field_errors(catalogue: dict[str, Any]) -> None:
    guide = factories.guide(lead_department=catalogue["a"])
    guide.pop("name")
    guide["handling_mode"] = "by_pigeon"
    guide["statutory_limit_days"] = -1

    response = await catalogue["admin_a"].call("POST", "/api/v1/admin/items", json=guide)

    error = assert_envelope(response, 400, "request.validation_failed")
    fields = {f["field"] for f in error["details"]["fields"]}
    assert {"name", "handling_mode", "statutory_limit_days"} <= fields
    assert all(
        any("\u4e00" <= c <= "\u9fff" for c in f["message"]) for f in error["details"]["fields"]
    )
    assert not await Item.exists(code=guide["code"])


async def test_unknown_lead_department_of_ones_own_code_is_a_field_error(
    catalogue: dict[str, Any], hire: Hire
) -> None:
    ghost = await hire("DEPT-GHOST", "catalog_admin")
    guide = factories.guide(lead_department="DEPT-GHOST")

    error = assert_envelope(
        await ghost.call("POST", "/api/v1/admin/items", json=guide),
        400,
        "request.validation_failed",
    )

    assert [f["field"] for f in error["details"]["fields"]] == ["lead_department"]
    assert not await Item.exists(code=guide["code"])


async def test_a_published_version_cannot_be_edited_or_published_again(
    catalogue: dict[str, Any], client: httpx.AsyncClient
) -> None:
    admin = catalogue["admin_a"]
    guide = factories.guide(lead_department=catalogue["a"], name="已发布事项")
    assert (await admin.call("POST", "/api/v1/admin/items", json=guide)).status_code == 201
    path = f"/api/v1/admin/items/{guide['code']}/versions/1"
    assert (await admin.call("POST", f"{path}/publish")).status_code == 200
    stored = (await ItemVersion.get(item__code=guide["code"], number=1)).guide

    error = assert_envelope(
        await admin.call("PUT", path, json={**guide, "name": "偷偷改名"}),
        409,
        "catalog.version_not_draft",
    )
    assert error["details"] == {"status": "published"}
    assert_envelope(await admin.call("POST", f"{path}/publish"), 409, "catalog.version_not_draft")

    assert (await ItemVersion.get(item__code=guide["code"], number=1)).guide == stored
    assert (await client.get(f"/api/v1/items/{guide['code']}")).json()["name"] == "已发布事项"


# --------------------------------------------------------------------------------------------
# Revealing personal data
# --------------------------------------------------------------------------------------------


@pytest.fixture
async def applicant(phone: Callable[[], Phone]) -> Phone:
    return await citizen(phone(), name="张伟")


@pytest.fixture
async def handling(clean: Sanic, applicant: Phone) -> str:
    """The department handling a submitted case of the applicant: its staff may need the full
    identifiers, with a reason."""
    cat = await import_case_catalogue(clean, audience="both")
    me = Subject(kind="user", id=applicant.tokens["user"]["id"])
    await submitted(me, cat, now=utcnow())
    return cat.lead


@pytest.fixture
async def clerk(hire: Hire, handling: str) -> StaffMember:
    """A clerk of the department handling the applicant's case."""
    return await hire(handling, "clerk")


async def reveal(
    who: Handset, person: Phone | int, body: dict[str, Any], **kwargs: Any
) -> httpx.Response:
    """``who`` asks for an identifier of ``person`` (a citizen's phone, or a user id)."""
    user_id = person if isinstance(person, int) else person.tokens["user"]["id"]
    return await who.call("POST", f"/api/v1/staff/users/{user_id}/identity", json=body, **kwargs)


async def test_clerk_sees_the_full_id_number_and_the_read_is_recorded(
    clerk: StaffMember, applicant: Phone
) -> None:
    user_id = applicant.tokens["user"]["id"]

    response = await reveal(
        clerk,
        applicant,
        {"field": "id_number", "reason": "  窗口核对申请人身份  "},
        headers={"x-request-id": "req-reveal-0001"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"id_number": applicant.id_number}
    assert response.headers["cache-control"] == "no-store"
    rows = await PersonalDataAccess.all()
    assert [(r.staff_id, r.user_id, r.field, r.reason) for r in rows] == [
        (clerk.id, user_id, "id_number", "窗口核对申请人身份")
    ]
    assert rows[0].request_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"field": "id_number"}, "reason"),
        ({"field": "id_number", "reason": ""}, "reason"),
        ({"field": "id_number", "reason": " 看看 "}, "reason"),
        ({"field": "address", "reason": "核对申请人身份"}, "field"),
        ({"reason": "核对申请人身份"}, "field"),
    ],
)
async def test_reveal_needs_a_field_and_a_reason(
    clerk: StaffMember, applicant: Phone, body: dict[str, Any], field: str
) -> None:
    response = await reveal(clerk, applicant, body)

    error = assert_envelope(response, 400, "request.validation_failed")
    assert [f["field"] for f in error["details"]["fields"]] == [field]
    assert applicant.id_number not in response.text
    assert not await PersonalDataAccess.exists()


@pytest.mark.parametrize("roles", [["dispatcher"], ["supervisor"], ["catalog_admin"]])
async def test_roles_without_case_review_cannot_reveal(
    hire: Hire, applicant: Phone, handling: str, roles: list[str]
) -> None:
    member = await hire(handling, *roles)

    response = await reveal(member, applicant, {"field": "id_number", "reason": "核对申请人身份"})

    assert_envelope(response, 403, "auth.forbidden")
    assert applicant.id_number not in response.text
    assert not await PersonalDataAccess.exists()


async def test_reveal_of_an_absent_identifier_or_user_is_404_and_not_recorded(
    clerk: StaffMember, applicant: Phone
) -> None:
    reason = {"reason": "核对申请人身份"}

    assert_envelope(
        await reveal(clerk, applicant, {"field": "phone", **reason}),
        404,
        "auth.identity_absent",
    )
    assert_envelope(  # no case of an unknown user anywhere: not the department's to ask
        await reveal(clerk, 999_999, {"field": "id_number", **reason}),
        403,
        "auth.no_case_of_person",
    )
    assert not await PersonalDataAccess.exists()


async def test_staff_of_a_department_without_a_case_of_the_person_cannot_reveal(
    clean: Sanic, hire: Hire, applicant: Phone, handling: str
) -> None:
    """A clerk of another department, and a clerk of the department of a mere draft (a
    department has not seen a draft), are refused: nothing is revealed or recorded."""
    elsewhere = await hire(DEPT_A, "clerk")
    user_id = applicant.tokens["user"]["id"]
    body = {"field": "id_number", "reason": "核对申请人身份"}

    refused = await reveal(elsewhere, applicant, body)

    assert_envelope(refused, 403, "auth.no_case_of_person")
    assert applicant.id_number not in refused.text
    cat = await import_case_catalogue(clean, audience="both")
    await draft(Subject(kind="user", id=user_id), cat.item, now=utcnow())
    drafts_clerk = await hire(cat.lead, "clerk")
    refused = await reveal(drafts_clerk, applicant, body)
    assert_envelope(refused, 403, "auth.no_case_of_person")
    assert not await PersonalDataAccess.exists()


async def test_a_staff_created_by_the_helper_has_no_wechat_until_bound(clean: Sanic) -> None:
    created = await create_staff(clean, department_code=DEPT_A, roles=["clerk"])

    assert created["wechat_bound"] is False and created["bind_code"]
    row = await Staff.get(id=created["id"])
    assert (
        row.openid is None
        and row.bind_code_hash
        and created["bind_code"] not in str(row.bind_code_hash)
    )
