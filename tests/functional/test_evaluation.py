"""好差评 over HTTP: when a case may be rated, once; follow-up of bad ratings and the answer the
applicant sees; statistics; who may do which."""

from __future__ import annotations

from core.clock import local_today, utcnow
from core.models import OutboxEvent
from tests.cases_flow import Scene
from tests.oversight_flow import accepted, codes, completed, denied, refused
from tests.people import Phone
from tests.staff import Hire


async def test_the_applicant_rates_a_finished_case_once(scene: Scene, stranger: Phone) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person

    running = await accepted(person, cat, staff)
    early = await person.call("POST", f"/api/v1/cases/{running}/evaluation", json={"score": 5})
    assert codes(early) == (409, "case.not_rateable")

    case_id = await completed(person, cat, staff)
    path = f"/api/v1/cases/{case_id}/evaluation"
    for bad in ({"score": 6}, {"score": 0}, {"score": "五"}, {}, {"score": 5, "tags": ["x" * 21]}):
        response = await person.call("POST", path, json=bad)
        assert codes(response) == (400, "request.validation_failed"), bad
        assert response.json()["error"]["details"]["fields"], bad
    assert codes(await stranger.call("POST", path, json={"score": 5})) == (404, "case.not_found")
    as_staff = await staff.clerk.call("POST", path, json={"score": 5})
    assert as_staff.status_code == 401  # a staff token is not a citizen's

    rated = await person.call(
        "POST",
        path,
        json={"score": 5, "tags": ["办事快", "态度好", "办事快"], "comment": "全程网办，很方便。"},
        headers={"Idempotency-Key": "rate-00000001"},
    )
    assert rated.status_code == 201, rated.text
    assert rated.json()["score"] == 5
    assert rated.json()["tags"] == ["办事快", "态度好"]
    assert rated.json()["follow_up"] is None
    replay = await person.call(
        "POST",
        path,
        json={"score": 5, "tags": ["办事快", "态度好", "办事快"], "comment": "全程网办，很方便。"},
        headers={"Idempotency-Key": "rate-00000001"},
    )
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    twice = await person.call("POST", path, json={"score": 1})
    assert codes(twice) == (409, "case.already_rated")

    detail = (await person.call("GET", f"/api/v1/cases/{case_id}")).json()
    assert detail["evaluation"] == {
        "score": 5,
        "tags": ["办事快", "态度好"],
        "comment": "全程网办，很方便。",
        "answer": None,
        "follow_up": None,
        "rated_at": detail["evaluation"]["rated_at"],
        "answered_at": None,
    }
    assert detail["evaluation"]["rated_at"].startswith(str(local_today(utcnow()).year))
    assert "evaluate" in [e["action"] for e in detail["timeline"]]
    [event] = await OutboxEvent.filter(topic="case.evaluated")
    assert (event.payload["case_id"], event.payload["score"]) == (case_id, 5)


async def test_a_bad_rating_opens_a_follow_up_the_department_answers(scene: Scene) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    refused_case = await refused(person, cat, staff)
    denied_case = await denied(person, cat, staff)

    bad = await person.call(
        "POST",
        f"/api/v1/cases/{refused_case}/evaluation",
        json={"score": 1, "tags": ["解释不清"], "comment": "没有说明应当去哪个部门办理。"},
    )
    assert bad.status_code == 201, bad.text
    assert bad.json()["follow_up"] == "open"
    fair = await person.call("POST", f"/api/v1/cases/{denied_case}/evaluation", json={"score": 3})
    assert fair.json()["follow_up"] is None
    evaluation_id = bad.json()["id"]

    open_ = await staff.clerk.call("GET", "/api/v1/staff/evaluations", params={"follow_up": "open"})
    assert open_.status_code == 200, open_.text
    [row] = open_.json()["items"]
    assert (row["id"], row["case_id"], row["score"]) == (evaluation_id, refused_case, 1)
    assert row["acceptance_number"] is None and row["applicant"]  # masked applicant name
    every = await staff.reviewer.call("GET", "/api/v1/staff/evaluations", params={"limit": 1})
    assert [r["id"] for r in every.json()["items"]] == [fair.json()["id"]]  # newest first
    more = await staff.reviewer.call(
        "GET",
        "/api/v1/staff/evaluations",
        params={"limit": 1, "cursor": every.json()["next_cursor"]},
    )
    assert [r["id"] for r in more.json()["items"]] == [evaluation_id]
    elsewhere = await staff.other_clerk.call("GET", "/api/v1/staff/evaluations")
    assert elsewhere.json()["items"] == []
    peeking = await staff.other_clerk.call(
        "GET", "/api/v1/staff/evaluations", params={"department": cat.lead}
    )
    assert codes(peeking) == (403, "evaluation.forbidden")

    answer = {"answer": "已核实，窗口将在告知书中写明受理部门，并向您致歉。"}
    url = f"/api/v1/staff/evaluations/{evaluation_id}/answer"
    assert codes(await staff.other_clerk.call("POST", url, json=answer)) == (
        403,
        "evaluation.forbidden",
    )
    # A supervisor oversees; answering is the department's handling staff's (refused before the
    # rating is even looked up: the role may answer none).
    assert codes(await staff.supervisor.call("POST", url, json=answer)) == (
        403,
        "auth.forbidden",
    )
    assert codes(await person.call("POST", url, json=answer))[0] == 401
    short = await staff.clerk.call("POST", url, json={"answer": "好"})
    assert codes(short) == (400, "request.validation_failed")
    answered = await staff.clerk.call("POST", url, json=answer)
    assert answered.status_code == 200, answered.text
    assert answered.json()["follow_up"] == "answered"
    again = await staff.reviewer.call("POST", url, json=answer)
    assert codes(again) == (409, "evaluation.no_open_follow_up")
    no_follow_up = await staff.clerk.call(
        "POST", f"/api/v1/staff/evaluations/{fair.json()['id']}/answer", json=answer
    )
    assert codes(no_follow_up) == (409, "evaluation.no_open_follow_up")
    missing = await staff.clerk.call("POST", "/api/v1/staff/evaluations/999999/answer", json=answer)
    assert codes(missing) == (404, "evaluation.not_found")

    detail = (await person.call("GET", f"/api/v1/cases/{refused_case}")).json()
    assert detail["evaluation"]["answer"] == answer["answer"]
    assert detail["evaluation"]["follow_up"] == "answered" and detail["evaluation"]["answered_at"]
    assert "evaluation_answer" in [e["action"] for e in detail["timeline"]]
    now_open = await staff.clerk.call(
        "GET", "/api/v1/staff/evaluations", params={"follow_up": "open"}
    )
    assert now_open.json()["items"] == []
    assert await OutboxEvent.filter(topic="case.evaluation_answered").count() == 1


async def test_statistics_per_item_and_department(scene: Scene, hire: Hire) -> None:
    cat, staff, person = scene.cat, scene.staff, scene.person
    outsider = await hire(cat.other, "supervisor")
    paid_cases = [await refused(person, cat, staff) for _ in range(3)]
    free_case = await completed(person, cat, staff)
    for case_id, score in zip([*paid_cases, free_case], [1, 4, 5, 5], strict=True):
        rated = await person.call(
            "POST", f"/api/v1/cases/{case_id}/evaluation", json={"score": score}
        )
        assert rated.status_code == 201, rated.text

    stats = await staff.clerk.call("GET", "/api/v1/staff/evaluations/stats")
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert body["department"] == cat.lead
    assert (body["count"], body["average"]) == (4, 3.75)
    assert body["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2}
    assert body["follow_ups"] == {"open": 1, "answered": 0}
    by_item = await staff.clerk.call(
        "GET", "/api/v1/staff/evaluations/stats", params={"item_code": cat.paid_item}
    )
    assert (by_item.json()["count"], by_item.json()["average"]) == (3, 3.33)

    # Others' departments: supervisors of any department, nobody else.
    forbidden = await staff.other_clerk.call(
        "GET", "/api/v1/staff/evaluations/stats", params={"department": cat.lead}
    )
    assert codes(forbidden) == (403, "evaluation.forbidden")
    own = await staff.other_clerk.call("GET", "/api/v1/staff/evaluations/stats")
    assert (own.json()["count"], own.json()["average"]) == (0, None)
    read = await outsider.call(
        "GET", "/api/v1/staff/evaluations/stats", params={"department": cat.lead}
    )
    assert read.json()["count"] == 4
    city = await outsider.call("GET", "/api/v1/staff/evaluations/stats")
    assert (city.json()["department"], city.json()["count"]) == (None, 4)
    assert codes(await person.call("GET", "/api/v1/staff/evaluations/stats"))[0] == 401
