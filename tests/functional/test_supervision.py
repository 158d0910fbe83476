"""Electronic supervision over HTTP: the board's cards, supervision notices (督办) and their
acknowledgement, reassignment of review tasks, and who may do which."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sanic import Sanic

from cases.models import ReviewTask
from core.calendar import calendar_source
from core.models import OutboxEvent
from tests.cases_flow import Scene, draft, pass_step
from tests.oversight_flow import (
    accepted,
    claim,
    codes,
    completed,
    deactivate,
    set_promised_due,
    today,
)
from tests.staff import Hire


async def test_the_board_counts_and_lists_cases_by_card(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    calendar = await calendar_source.get()
    day = today()

    red = await accepted(person, cat, staff)
    yellow_today = await accepted(person, cat, staff)
    yellow_later = await accepted(person, cat, staff)
    green = await accepted(person, cat, staff)
    paused = await accepted(person, cat, staff)
    await set_promised_due(red, day - timedelta(days=1))
    await set_promised_due(yellow_today, day)
    await set_promised_due(yellow_later, calendar.add_working_days(day, 2))  # the last yellow day
    await set_promised_due(green, calendar.add_working_days(day, 3))
    await set_promised_due(paused, day - timedelta(days=5))  # late, but its clock stands still
    await claim(staff.reviewer, paused)
    suspended = await staff.reviewer.call(
        "POST",
        f"/api/v1/staff/cases/{paused}/suspend",
        json={"procedure": "hearing", "reason": "申请人申请听证。"},
    )
    assert suspended.status_code == 200, suspended.text
    await draft(person, cat.paid_item)  # drafts are nobody's to supervise

    board = await staff.supervisor.call("GET", "/api/v1/supervisor/board")  # own department
    assert board.status_code == 200, board.text
    assert board.json()["department"] == cat.lead
    assert board.json()["counts"] == {"red": 1, "yellow": 2, "running": 4, "paused": 1}
    partner = await staff.supervisor.call(
        "GET", "/api/v1/supervisor/board", params={"department": cat.partner}
    )
    assert partner.json()["counts"] == {"red": 0, "yellow": 0, "running": 0, "paused": 0}

    reds = await staff.supervisor.call(
        "GET", "/api/v1/supervisor/cases", params={"card": "red", "department": cat.lead}
    )
    assert reds.status_code == 200, reds.text
    [row] = reds.json()["items"]
    assert (row["id"], row["card"], row["overdue_working_days"] >= 0) == (red, "red", True)
    assert row["holders"][0]["status"] == "open" and row["holders"][0]["role"] == "reviewer"

    first = await staff.supervisor.call(
        "GET", "/api/v1/supervisor/cases", params={"card": "yellow", "limit": 1}
    )
    assert [r["id"] for r in first.json()["items"]] == [yellow_today]  # the most urgent first
    cursor = first.json()["next_cursor"]
    assert cursor
    second = await staff.supervisor.call(
        "GET", "/api/v1/supervisor/cases", params={"card": "yellow", "limit": 1, "cursor": cursor}
    )
    assert [r["id"] for r in second.json()["items"]] == [yellow_later]
    assert second.json()["next_cursor"] is None
    assert {r["card"] for r in first.json()["items"] + second.json()["items"]} == {"yellow"}

    # A cursor of one list does not page another.
    other_list = await staff.supervisor.call(
        "GET", "/api/v1/supervisor/cases", params={"card": "red", "cursor": cursor}
    )
    assert codes(other_list) == (400, "request.validation_failed")
    bad_card = await staff.supervisor.call("GET", "/api/v1/supervisor/cases", params={"card": "x"})
    assert codes(bad_card) == (400, "request.validation_failed")
    unknown = await staff.supervisor.call(
        "GET", "/api/v1/supervisor/board", params={"department": "NO-SUCH-DEPT"}
    )
    assert codes(unknown) == (404, "catalog.department_not_found")

    # The staff detail of a case in the list is open to the supervisor.
    detail = await staff.supervisor.call("GET", f"/api/v1/staff/cases/{red}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["card"] == "red"


async def test_a_notice_reaches_the_holder_who_acknowledges_it(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await accepted(person, cat, staff)
    await set_promised_due(case_id, today() - timedelta(days=2))
    await claim(staff.reviewer, case_id)

    issued = await staff.supervisor.call(
        "POST",
        f"/api/v1/supervisor/cases/{case_id}/notices",
        json={"message": "该件已超期，请于今日内办结并说明原因。"},
        headers={"Idempotency-Key": "notice-0001"},
    )
    assert issued.status_code == 201, issued.text
    [notice] = issued.json()["notices"]
    assert (notice["assignee_staff_id"], notice["card"]) == (staff.reviewer.id, "red")
    assert notice["department_code"] == cat.lead
    retried = await staff.supervisor.call(
        "POST",
        f"/api/v1/supervisor/cases/{case_id}/notices",
        json={"message": "该件已超期，请于今日内办结并说明原因。"},
        headers={"Idempotency-Key": "notice-0001"},
    )
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert retried.json() == issued.json()

    inbox = await staff.reviewer.call("GET", "/api/v1/staff/inbox", params={"role": "reviewer"})
    assert inbox.json()["counts"]["supervision"] == 1
    mine = await staff.reviewer.call("GET", "/api/v1/staff/supervision-notices")
    assert mine.status_code == 200, mine.text
    assert mine.json()["counts"]["unacknowledged"] == 1
    [row] = mine.json()["items"]
    assert (row["id"], row["case_id"], row["acknowledged"]) == (notice["id"], case_id, False)
    assert row["message"] == "该件已超期，请于今日内办结并说明原因。"
    assert row["issued_by"]["staff_id"] == staff.supervisor.id

    # It is the holder's, not the department's: a colleague neither sees nor acknowledges it.
    colleague = await staff.approver.call("GET", "/api/v1/staff/supervision-notices")
    assert colleague.json()["items"] == []
    refused = await staff.approver.call(
        "POST", f"/api/v1/staff/supervision-notices/{notice['id']}/acknowledge"
    )
    assert codes(refused) == (403, "supervision.not_addressed_to_you")
    missing = await staff.reviewer.call(
        "POST", "/api/v1/staff/supervision-notices/999999/acknowledge"
    )
    assert codes(missing) == (404, "supervision.notice_not_found")

    ack = await staff.reviewer.call(
        "POST", f"/api/v1/staff/supervision-notices/{notice['id']}/acknowledge"
    )
    assert ack.status_code == 200, ack.text
    assert ack.json()["acknowledged"] is True
    again = await staff.reviewer.call(
        "POST", f"/api/v1/staff/supervision-notices/{notice['id']}/acknowledge"
    )
    assert again.json()["acknowledged_at"] == ack.json()["acknowledged_at"]  # recorded once
    inbox = await staff.reviewer.call("GET", "/api/v1/staff/inbox", params={"role": "reviewer"})
    assert inbox.json()["counts"]["supervision"] == 0

    # Acknowledged ones come after the unacknowledged ones.
    second = await staff.supervisor.call(
        "POST", f"/api/v1/supervisor/cases/{case_id}/notices", json={"message": "请尽快回复。"}
    )
    assert second.status_code == 201, second.text
    listed = (await staff.reviewer.call("GET", "/api/v1/staff/supervision-notices")).json()
    assert [(r["id"], r["acknowledged"]) for r in listed["items"]] == [
        (second.json()["notices"][0]["id"], False),
        (notice["id"], True),
    ]
    page = await staff.reviewer.call(
        "GET", "/api/v1/staff/supervision-notices", params={"limit": 1}
    )
    assert page.json()["next_cursor"]
    rest = await staff.reviewer.call(
        "GET",
        "/api/v1/staff/supervision-notices",
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
    )
    assert [r["id"] for r in rest.json()["items"]] == [notice["id"]]

    # The timeline keeps it for staff; the applicant does not see internal supervision.
    staff_view = (await staff.supervisor.call("GET", f"/api/v1/staff/cases/{case_id}")).json()
    actions = [e["action"] for e in staff_view["timeline"]]
    assert actions.count("supervision_notice") == 2 and "supervision_acknowledged" in actions
    citizen_view = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()
    assert not {"supervision_notice", "supervision_acknowledged"} & {
        e["action"] for e in citizen_view["timeline"]
    }
    events = await OutboxEvent.filter(topic="case.supervision_notice").order_by("id")
    assert [e.payload["notice_id"] for e in events] == [
        notice["id"],
        second.json()["notices"][0]["id"],
    ]
    assert events[0].payload["assignee_staff_id"] == staff.reviewer.id
    followed = await staff.supervisor.call("GET", f"/api/v1/supervisor/cases/{case_id}/notices")
    assert [n["acknowledged"] for n in followed.json()["notices"]] == [True, False]


async def test_a_notice_on_a_case_nobody_holds_goes_to_each_department_that_must_act(
    scene: Scene,
) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await accepted(person, cat, staff, cat.parallel_item)

    issued = await staff.supervisor.call(
        "POST", f"/api/v1/supervisor/cases/{case_id}/notices", json={"message": "请尽快领取办理。"}
    )
    assert issued.status_code == 201, issued.text
    assert sorted(
        (n["department_code"], n["assignee_staff_id"]) for n in issued.json()["notices"]
    ) == sorted([(cat.lead, None), (cat.partner, None)])
    lead_notice = next(n for n in issued.json()["notices"] if n["department_code"] == cat.lead)
    # Every handling staff member of the department sees it; another department's does not.
    for who in (staff.clerk, staff.reviewer):
        seen = (await who.call("GET", "/api/v1/staff/supervision-notices")).json()
        assert [n["id"] for n in seen["items"]] == [lead_notice["id"]]
    partner_seen = (
        await staff.partner_reviewer.call("GET", "/api/v1/staff/supervision-notices")
    ).json()
    assert [n["department_code"] for n in partner_seen["items"]] == [cat.partner]
    other = (await staff.other_clerk.call("GET", "/api/v1/staff/supervision-notices")).json()
    assert other["items"] == []
    inbox = await staff.clerk.call("GET", "/api/v1/staff/inbox", params={"role": "clerk"})
    assert inbox.json()["counts"]["supervision"] == 1
    ack = await staff.clerk.call(
        "POST", f"/api/v1/staff/supervision-notices/{lead_notice['id']}/acknowledge"
    )
    assert ack.status_code == 200, ack.text
    inbox = await staff.reviewer.call("GET", "/api/v1/staff/inbox", params={"role": "reviewer"})
    assert inbox.json()["counts"]["supervision"] == 0


async def test_no_notice_on_drafts_or_closed_cases_and_a_message_is_required(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    fresh = await draft(person, cat.paid_item)
    done = await completed(person, cat, staff)
    # A draft is its applicant's alone: supervisors do not see it; a closed case is over.
    for case_id, expected in ((fresh["id"], (404, "case.not_found")), (done, None)):
        response = await staff.supervisor.call(
            "POST", f"/api/v1/supervisor/cases/{case_id}/notices", json={"message": "请办理。"}
        )
        assert codes(response) == (expected or (409, "supervision.case_not_active"))
    empty = await staff.supervisor.call(
        "POST", f"/api/v1/supervisor/cases/{done}/notices", json={"message": ""}
    )
    assert codes(empty) == (400, "request.validation_failed")
    nowhere = await staff.supervisor.call(
        "POST", "/api/v1/supervisor/cases/999999/notices", json={"message": "请办理。"}
    )
    assert codes(nowhere) == (404, "case.not_found")


async def test_a_supervisor_reassigns_a_task_within_the_department(
    scene: Scene, hire: Hire
) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    second_reviewer = await hire(cat.lead, "reviewer")
    case_id = await accepted(person, cat, staff, cat.item)
    task_id = await claim(staff.reviewer, case_id)
    notice = await staff.supervisor.call(
        "POST", f"/api/v1/supervisor/cases/{case_id}/notices", json={"message": "请尽快审查。"}
    )
    assert notice.status_code == 201

    moved = await staff.supervisor.call(
        "POST",
        f"/api/v1/supervisor/tasks/{task_id}/reassign",
        json={"staff_id": second_reviewer.id},
        headers={"Idempotency-Key": "reassign-0001"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "task_id": task_id,
        "case_id": case_id,
        "status": "claimed",
        "assignee_staff_id": second_reviewer.id,
        "previous_assignee_staff_id": staff.reviewer.id,
        "case_status": "in_review",
    }
    # The previous holder can no longer decide; the new one can, and inherits the notice.
    late = await staff.reviewer.call(
        "POST",
        f"/api/v1/staff/tasks/{task_id}/decide",
        json={"outcome": "pass", "opinion": "同意。"},
    )
    assert codes(late) == (409, "case.task_taken")
    inherited = (await second_reviewer.call("GET", "/api/v1/staff/supervision-notices")).json()
    assert [n["id"] for n in inherited["items"]] == [notice.json()["notices"][0]["id"]]
    assert (await staff.reviewer.call("GET", "/api/v1/staff/supervision-notices")).json()[
        "items"
    ] == []
    decided = await second_reviewer.call(
        "POST",
        f"/api/v1/staff/tasks/{task_id}/decide",
        json={"outcome": "pass", "opinion": "材料齐全，同意。"},
    )
    assert decided.status_code == 200, decided.text
    assert (await OutboxEvent.filter(topic="case.task_reassigned").count()) == 1

    # The approval step is open and unclaimed on a case in review: assigning it claims it.
    approval = await ReviewTask.get(case_id=case_id, role="approver")
    second_approver = await hire(cat.lead, "approver")
    given = await staff.supervisor.call(
        "POST",
        f"/api/v1/supervisor/tasks/{approval.id}/reassign",
        json={"staff_id": second_approver.id},
    )
    assert given.status_code == 200, given.text
    assert given.json()["previous_assignee_staff_id"] is None
    final = await second_approver.call(
        "POST",
        f"/api/v1/staff/tasks/{approval.id}/decide",
        json={"outcome": "pass", "opinion": "准予许可。"},
    )
    assert final.json()["status"] == "result_pending"
    closed = await staff.supervisor.call(
        "POST",
        f"/api/v1/supervisor/tasks/{approval.id}/reassign",
        json={"staff_id": staff.approver.id},
    )
    assert codes(closed) == (409, "case.task_closed")


async def test_assigning_a_task_of_an_accepted_case_starts_its_review(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await accepted(person, cat, staff)
    task = await ReviewTask.get(case_id=case_id)
    given = await staff.supervisor.call(
        "POST", f"/api/v1/supervisor/tasks/{task.id}/reassign", json={"staff_id": staff.reviewer.id}
    )
    assert given.status_code == 200, given.text
    assert given.json()["case_status"] == "in_review"
    detail = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()
    assert detail["status"] == "in_review"
    assert "reassign" not in {e["action"] for e in detail["timeline"]}  # internal
    decided = await staff.reviewer.call(
        "POST",
        f"/api/v1/staff/tasks/{task.id}/decide",
        json={"outcome": "pass", "opinion": "同意。"},
    )
    assert decided.json()["status"] == "fee_due"


async def test_reassignment_refuses_staff_who_cannot_take_the_task(
    scene: Scene, hire: Hire, clean: Sanic
) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    inactive = await hire(cat.lead, "reviewer")
    await deactivate(clean, inactive)
    case_id = await accepted(person, cat, staff)
    task_id = await claim(staff.reviewer, case_id)

    for target, expected in (
        (staff.partner_reviewer.id, "supervision.assignee_other_department"),
        (inactive.id, "supervision.assignee_inactive"),
        (staff.approver.id, "supervision.assignee_lacks_role"),
        (staff.clerk.id, "supervision.assignee_lacks_role"),
        (999999, "supervision.assignee_not_found"),
    ):
        response = await staff.supervisor.call(
            "POST", f"/api/v1/supervisor/tasks/{task_id}/reassign", json={"staff_id": target}
        )
        assert codes(response) == (400, expected), target
        fields = response.json()["error"]["details"]["fields"]
        assert [f["field"] for f in fields] == ["staff_id"], fields
    malformed = await staff.supervisor.call(
        "POST", f"/api/v1/supervisor/tasks/{task_id}/reassign", json={"staff_id": "x"}
    )
    assert codes(malformed) == (400, "request.validation_failed")
    nowhere = await staff.supervisor.call(
        "POST", "/api/v1/supervisor/tasks/999999/reassign", json={"staff_id": staff.reviewer.id}
    )
    assert codes(nowhere) == (404, "case.task_not_found")
    task = await ReviewTask.get(id=task_id)
    assert (task.status, task.assignee_staff_id) == ("claimed", staff.reviewer.id)


async def test_the_assignees_listed_are_those_a_reassignment_takes(
    scene: Scene, hire: Hire
) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    case_id = await accepted(person, cat, staff, item=cat.item)  # review, then approval
    task_id = await claim(staff.reviewer, case_id)
    # the list a supervisor picks from holds exactly those the reassignment would take
    second = await hire(cat.lead, "reviewer", "approver")
    listed = await staff.supervisor.call("GET", f"/api/v1/supervisor/tasks/{task_id}/assignees")
    assert listed.status_code == 200, listed.text
    assert listed.json()["assignees"] == [
        {
            "staff_id": staff.reviewer.id,
            "name": listed.json()["assignees"][0]["name"],
            "holds_task": True,
        },
        {"staff_id": second.id, "name": listed.json()["assignees"][1]["name"], "holds_task": False},
    ]
    # …and not the approval step to whoever reviewed: separation of duties
    moved = await staff.supervisor.call(
        "POST", f"/api/v1/supervisor/tasks/{task_id}/reassign", json={"staff_id": second.id}
    )
    assert moved.status_code == 200, moved.text
    decided = await second.call(
        "POST",
        f"/api/v1/staff/tasks/{task_id}/decide",
        json={"outcome": "pass", "opinion": "符合条件。"},
    )
    assert decided.status_code == 200, decided.text
    approval = await ReviewTask.get(case_id=case_id, role="approver")
    approvers = await staff.supervisor.call(
        "GET", f"/api/v1/supervisor/tasks/{approval.id}/assignees"
    )
    assert [a["staff_id"] for a in approvers.json()["assignees"]] == [staff.approver.id]
    elsewhere = await staff.partner_reviewer.call(
        "GET", f"/api/v1/supervisor/tasks/{approval.id}/assignees"
    )
    assert elsewhere.status_code == 403
    nowhere = await staff.supervisor.call("GET", "/api/v1/supervisor/tasks/999999/assignees")
    assert codes(nowhere) == (404, "case.task_not_found")


async def test_who_may_supervise(scene: Scene, hire: Hire) -> None:
    """Citizens: never. Staff without the supervisor role: never. A supervisor of another
    department reads the board and issues notices (supervision is city-wide), but does not
    move another department's tasks."""
    cat, staff, person = scene.cat, scene.staff, scene.person
    outsider = await hire(cat.other, "supervisor")
    case_id = await accepted(person, cat, staff)
    task = await ReviewTask.get(case_id=case_id)

    board = "/api/v1/supervisor/board"
    notices = f"/api/v1/supervisor/cases/{case_id}/notices"
    reassign = f"/api/v1/supervisor/tasks/{task.id}/reassign"
    for method, path, body in (
        ("GET", f"{board}?department={cat.lead}", None),
        ("GET", f"/api/v1/supervisor/cases?card=red&department={cat.lead}", None),
        ("POST", notices, {"message": "请办理。"}),
        ("POST", reassign, {"staff_id": staff.reviewer.id}),
    ):
        as_citizen = await person.call(method, path, json=body)
        assert codes(as_citizen)[0] == 401, path
        for who in (staff.clerk, staff.reviewer, staff.approver, staff.other_clerk):
            as_staff = await who.call(method, path, json=body)
            assert codes(as_staff) == (403, "auth.forbidden"), path
    assert codes(await person.call("GET", "/api/v1/staff/supervision-notices"))[0] == 401

    read = await outsider.call("GET", board, params={"department": cat.lead})
    assert read.status_code == 200, read.text
    assert read.json()["counts"]["running"] == 1
    issued = await outsider.call("POST", notices, json={"message": "请说明办理进度。"})
    assert issued.status_code == 201, issued.text
    moved = await outsider.call("POST", reassign, json={"staff_id": staff.reviewer.id})
    assert codes(moved) == (403, "supervision.other_department")
    # Nor may a supervisor act on the case itself: supervisors read, and act on nothing.
    act = await staff.supervisor.call("POST", f"/api/v1/staff/tasks/{task.id}/claim")
    assert act.status_code == 403
    still = await ReviewTask.get(id=task.id)
    assert (still.status, still.assignee_staff_id) == ("open", None)
    assert (await pass_step(staff.reviewer, case_id)).status_code == 200


async def test_the_contract_documents_supervision_and_evaluation(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/docs/openapi.json")).json()["paths"]
    for path, method in (
        ("/api/v1/supervisor/board", "get"),
        ("/api/v1/supervisor/cases", "get"),
        ("/api/v1/supervisor/cases/{case_id}/notices", "post"),
        ("/api/v1/supervisor/cases/{case_id}/notices", "get"),
        ("/api/v1/supervisor/tasks/{task_id}/reassign", "post"),
        ("/api/v1/staff/supervision-notices", "get"),
        ("/api/v1/staff/supervision-notices/{notice_id}/acknowledge", "post"),
        ("/api/v1/cases/{case_id}/evaluation", "post"),
        ("/api/v1/staff/evaluations", "get"),
        ("/api/v1/staff/evaluations/stats", "get"),
        ("/api/v1/staff/evaluations/{evaluation_id}/answer", "post"),
    ):
        operation = paths[path][method]
        assert "401" in operation["responses"], (path, method)
    rating = paths["/api/v1/cases/{case_id}/evaluation"]["post"]
    assert "requestBody" in rating
