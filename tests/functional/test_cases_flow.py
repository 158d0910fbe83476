"""The main flow of a case over HTTP: draft, materials, submit, corrections, acceptance, review,
decision, fee, completion; and the refusals on the way."""

from __future__ import annotations

import re

import httpx

from tests.cases_flow import (
    Scene,
    attach,
    draft,
    filed,
    open_task,
    pass_step,
)
from tests.oversight_flow import accepted
from tests.people import Phone
from tests.uploads import intent


async def test_a_case_from_draft_to_completion(scene: Scene, client: httpx.AsyncClient) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person

    case = await draft(person, cat.item)
    assert case["status"] == "draft"
    incomplete = await person.call("POST", f"/api/v1/cases/{case['id']}/submit")
    assert incomplete.status_code == 400
    error = incomplete.json()["error"]
    assert error["code"] == "case.incomplete"
    missing = {f["field"] for f in error["details"]["fields"]}
    assert missing == {f"materials.{cat.id_card}", f"materials.{cat.photo}"}

    await attach(person, case["id"], cat.item, cat.id_card)
    await attach(person, case["id"], cat.item, cat.photo)
    submitted = await person.call("POST", f"/api/v1/cases/{case['id']}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"

    # The clerk sees it in the pre-review queue and sends back one complete list.
    inbox = await staff.clerk.call("GET", "/api/v1/staff/inbox", params={"role": "clerk"})
    assert inbox.status_code == 200, inbox.text
    assert [row["id"] for row in inbox.json()["items"]] == [case["id"]]
    assert inbox.json()["counts"]["queue"] == 1
    notice = await staff.clerk.call(
        "POST",
        f"/api/v1/staff/cases/{case['id']}/corrections",
        json={
            "items": [
                {"kind": "material", "code": cat.photo, "problem": "照片模糊，请重新拍摄。"},
                {"kind": "field", "code": "reason", "problem": "请写明更正的具体项目。"},
            ]
        },
    )
    assert notice.status_code == 200, notice.text
    assert notice.json()["status"] == "correction_requested"

    detail = (await person.call("GET", f"/api/v1/cases/{case['id']}")).json()
    assert detail["correction"]["round"] == 1
    assert {i["code"] for i in detail["correction"]["items"]} == {cat.photo, "reason"}

    # Only what is listed may change.
    unlisted = await intent(
        person,
        cat.item,
        cat.id_card,
        case_id=case["id"],
        filename="id.png",
        content_type="image/png",
        size=100,
    )
    assert unlisted.status_code == 400
    assert unlisted.json()["error"]["code"] == "case.not_listed_for_correction"
    not_yet = await person.call("POST", f"/api/v1/cases/{case['id']}/submit")
    assert not_yet.status_code == 400
    assert {f["code"] for f in not_yet.json()["error"]["details"]["fields"]} == {"not_corrected"}

    # Replace the photo: remove the old one (allowed: it is listed), upload the new one.
    old_photo = next(f for f in detail["files"] if f["material_code"] == cat.photo)
    old_id_card = next(f for f in detail["files"] if f["material_code"] == cat.id_card)
    kept = await person.call("DELETE", f"/api/v1/uploads/{old_id_card['id']}")
    assert kept.status_code == 400, kept.text
    removed = await person.call("DELETE", f"/api/v1/uploads/{old_photo['id']}")
    assert removed.status_code == 204, removed.text
    await attach(person, case["id"], cat.item, cat.photo)
    changed_other = await person.call(
        "PUT", f"/api/v1/cases/{case['id']}/form", json={"form": {"reason": "x", "moving": False}}
    )
    assert changed_other.status_code == 400
    assert changed_other.json()["error"]["code"] == "case.not_listed_for_correction"
    form = await person.call(
        "PUT", f"/api/v1/cases/{case['id']}/form", json={"form": {"reason": "姓名中的错别字更正"}}
    )
    assert form.status_code == 200, form.text
    resubmitted = await person.call("POST", f"/api/v1/cases/{case['id']}/submit")
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "submitted"

    accepted = await staff.clerk.call("POST", f"/api/v1/staff/cases/{case['id']}/accept", json={})
    assert accepted.status_code == 200, accepted.text
    number = accepted.json()["acceptance_number"]
    assert re.fullmatch(rf"{cat.lead}-\d{{8}}-00001", number)

    review = await pass_step(staff.reviewer, case["id"])
    assert review.status_code == 200, review.text
    assert review.json()["status"] == "in_review"
    decision = await pass_step(staff.approver, case["id"])
    assert decision.status_code == 200, decision.text
    assert decision.json()["status"] == "result_pending"  # free: straight to service

    done = await staff.dispatcher.call(
        "POST", f"/api/v1/staff/cases/{case['id']}/complete", json={"comment": "电子证照已发放"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"

    detail = (await person.call("GET", f"/api/v1/cases/{case['id']}")).json()
    transitions = [e["to"] for e in detail["timeline"] if e["from"] != e["to"]]
    assert transitions == [
        "submitted",
        "correction_requested",
        "submitted",
        "accepted",
        "in_review",
        "decided_granted",
        "result_pending",
        "completed",
    ]
    assert detail["accepted_on"] and detail["promised_due_on"]

    # The number alone shows nothing (numbers run in sequence): the applicant's name with it.
    alone = await client.get(f"/api/v1/public/cases/{number}")
    assert alone.status_code == 400, alone.text
    guessed = await client.get(f"/api/v1/public/cases/{number}", params={"name": "王五"})
    assert guessed.status_code == 404, guessed.text
    public = await client.get(f"/api/v1/public/cases/{number}", params={"name": person.name})
    assert public.status_code == 200, public.text
    assert public.json()["status"] == "completed"
    assert public.json()["applicant"].startswith(person.name[0])
    assert person.name not in public.text


async def test_two_clerks_at_once_one_wins(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await filed(person, cat)
    first = await staff.clerk.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
    second = await staff.clerk.call(
        "POST", f"/api/v1/staff/cases/{case_id}/refuse", json={"reasons": "不符合受理条件。"}
    )
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "case.invalid_transition"
    assert second.json()["error"]["details"]["current_status"] == "accepted"


async def test_parallel_review_needs_every_department_and_any_denial_denies(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person

    granted = await accepted(person, cat, staff, cat.parallel_item)
    lead_pass = await pass_step(staff.reviewer, granted)
    assert lead_pass.json()["status"] == "in_review"
    with_partner = await pass_step(staff.partner_reviewer, granted)
    assert with_partner.json()["status"] == "in_review"
    final = await pass_step(staff.approver, granted)
    assert final.json()["status"] == "result_pending"

    denied = await accepted(person, cat, staff, cat.parallel_item)
    await pass_step(staff.reviewer, denied)
    no = await pass_step(staff.partner_reviewer, denied, outcome="deny")
    assert no.json()["status"] == "decided_denied"
    detail = (await person.call("GET", f"/api/v1/cases/{denied}")).json()
    assert "行政复议" in detail["rights_notice"]
    # The approval step never opened.
    inbox = await staff.approver.call("GET", "/api/v1/staff/inbox", params={"role": "approver"})
    assert inbox.json()["items"] == []


async def test_a_paid_item_waits_for_its_fee(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await accepted(person, cat, staff, cat.paid_item)
    decided = await pass_step(staff.reviewer, case_id)
    assert decided.json()["status"] == "fee_due"


async def test_staff_of_another_department_and_other_citizens_are_kept_out(
    scene: Scene, stranger: Phone
) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await filed(person, cat)

    assert (await stranger.call("GET", f"/api/v1/cases/{case_id}")).status_code == 404
    assert (
        await stranger.call("POST", f"/api/v1/cases/{case_id}/withdraw", json={})
    ).status_code == 404
    other = await staff.other_clerk.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
    assert other.status_code == 403
    wrong_role = await staff.reviewer.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
    assert wrong_role.status_code == 403
    # Nothing moved.
    detail = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()
    assert detail["status"] == "submitted"
    assert await open_task_absent(staff.reviewer, case_id)


async def open_task_absent(reviewer: object, case_id: int) -> bool:
    try:
        await open_task(reviewer, case_id)  # type: ignore[arg-type]
    except AssertionError:
        return True
    return False


async def test_staff_attachments_are_internal_to_the_case(
    scene: Scene, client: httpx.AsyncClient
) -> None:
    from tests.cases_flow import PHOTO
    from tests.uploads import post_to_store

    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await filed(person, cat)
    body = {"filename": "现场核查记录.png", "content_type": "image/png", "size": len(PHOTO)}
    refused = await staff.supervisor.call(
        "POST", f"/api/v1/staff/cases/{case_id}/attachments", json=body
    )
    assert refused.status_code == 403
    issued = await staff.clerk.call("POST", f"/api/v1/staff/cases/{case_id}/attachments", json=body)
    assert issued.status_code == 201, issued.text
    stored = await post_to_store(client, issued.json(), PHOTO)
    assert stored.status_code == 204, stored.text
    upload_id = issued.json()["upload_id"]
    assert (
        await staff.reviewer.call("POST", f"/api/v1/staff/uploads/{upload_id}/complete")
    ).status_code == 404
    done = await staff.clerk.call("POST", f"/api/v1/staff/uploads/{upload_id}/complete")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "ready"

    staff_view = (await staff.clerk.call("GET", f"/api/v1/staff/cases/{case_id}")).json()
    assert upload_id in {f["id"] for f in staff_view["files"]}
    assert any(e["action"] == "attachment" for e in staff_view["timeline"])
    citizen_view = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()
    assert upload_id not in {f["id"] for f in citizen_view["files"]}
    assert not any(e["action"] == "attachment" for e in citizen_view["timeline"])
    assert (await person.call("GET", f"/api/v1/uploads/{upload_id}")).status_code == 404
