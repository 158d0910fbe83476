"""The staff detail's ``actions`` say exactly what the viewer may do: a phone shows those buttons
and no others, so an action offered must be taken and an action not offered must be refused.

A case walks from submission to completion; in every state, every staff member of the office
reads the case, and every action they are not offered is attempted through its endpoint: each
must be refused (4xx) with nothing changed. The offered ones are taken along the walk. An empty
or too-short list fails (the walk takes offered actions only); a list too long fails (the
refused attempt is an offered action)."""

from __future__ import annotations

import typing
from typing import Any

from api.schemas import StaffActionName
from cases.states import EVENT_LABELS
from cases.views import STAFF_ACTIONS_OFFERED
from tests.cases_flow import Scene, filed
from tests.staff import StaffMember


def test_the_schema_names_the_offered_actions() -> None:
    assert typing.get_args(StaffActionName) == STAFF_ACTIONS_OFFERED


async def _detail(staff: StaffMember, case_id: int) -> dict[str, Any] | None:
    response = await staff.call("GET", f"/api/v1/staff/cases/{case_id}")
    if response.status_code != 200:
        assert response.status_code in (403, 404), response.text
        return None
    return dict(response.json())


async def _attempts(
    staff: StaffMember, scene: Scene, case_id: int, action: str, tasks: list[dict[str, Any]]
) -> list[Any]:
    """Every way ``action`` could be taken on the case (one per task for the task acts)."""
    cat, office = scene.cat, scene.staff
    case = f"/api/v1/staff/cases/{case_id}"
    by_case: dict[str, tuple[str, dict[str, Any]]] = {
        "accept": ("accept", {"comment": ""}),
        "refuse": ("refuse", {"reasons": "不属于本部门职权范围。"}),
        "request_correction": (
            "corrections",
            {"items": [{"kind": "material", "code": cat.photo, "problem": "照片不清晰"}]},
        ),
        "suspend": ("suspend", {"procedure": "hearing", "reason": "申请人申请听证。"}),
        "resume": ("resume", {"comment": ""}),
        "complete": ("complete", {"comment": ""}),
        "comment": ("comments", {"text": "内部意见"}),
        "attach": ("attachments", {"filename": "a.png", "content_type": "image/png", "size": 9}),
        "reveal": ("personal-data", {"field": "reason", "reason": "核对申请信息"}),
    }
    if action in by_case:
        tail, body = by_case[action]
        return [await staff.call("POST", f"{case}/{tail}", json=body)]
    answers = []
    for task in tasks:
        url = f"/api/v1/staff/tasks/{task['id']}"
        if action == "claim" and task["status"] == "open":
            answers.append(await staff.call("POST", f"{url}/claim"))
        elif action in ("decide", "release") and task["status"] == "claimed":
            body = {"outcome": "pass", "opinion": "符合条件。"} if action == "decide" else None
            answers.append(await staff.call("POST", f"{url}/{action}", json=body))
        elif action == "reassign" and task["status"] in ("open", "claimed"):
            to = office.approver if task["role"] == "approver" else office.reviewer
            answers.append(
                await staff.call(
                    "POST",
                    f"/api/v1/supervisor/tasks/{task['id']}/reassign",
                    json={"staff_id": to.id},
                )
            )
    return answers


async def _check_state(scene: Scene, case_id: int) -> dict[str, list[str]]:
    """Each member's offered actions; every action not offered is refused and changes nothing."""
    office = scene.staff
    members = {
        "clerk": office.clerk,
        "reviewer": office.reviewer,
        "approver": office.approver,
        "dispatcher": office.dispatcher,
        "supervisor": office.supervisor,
        "partner_reviewer": office.partner_reviewer,
        "other_clerk": office.other_clerk,
    }
    before = await _detail(office.supervisor, case_id)
    assert before is not None
    offered: dict[str, list[str]] = {}
    for name, member in members.items():
        detail = await _detail(member, case_id)
        actions = detail["actions"] if detail else []
        offered[name] = actions
        assert len(actions) == len(set(actions)) and set(actions) <= set(STAFF_ACTIONS_OFFERED)
        for action in STAFF_ACTIONS_OFFERED:
            if action in actions:
                continue
            for answer in await _attempts(member, scene, case_id, action, before["tasks"]):
                assert 400 <= answer.status_code < 500, (name, action, answer.text)
    after = await _detail(office.supervisor, case_id)
    assert after is not None
    assert (after["status"], after["revision"], after["tasks"]) == (
        before["status"],
        before["revision"],
        before["tasks"],
    )
    return offered


async def _take(staff: StaffMember, url: str, body: dict[str, Any] | None = None) -> None:
    response = await staff.call("POST", url, json=body)
    assert response.status_code == 200, response.text


async def _held_task(staff: StaffMember, case_id: int, status: str) -> int:
    detail = await _detail(staff, case_id)
    assert detail is not None
    return next(
        int(t["id"])
        for t in detail["tasks"]
        if t["status"] == status
        and t["role"] in staff.roles
        and t["department_code"] == staff.department_code
    )


async def test_offered_actions_are_exactly_the_ones_taken(scene: Scene) -> None:
    office, person = scene.staff, scene.person
    case_id = await filed(person, scene.cat, scene.cat.item)
    case = f"/api/v1/staff/cases/{case_id}"
    handling = ["comment", "attach"]

    offered = await _check_state(scene, case_id)  # submitted
    assert offered["clerk"] == ["accept", "refuse", "request_correction", *handling]
    assert offered["reviewer"] == handling and offered["dispatcher"] == handling
    assert offered["supervisor"] == [] and offered["other_clerk"] == []
    assert offered["partner_reviewer"] == []  # not a department of this item
    await _take(office.clerk, f"{case}/accept", {"comment": ""})

    offered = await _check_state(scene, case_id)  # accepted, the review task open
    assert offered["reviewer"] == ["claim", *handling]
    assert offered["approver"] == handling  # the approval step is not open yet
    assert offered["supervisor"] == ["reassign"]
    task = await _held_task(office.reviewer, case_id, "open")
    await _take(office.reviewer, f"/api/v1/staff/tasks/{task}/claim")

    offered = await _check_state(scene, case_id)  # in review, held by the reviewer
    assert offered["reviewer"] == [
        "request_correction",
        "decide",
        "release",
        "suspend",
        *handling,
    ]
    assert offered["clerk"] == handling and offered["supervisor"] == ["reassign"]
    await _take(
        office.reviewer, f"{case}/suspend", {"procedure": "inspection", "reason": "现场核查"}
    )

    offered = await _check_state(scene, case_id)  # suspended
    assert offered["reviewer"] == ["release", "resume", *handling]
    await _take(office.reviewer, f"/api/v1/staff/tasks/{task}/release")

    offered = await _check_state(scene, case_id)  # suspended, its task back in the queue
    assert offered["reviewer"] == ["claim", *handling]  # the only way on (found from outside)
    assert offered["supervisor"] == ["reassign"]
    await _take(office.reviewer, f"/api/v1/staff/tasks/{task}/claim")
    await _take(office.reviewer, f"{case}/resume", {"comment": ""})
    await _take(
        office.reviewer,
        f"/api/v1/staff/tasks/{task}/decide",
        {"outcome": "pass", "opinion": "符合条件。"},
    )

    offered = await _check_state(scene, case_id)  # the approval step open
    assert offered["approver"] == ["claim", *handling]
    assert offered["reviewer"] == handling  # the step they decided is closed
    approval = await _held_task(office.approver, case_id, "open")
    await _take(office.approver, f"/api/v1/staff/tasks/{approval}/claim")
    await _take(
        office.approver,
        f"/api/v1/staff/tasks/{approval}/decide",
        {"outcome": "pass", "opinion": "准予许可。"},
    )

    offered = await _check_state(scene, case_id)  # granted, free: the result to serve
    assert offered["dispatcher"] == ["complete", *handling]
    assert offered["supervisor"] == []
    await _take(office.dispatcher, f"{case}/complete", {"comment": "已送达"})

    offered = await _check_state(scene, case_id)  # completed
    assert offered["dispatcher"] == handling and offered["clerk"] == handling
    commented = await office.clerk.call("POST", f"{case}/comments", json={"text": "已电话告知"})
    assert commented.status_code == 204, commented.text

    # every line of the timeline says what it was in Chinese, on both sides
    staff_view = await _detail(office.supervisor, case_id)
    mine = await person.call("GET", f"/api/v1/cases/{case_id}")
    assert staff_view is not None and mine.status_code == 200
    for timeline in (staff_view["timeline"], mine.json()["timeline"]):
        assert {e["action"]: e["label"] for e in timeline} == {
            e["action"]: EVENT_LABELS[e["action"]] for e in timeline
        }
    assert {"comment", "claim", "suspend"} <= {e["action"] for e in staff_view["timeline"]}
    assert "comment" not in {e["action"] for e in mine.json()["timeline"]}  # internal
    # and the form's fields are named as the filed version named them
    titles = {"reason": "申请原因", "moving": "是否迁入新住所"}
    assert staff_view["form_titles"] == mine.json()["form_titles"] == titles
