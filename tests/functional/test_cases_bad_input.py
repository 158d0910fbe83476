"""Bad input on cases, each its own test: a clear envelope (status, stable code, Chinese
message), and nothing changed — the case, its timeline, its notices, tasks and files, and the
outbox (``tests.cases_service.snapshot``).

Over HTTP as the phones do it, except the acceptance on a public holiday, which needs the
clock (the service with an explicit ``now``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sanic import Sanic

from auth.permissions import Subject
from cases import errors, prereview, review
from cases.models import AcceptanceCounter, Case, CaseEvent
from core.errors import Forbidden
from core.models import OutboxEvent
from tests.cases_flow import (
    PHOTO,
    Scene,
    attach,
    draft,
    filed,
    import_case_catalogue,
    open_task,
)
from tests.cases_service import (
    accepted,
    at,
    desk,
    person,
    snapshot,
    submitted,
    worker_paused,
)
from tests.people import Phone, uid
from tests.staff import StaffMember
from tests.uploads import complete, intent, posted, uploaded


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The envelope of a refusal: the status, the stable code, a message in Chinese."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert any("\u4e00" <= c <= "\u9fff" for c in error["message"]), error["message"]
    return dict(error)


def as_subject(member: StaffMember) -> Subject:
    return Subject(
        kind="staff",
        id=member.id,
        department_code=member.department_code,
        roles=frozenset(member.roles),
    )


# --------------------------------------------------------------------------------------------
# Whose case, which role, which state
# --------------------------------------------------------------------------------------------


async def test_submitting_someone_elses_draft_is_not_found(scene: Scene, stranger: Phone) -> None:
    case = await draft(scene.person, scene.cat.item)
    await attach(scene.person, case["id"], scene.cat.item, scene.cat.id_card)
    await attach(scene.person, case["id"], scene.cat.item, scene.cat.photo)
    before = await snapshot(case["id"])

    answer = await stranger.call("POST", f"/api/v1/cases/{case['id']}/submit")

    # Its existence is not the stranger's to learn: the same answer as for no case at all.
    error = refused(answer, 404, "case.not_found")
    nowhere = await stranger.call("POST", "/api/v1/cases/987654321/submit")
    assert refused(nowhere, 404, "case.not_found")["message"] == error["message"]
    assert await snapshot(case["id"]) == before
    for path, method, payload in (
        (f"/api/v1/cases/{case['id']}/form", "PUT", {"form": {"reason": "改成别人的"}}),
        (f"/api/v1/cases/{case['id']}/withdraw", "POST", {}),
        (f"/api/v1/cases/{case['id']}", "GET", None),
    ):
        other = await stranger.call(method, path, json=payload)
        refused(other, 404, "case.not_found")
    deleted = await stranger.call("DELETE", f"/api/v1/cases/{case['id']}")
    refused(deleted, 404, "case.not_found")
    assert await snapshot(case["id"]) == before


async def test_an_action_from_a_role_that_may_not_take_it(scene: Scene) -> None:
    staff = scene.staff
    case_id = await filed(scene.person, scene.cat)
    before = await snapshot(case_id)

    for member in (staff.reviewer, staff.approver, staff.dispatcher, staff.supervisor):
        answer = await member.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
        refused(answer, 403, "auth.forbidden")
        no = await member.call(
            "POST", f"/api/v1/staff/cases/{case_id}/refuse", json={"reasons": "不予受理。"}
        )
        refused(no, 403, "auth.forbidden")
    # A clerk of another department is no clerk of this case.
    elsewhere = await staff.other_clerk.call(
        "POST", f"/api/v1/staff/cases/{case_id}/accept", json={}
    )
    refused(elsewhere, 403, "auth.forbidden")
    # The applicant's token is no staff token.
    own = await scene.person.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
    assert own.status_code == 401, own.text
    assert await snapshot(case_id) == before

    # After acceptance: the approval step is not the reviewer's, the review not the approver's.
    accepted_ = await staff.clerk.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
    assert accepted_.status_code == 200, accepted_.text
    task = await open_task(staff.reviewer, case_id)
    before = await snapshot(case_id)
    for member in (staff.approver, staff.clerk, staff.dispatcher):
        claim = await member.call("POST", f"/api/v1/staff/tasks/{task}/claim")
        refused(claim, 403, "auth.forbidden")
    assert await snapshot(case_id) == before


async def test_an_action_on_a_case_in_the_wrong_state(scene: Scene) -> None:
    staff, cat = scene.staff, scene.cat
    waiting = await draft(scene.person, cat.item)
    before = await snapshot(waiting["id"])

    # A draft is not the clerk's to accept, nor to see: it is its applicant's until submitted.
    early = await staff.clerk.call("POST", f"/api/v1/staff/cases/{waiting['id']}/accept", json={})
    refused(early, 404, "case.not_found")
    # The acceptance number drawn inside the refused transaction went back with it.
    assert await AcceptanceCounter.all().count() == 0
    assert await snapshot(waiting["id"]) == before

    case_id = await filed(scene.person, cat)
    before = await snapshot(case_id)
    # Not accepted yet: nobody holds a review task to suspend it with.
    suspend = await staff.reviewer.call(
        "POST",
        f"/api/v1/staff/cases/{case_id}/suspend",
        json={"procedure": "hearing", "reason": "举行听证。"},
    )
    refused(suspend, 403, "case.task_not_held")
    complete = await staff.dispatcher.call(
        "POST", f"/api/v1/staff/cases/{case_id}/complete", json={}
    )
    assert refused(complete, 409, "case.invalid_transition")["details"]["current_status"] == (
        "submitted"
    )
    # Submitted already: a second submission (a double tap without a key) moves nothing.
    again = await scene.person.call("POST", f"/api/v1/cases/{case_id}/submit")
    assert refused(again, 409, "case.invalid_transition")["details"]["current_status"] == (
        "submitted"
    )
    form = await scene.person.call(
        "PUT", f"/api/v1/cases/{case_id}/form", json={"form": {"reason": "提交后修改"}}
    )
    refused(form, 409, "case.not_editable")
    assert await snapshot(case_id) == before

    # A refused case is final: no withdrawal, no acceptance.
    no = await staff.clerk.call(
        "POST", f"/api/v1/staff/cases/{case_id}/refuse", json={"reasons": "不属于本机关职权。"}
    )
    assert no.status_code == 200, no.text
    before = await snapshot(case_id)
    withdraw = await scene.person.call("POST", f"/api/v1/cases/{case_id}/withdraw", json={})
    assert refused(withdraw, 409, "case.invalid_transition")["details"]["current_status"] == (
        "refused"
    )
    accept = await staff.clerk.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
    refused(accept, 409, "case.invalid_transition")
    assert await snapshot(case_id) == before


# --------------------------------------------------------------------------------------------
# Corrections
# --------------------------------------------------------------------------------------------


async def test_a_correction_list_naming_materials_the_item_does_not_have(scene: Scene) -> None:
    case_id = await filed(scene.person, scene.cat)
    before = await snapshot(case_id)

    answer = await scene.staff.clerk.call(
        "POST",
        f"/api/v1/staff/cases/{case_id}/corrections",
        json={
            "items": [
                {"kind": "material", "code": scene.cat.photo, "problem": "照片模糊。"},
                {"kind": "material", "code": scene.cat.paid_material, "problem": "营业执照过期。"},
                {"kind": "field", "code": "spouse_name", "problem": "配偶姓名有误。"},
                {"kind": "material", "code": scene.cat.photo, "problem": "重复列出。"},
            ]
        },
    )

    error = refused(answer, 400, "request.validation_failed")
    # Every problem of the list at once, each where it is.
    assert [(f["field"], f["code"]) for f in error["details"]["fields"]] == [
        ("items[1].code", "unknown"),
        ("items[2].code", "unknown"),
        ("items[3].code", "duplicate"),
    ]
    assert await snapshot(case_id) == before
    empty = await scene.staff.clerk.call(
        "POST", f"/api/v1/staff/cases/{case_id}/corrections", json={"items": []}
    )
    refused(empty, 400, "request.validation_failed")
    assert await snapshot(case_id) == before


async def test_a_resubmission_that_changes_materials_not_listed_for_correction(
    scene: Scene,
) -> None:
    cat, person = scene.cat, scene.person
    case_id = await filed(person, cat)
    listed = await scene.staff.clerk.call(
        "POST",
        f"/api/v1/staff/cases/{case_id}/corrections",
        json={"items": [{"kind": "material", "code": cat.photo, "problem": "照片模糊。"}]},
    )
    assert listed.status_code == 200, listed.text
    detail = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()
    id_card = next(f for f in detail["files"] if f["material_code"] == cat.id_card)
    before = await snapshot(case_id)

    # A new file of a material not listed: refused before any policy is issued.
    new_file = await intent(
        person, cat.item, cat.id_card, content_type="image/png", filename="id.png", case_id=case_id
    )
    error = refused(new_file, 400, "case.not_listed_for_correction")
    assert error["details"]["listed"] == [cat.photo]
    # Removing a file of a material not listed.
    removed = await person.call("DELETE", f"/api/v1/uploads/{id_card['id']}")
    refused(removed, 400, "case.not_listed_for_correction")
    # Changing a form field not listed.
    form = await person.call(
        "PUT",
        f"/api/v1/cases/{case_id}/form",
        json={"form": {"reason": "姓名更正", "moving": True}},
    )
    error = refused(form, 400, "case.not_listed_for_correction")
    assert [f["field"] for f in error["details"]["fields"]] == ["form.moving"]
    # And resubmitting without the listed correction.
    resubmit = await person.call("POST", f"/api/v1/cases/{case_id}/submit")
    error = refused(resubmit, 400, "case.incomplete")
    assert [(f["field"], f["code"]) for f in error["details"]["fields"]] == [
        (f"materials.{cat.photo}", "not_corrected")
    ]
    assert await snapshot(case_id) == before


# --------------------------------------------------------------------------------------------
# A public holiday
# --------------------------------------------------------------------------------------------


@pytest.fixture
async def quiet(clean: Sanic) -> AsyncIterator[Sanic]:
    async with worker_paused(clean):
        yield clean


async def test_an_acceptance_on_a_public_holiday_starts_the_clock_the_next_working_day(
    quiet: Sanic,
) -> None:
    """Online services take applications every day, and a clerk on duty may accept one on
    National Day (1 October 2026). The acceptance is legal and numbered that day; no day of the
    holiday counts, so the limits end exactly where they would for an acceptance on the last
    working day before it (30 September): promised 10 working days → 20 October (08, 09, 10
    make-up Saturday, 12..16, 19, 20), statutory 20 → 3 November."""
    cat = await import_case_catalogue(quiet, audience="both")
    staff = await desk(cat)
    applicant_ = await person()
    on_holiday = await accepted(applicant_, cat, staff.clerk, now=at(date(2026, 10, 1)))
    before_holiday = await accepted(applicant_, cat, staff.clerk, now=at(date(2026, 9, 30)))

    holiday = await Case.get(id=on_holiday.id)
    eve = await Case.get(id=before_holiday.id)
    assert holiday.status == "accepted"
    assert holiday.accepted_on == date(2026, 10, 1)
    assert holiday.acceptance_number == f"{cat.lead}-20261001-00001"
    assert (holiday.promised_due_on, holiday.statutory_due_on) == (
        date(2026, 10, 20),
        date(2026, 11, 3),
    )
    assert (eve.promised_due_on, eve.statutory_due_on) == (
        holiday.promised_due_on,
        holiday.statutory_due_on,
    )
    # The acceptance is on the timeline and in the outbox, once.
    events = await CaseEvent.filter(case_id=holiday.id, action="accept")
    assert len(events) == 1 and events[0].details["acceptance_number"] == holiday.acceptance_number
    topics = [e.topic for e in await OutboxEvent.all() if e.payload.get("case_id") == holiday.id]
    assert topics.count("case.accept") == 1

    # A submission on the holiday owes its answer 5 working days after it: 13 October.
    waiting = await submitted(applicant_, cat, now=at(date(2026, 10, 3)))
    assert (await Case.get(id=waiting.id)).answer_due_on == date(2026, 10, 13)
    # And the article 32 job run on the holiday itself accepts nothing submitted just before.
    assert await prereview.auto_accept_overdue(now=at(date(2026, 10, 5))) == []


# --------------------------------------------------------------------------------------------
# Ratings (好差评): 1 to 5, once
# --------------------------------------------------------------------------------------------


async def _completed(scene: Scene) -> int:
    """A completed case of the scene's applicant, driven through the services."""
    from cases.review import complete
    from core.clock import utcnow
    from tests.cases_service import Desk, outbox_settled, result_pending

    staff = scene.staff
    desk_ = Desk(
        clerk=as_subject(staff.clerk),
        reviewer=as_subject(staff.reviewer),
        approver=as_subject(staff.approver),
        dispatcher=as_subject(staff.dispatcher),
        supervisor=as_subject(staff.supervisor),
        partner_reviewer=as_subject(staff.partner_reviewer),
        other_clerk=as_subject(staff.other_clerk),
        other_reviewer=as_subject(staff.other_clerk),
    )
    me = Subject(kind="user", id=uid(scene.person))
    case = await result_pending(me, scene.cat, desk_, now=utcnow())
    await complete(subject=desk_.dispatcher, case_id=case.id, comment="已送达。", now=utcnow())
    await outbox_settled(scene.app)
    return case.id


async def test_a_rating_of_6_is_refused(scene: Scene) -> None:
    case_id = await _completed(scene)
    before = await snapshot(case_id)

    answer = await scene.person.call(
        "POST", f"/api/v1/cases/{case_id}/evaluation", json={"score": 6, "comment": "非常满意"}
    )

    error = refused(answer, 400, "request.validation_failed")
    assert [f["field"] for f in error["details"]["fields"]] == ["score"]
    # a JSON value is the type it is: no true for 1, no 5.0 or "5" for 5
    for score in (0, -1, 5.5, None, True, 5.0, "5"):
        other = await scene.person.call(
            "POST", f"/api/v1/cases/{case_id}/evaluation", json={"score": score}
        )
        refused(other, 400, "request.validation_failed")
    assert await snapshot(case_id) == before
    detail = (await scene.person.call("GET", f"/api/v1/cases/{case_id}")).json()
    assert detail["evaluation"] is None


async def test_ids_in_a_body_are_json_integers(scene: Scene) -> None:
    """``true`` is no staff id 1 and ``41.0`` no 41 (found from outside: a reassignment to
    ``{"staff_id": 41.0}`` went through, and ``{"company_id": true}`` named company 1)."""
    staff, person, cat = scene.staff, scene.person, scene.cat
    case_id = await filed(person, cat, cat.item)
    await staff.clerk.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
    detail = (await staff.supervisor.call("GET", f"/api/v1/staff/cases/{case_id}")).json()
    task = detail["tasks"][0]["id"]
    before = await snapshot(case_id)
    for value in (True, float(staff.reviewer.id), str(staff.reviewer.id)):
        moved = await staff.supervisor.call(
            "POST", f"/api/v1/supervisor/tasks/{task}/reassign", json={"staff_id": value}
        )
        error = refused(moved, 400, "request.validation_failed")
        assert [f["field"] for f in error["details"]["fields"]] == ["staff_id"]
        drafted = await person.call(
            "POST", "/api/v1/cases", json={"item_code": cat.item, "company_id": value}
        )
        refused(drafted, 400, "request.validation_failed")
    assert await snapshot(case_id) == before


async def test_a_second_rating_is_refused(scene: Scene) -> None:
    case_id = await _completed(scene)
    first = await scene.person.call(
        "POST", f"/api/v1/cases/{case_id}/evaluation", json={"score": 2, "comment": "等太久"}
    )
    assert first.status_code == 201, first.text
    before = await snapshot(case_id)

    second = await scene.person.call(
        "POST", f"/api/v1/cases/{case_id}/evaluation", json={"score": 5, "comment": "改好评"}
    )

    refused(second, 409, "case.already_rated")
    assert await snapshot(case_id) == before
    detail = (await scene.person.call("GET", f"/api/v1/cases/{case_id}")).json()
    assert detail["evaluation"]["score"] == 2


async def test_a_citizen_whose_user_id_is_the_holders_staff_id_holds_nothing(
    quiet: Sanic,
) -> None:
    """User ids and staff ids are separate sequences: a citizen with the user id that equals
    the staff id of the reviewer holding the task must not act as that reviewer (suspend,
    resume, ask for corrections during review) when the service is called with their subject.
    Found by the property test."""
    from auth.models import User
    from core.clock import utcnow
    from tests.cases_service import in_review

    cat = await import_case_catalogue(quiet, audience="both")
    staff = await desk(cat)
    applicant_ = await person()
    case, _ = await in_review(applicant_, cat, staff, now=utcnow())
    if not await User.filter(id=staff.reviewer.id).exists():
        await User.create(id=staff.reviewer.id, openid="o-same-id", realname_level=1)
    twin = Subject(kind="user", id=staff.reviewer.id)
    before = await snapshot(case.id)

    attempts = (
        review.suspend(
            subject=twin, case_id=case.id, procedure="hearing", reason="冒充。", now=utcnow()
        ),
        prereview.request_correction(
            subject=twin,
            case_id=case.id,
            items=[{"kind": "field", "code": "reason", "problem": "冒充。"}],
            comment="",
            now=utcnow(),
        ),
    )
    for attempt in attempts:
        with pytest.raises(errors.RoleNotAllowed) as refused_:
            await attempt
        assert refused_.value.code == "case.task_not_held"
    assert await snapshot(case.id) == before
    # The holder may, and then the twin may not resume either.
    await review.suspend(
        subject=staff.reviewer, case_id=case.id, procedure="hearing", reason="听证。", now=utcnow()
    )
    with pytest.raises(errors.RoleNotAllowed):
        await review.resume(subject=twin, case_id=case.id, comment="", now=utcnow())
    assert (await Case.get(id=case.id)).status == "suspended"


async def test_an_applicant_cannot_write_staff_comments_on_their_own_case(quiet: Sanic) -> None:
    """Internal comments are staff-only; the applicant may view their case, and that must not
    let them through the service's staff acts."""
    from core.clock import utcnow

    cat = await import_case_catalogue(quiet, audience="both")
    owner = await person()
    case = await submitted(owner, cat, now=utcnow())
    before = await snapshot(case.id)

    with pytest.raises(Forbidden):
        await review.add_comment(
            subject=owner, case_id=case.id, text="我自己写的内部意见", now=utcnow()
        )
    assert await snapshot(case.id) == before


#: Text that carries a whole mobile or ID number, as people type them.
IDENTIFIER_TEXTS = (
    "电话 139-1234-5678，请联系",
    "我的身份证３６０４２６１９７２０１０１２９１３写错了",
)


@pytest.mark.parametrize("text", IDENTIFIER_TEXTS)
async def test_free_text_others_read_may_not_carry_an_identifier(scene: Scene, text: str) -> None:
    """A reason, a comment, an opinion is shown in full to whoever reads the case: an ID or
    mobile number typed there is refused (``api.schemas.FreeText``), and nothing is written."""
    case_id = await filed(scene.person, scene.cat)
    before = await snapshot(case_id)
    for caller, path, body in (
        (scene.person, f"/api/v1/cases/{case_id}/withdraw", {"reason": text}),
        (scene.staff.clerk, f"/api/v1/staff/cases/{case_id}/comments", {"text": text}),
        (scene.staff.clerk, f"/api/v1/staff/cases/{case_id}/refuse", {"reasons": text}),
        (scene.staff.clerk, f"/api/v1/staff/cases/{case_id}/accept", {"comment": text}),
    ):
        error = refused(
            await caller.call("POST", path, json=body), 400, "request.validation_failed"
        )
        assert [f["code"] for f in error["details"]["fields"]] == ["identifier_not_allowed"], path
    assert await snapshot(case_id) == before
    case_done = await _completed(scene)
    rating = await scene.person.call(
        "POST", f"/api/v1/cases/{case_done}/evaluation", json={"score": 1, "comment": text}
    )
    refused(rating, 400, "request.validation_failed")


async def test_field_errors_name_the_items_own_fields_in_chinese(scene: Scene) -> None:
    """A phone shows a field error as it comes: the form field's title and the material's name
    are in the message and in ``label`` (found by the mini-program's client)."""
    cat, person = scene.cat, scene.person
    case = await draft(person, cat.item, form={})
    form = await person.call(
        "PUT", f"/api/v1/cases/{case['id']}/form", json={"form": {"reason": 7}}
    )
    fields = form.json()["error"]["details"]["fields"]
    assert [(f["field"], f["label"], f["message"]) for f in fields] == [
        ("form.reason", "申请原因", "「申请原因」的内容格式不正确。")
    ]
    submitted = await person.call("POST", f"/api/v1/cases/{case['id']}/submit")
    fields = submitted.json()["error"]["details"]["fields"]
    by_field = {f["field"]: f for f in fields}
    assert by_field["form.reason"]["label"] == "申请原因"
    assert by_field["form.reason"]["message"] == "请填写「申请原因」。"
    for code in (cat.id_card, cat.photo):
        entry = by_field[f"materials.{code}"]
        assert entry["label"] and entry["message"] == f"请上传「{entry['label']}」。"


async def test_a_correction_replaces_a_single_file_material_in_one_go(
    scene: Scene, stranger: Phone
) -> None:
    """A material taking one file, listed for correction: the new photo names the file it
    replaces, which stays until the new one is verified, then goes; no deletion first (found by
    the mini-program). Replacing another material's, or someone else's, file is refused."""
    cat, person = scene.cat, scene.person
    case_id = await filed(person, cat)
    listed = await scene.staff.clerk.call(
        "POST",
        f"/api/v1/staff/cases/{case_id}/corrections",
        json={"items": [{"kind": "material", "code": cat.photo, "problem": "照片模糊。"}]},
    )
    assert listed.status_code == 200, listed.text
    files = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()["files"]
    old = next(f for f in files if f["material_code"] == cat.photo)
    id_card = next(f for f in files if f["material_code"] == cat.id_card)
    png = {"content_type": "image/png", "filename": "new.png", "case_id": case_id}

    # Without naming it, the material is full (one file).
    refused(await intent(person, cat.item, cat.photo, **png), 409, "storage.too_many_files")
    # Another material's file, or a stranger's, cannot be the one replaced.
    wrong = await intent(person, cat.item, cat.photo, replaces=id_card["id"], **png)
    assert [
        f["field"] for f in refused(wrong, 400, "request.validation_failed")["details"]["fields"]
    ] == ["replaces"]
    theirs = await uploaded(stranger, cat.item, cat.photo, PHOTO, content_type="image/png")
    refused(
        await intent(person, cat.item, cat.photo, replaces=theirs["id"], **png),
        404,
        "storage.upload_not_found",
    )

    issued = await posted(person, cat.item, cat.photo, PHOTO, replaces=old["id"], **png)
    # A second replacement of the same file while the first is pending: the material is full.
    refused(
        await intent(person, cat.item, cat.photo, replaces=old["id"], **png),
        409,
        "storage.too_many_files",
    )
    still = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()["files"]
    assert old["id"] in {f["id"] for f in still}  # kept until the new one is ready
    done = await complete(person, issued["upload_id"])
    assert done.status_code == 200 and done.json()["status"] == "ready", done.text
    after = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()["files"]
    photos = [f["id"] for f in after if f["material_code"] == cat.photo]
    assert photos == [issued["upload_id"]]
    resubmitted = await person.call("POST", f"/api/v1/cases/{case_id}/submit")
    assert resubmitted.status_code == 200, resubmitted.text
