"""Administration of the working-day calendar over HTTP and from the command line.

Who may: an ``admin`` of any department (the calendar is one for the whole city); everyone else
is refused and the table is checked unchanged after each refusal. A change is used at once by the
worker that made it (``calendar_source``) and seen by every reader of the year's overview.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from sanic import Sanic

from core.calendar import calendar_source, warn_uncovered
from core.clock import local_today, utcnow
from core.models import CalendarOverride
from tests.functional.test_cli import cli_env, envelope, ok, zhangban
from tests.functional.test_http_edge import assert_envelope
from tests.people import Phone
from tests.staff import StaffMember, staff_member

URL = "/api/v1/admin/calendar"


@pytest.fixture
async def fresh_calendar(clean: Sanic) -> AsyncIterator[Sanic]:
    """Tables are emptied per test; this worker's snapshot of the overrides must follow."""
    calendar_source.invalidate()
    yield clean
    calendar_source.invalidate()


@pytest.fixture
async def admin(
    fresh_calendar: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> StaffMember:
    return await staff_member(
        fresh_calendar, client, sandbox, department_code="DEPT-A", roles=["admin"]
    )


async def overrides() -> list[tuple[str, bool, str]]:
    rows = await CalendarOverride.all().order_by("day")
    return [(row.day.isoformat(), row.is_workday, row.note) for row in rows]


def days_of(overview: dict, *wanted: str) -> dict[str, dict]:
    return {day["date"]: day for day in overview["days"] if day["date"] in wanted}


async def test_a_year_under_the_rule_with_the_notice_entered(admin: StaffMember) -> None:
    before = await admin.call("GET", URL, params={"year": 2027})
    assert before.status_code == 200, before.text
    year = before.json()
    assert (year["year"], year["base"], year["covered"], year["overrides"]) == (
        2027,
        "rule",
        False,
        0,
    )
    assert len(year["days"]) == 365
    assert year["working_days"] + year["non_working_days"] == 365
    spring = days_of(year, "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-20")
    assert spring["2027-02-05"] | {"set_at": None} == {
        "date": "2027-02-05",
        "weekday": 5,
        "is_workday": False,
        "source": "rule",
        "holiday": "春节",
        "note": "",
        "set_by": None,
        "set_at": None,
    }
    assert spring["2027-02-09"]["is_workday"] and not spring["2027-02-20"]["is_workday"]
    calendar = await calendar_source.get()
    assert calendar.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 9)

    # The notice: a make-up working day on Saturday 20 Feb, Tuesday 9 Feb off.
    made_up = await admin.call(
        "PUT", f"{URL}/2027-02-20", json={"is_workday": True, "note": "国办发明电〔2026〕X号"}
    )
    assert made_up.status_code == 200, made_up.text
    assert made_up.json() | {"set_at": None} == {
        "date": "2027-02-20",
        "weekday": 6,
        "is_workday": True,
        "source": "override",
        "holiday": None,
        "note": "国办发明电〔2026〕X号",
        "set_by": f"s:{admin.id}",
        "set_at": None,
    }
    assert made_up.json()["set_at"]
    off = await admin.call("PUT", f"{URL}/2027-02-09", json={"is_workday": False})
    assert off.status_code == 200 and off.json()["is_workday"] is False

    # This worker uses the change at once: the deadline moves.
    calendar = await calendar_source.get()
    assert calendar.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 10)
    assert calendar.add_working_days(date(2027, 2, 18), 2) == date(2027, 2, 20)

    after = (await admin.call("GET", URL, params={"year": "2027"})).json()
    assert (after["covered"], after["overrides"]) == (True, 2)
    assert after["working_days"] == year["working_days"]  # one gained, one lost
    changed = days_of(after, "2027-02-09", "2027-02-20")
    assert changed["2027-02-09"]["source"] == changed["2027-02-20"]["source"] == "override"
    assert await overrides() == [
        ("2027-02-09", False, ""),
        ("2027-02-20", True, "国办发明电〔2026〕X号"),
    ]


async def test_setting_a_day_again_replaces_it_and_undo_restores_the_source(
    admin: StaffMember,
) -> None:
    for flag, note in ((True, "first"), (False, "second"), (False, "second")):
        response = await admin.call(
            "PUT", f"{URL}/2026-10-10", json={"is_workday": flag, "note": note}
        )
        assert response.status_code == 200, response.text
    assert await overrides() == [("2026-10-10", False, "second")]
    calendar = await calendar_source.get()
    assert calendar.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 14)

    undone = await admin.call("DELETE", f"{URL}/2026-10-10")
    assert undone.status_code == 200, undone.text
    # Back to the package: the make-up Saturday of National Day 2026.
    assert undone.json() | {"set_at": None} == {
        "date": "2026-10-10",
        "weekday": 6,
        "is_workday": True,
        "source": "package",
        "holiday": "国庆节",
        "note": "",
        "set_by": None,
        "set_at": None,
    }
    assert await overrides() == []
    calendar = await calendar_source.get()
    assert calendar.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)

    again = await admin.call("DELETE", f"{URL}/2026-10-10")
    assert_envelope(again, 404, "calendar.override_not_found")


async def test_year_defaults_to_this_year_in_china(admin: StaffMember) -> None:
    response = await admin.call("GET", URL)
    assert response.status_code == 200, response.text
    assert response.json()["year"] == local_today(utcnow()).year


@pytest.fixture
def staff(
    fresh_calendar: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> Callable[..., Awaitable[StaffMember]]:
    """Another staff member, bound and logged in: ``await staff("DEPT-B", "clerk")``."""

    async def make(department_code: str, *roles: str) -> StaffMember:
        return await staff_member(
            fresh_calendar, client, sandbox, department_code=department_code, roles=list(roles)
        )

    return make


async def test_an_admin_of_any_department_may_edit(
    admin: StaffMember, staff: Callable[..., Awaitable[StaffMember]]
) -> None:
    other = await staff("DEPT-B", "admin", "clerk")
    response = await other.call("PUT", f"{URL}/2027-10-08", json={"is_workday": False})
    assert response.status_code == 200, response.text
    assert response.json()["set_by"] == f"s:{other.id}"
    listed = await admin.call("GET", URL, params={"year": 2027})
    assert days_of(listed.json(), "2027-10-08")["2027-10-08"]["source"] == "override"


async def test_only_admins_may_see_or_change_the_calendar(
    admin: StaffMember,
    staff: Callable[..., Awaitable[StaffMember]],
    client: httpx.AsyncClient,
    phone: Callable[[], Phone],
) -> None:
    await admin.call("PUT", f"{URL}/2027-02-20", json={"is_workday": True})
    before = await overrides()

    assert_envelope(await client.get(URL), 401, "auth.token_missing")
    assert_envelope(
        await client.put(f"{URL}/2027-02-21", json={"is_workday": True}), 401, "auth.token_missing"
    )
    citizen = phone()
    await citizen.login()
    refused = await client.put(f"{URL}/2027-02-21", json={"is_workday": True}, headers=citizen.auth)
    assert refused.status_code == 401, refused.text  # a citizen's token is not a staff token
    for roles in (["clerk"], ["catalog_admin"], ["supervisor"], ["reviewer", "approver"]):
        member = await staff("DEPT-A", *roles)
        for method, path, payload in (
            ("GET", URL, None),
            ("PUT", f"{URL}/2027-02-21", {"is_workday": True}),
            ("DELETE", f"{URL}/2027-02-20", None),
        ):
            response = await member.call(method, path, json=payload)
            error = assert_envelope(response, 403, "auth.forbidden")
            assert error["details"]["roles"] == ["admin"]
    assert await overrides() == before


@pytest.mark.parametrize(
    "path, payload, status, code, field",
    [
        ("2027-02-30", {"is_workday": True}, 400, "request.validation_failed", "date"),
        ("2027-2-3", {"is_workday": True}, 400, "request.validation_failed", "day"),
        ("tomorrow", {"is_workday": True}, 400, "request.validation_failed", "day"),
        ("1999-12-31", {"is_workday": True}, 400, "calendar.year_unsupported", None),
        ("2027-02-20", {}, 400, "request.validation_failed", "is_workday"),
        ("2027-02-20", {"is_workday": "yes"}, 400, "request.validation_failed", "is_workday"),
        ("2027-02-20", {"is_workday": 1}, 400, "request.validation_failed", "is_workday"),
        (
            "2027-02-20",
            {"is_workday": True, "note": "长" * 101},
            400,
            "request.validation_failed",
            "note",
        ),
        (
            "2027-02-20",
            {"is_workday": True, "day": "x"},
            400,
            "request.validation_failed",
            "day",
        ),
        ("2027-02-20", ["is_workday"], 400, "request.validation_failed", "body"),
    ],
)
async def test_bad_input_is_refused(
    admin: StaffMember, path: str, payload: object, status: int, code: str, field: str | None
) -> None:
    error = assert_envelope(await admin.call("PUT", f"{URL}/{path}", json=payload), status, code)
    if field is not None:
        assert [f["field"] for f in error["details"]["fields"]] == [field]
    assert await overrides() == []


async def test_bad_years_and_bodies(admin: StaffMember) -> None:
    for year, code in (
        ("abc", "request.validation_failed"),
        ("1999", "request.validation_failed"),
        ("2100", "request.validation_failed"),
    ):
        error = assert_envelope(await admin.call("GET", URL, params={"year": year}), 400, code)
        assert error["details"]["fields"][0]["field"] == "year"
    not_json = await admin.call(
        "PUT", f"{URL}/2027-02-20", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_envelope(not_json, 400, "request.validation_failed")
    assert_envelope(
        await admin.call("DELETE", f"{URL}/2027-13-01"), 400, "request.validation_failed"
    )
    assert await overrides() == []


async def test_startup_warning_names_the_uncovered_years(
    admin: StaffMember, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="zhangban.calendar"):
        assert await warn_uncovered(today=date(2026, 11, 22)) == [2027]
        assert await warn_uncovered(today=date(2027, 12, 1)) == [2027, 2028]
        assert await warn_uncovered(today=date(2025, 6, 1)) == []
    messages = [r.getMessage() for r in caplog.records if r.name == "zhangban.calendar"]
    assert len(messages) == 2 and "2027" in messages[0], messages

    # Once the notice for 2027 is entered, only 2028 is left to warn about.
    await admin.call("PUT", f"{URL}/2027-02-20", json={"is_workday": True})
    assert await warn_uncovered(today=date(2027, 12, 1)) == [2028]


# --------------------------------------------------------------------------------------------
# The command line (its own embedded database; once, on the embedded run)
# --------------------------------------------------------------------------------------------


@pytest.mark.skipif(
    os.environ.get("ZB_TEST_PROFILE", "embedded") != "embedded",
    reason="the console command with its own database runs once, on the embedded profile",
)
def test_calendar_commands(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    ok(zhangban(env, "migrate"))

    shown = ok(zhangban(env, "calendar", "show", "2027"))
    assert shown.splitlines()[0].startswith("2027: ")
    assert "base: rule, overrides: 0" in shown
    assert "warning: no official data for this year" in shown
    assert "2027-02-05 周五 休息 rule     春节" in shown

    made_up = json.loads(
        ok(zhangban(env, "calendar", "set", "2027-02-20", "--workday", "--note", "调休"))
    )
    assert (made_up["is_workday"], made_up["source"], made_up["set_by"]) == (
        True,
        "override",
        "cli",
    )
    off = json.loads(ok(zhangban(env, "calendar", "set", "2027-02-09", "--holiday")))
    assert off["is_workday"] is False

    shown = ok(zhangban(env, "calendar", "show", "2027"))
    assert "overrides: 2" in shown and "warning" not in shown
    assert "2027-02-09 周二 休息 override" in shown
    assert "2027-02-20 周六 上班 override 调休" in shown
    full = json.loads(ok(zhangban(env, "calendar", "show", "2027", "--json")))
    assert len(full["days"]) == 365 and full["overrides"] == 2

    undone = json.loads(ok(zhangban(env, "calendar", "unset", "2027-02-09")))
    assert (undone["is_workday"], undone["source"]) == (True, "rule")

    assert envelope(zhangban(env, "calendar", "set", "2027-02-30", "--workday"))["code"] == (
        "request.validation_failed"
    )
    assert envelope(zhangban(env, "calendar", "unset", "2027-02-09"))["code"] == (
        "calendar.override_not_found"
    )
    assert envelope(zhangban(env, "calendar", "show", "1999"))["code"] == (
        "calendar.year_unsupported"
    )
    missing_kind = zhangban(env, "calendar", "set", "2027-02-21")
    assert missing_kind.returncode == 2  # argparse: --workday or --holiday is required


async def test_the_api_contract_describes_the_endpoints(client: httpx.AsyncClient) -> None:
    document = (await client.get("/docs/openapi.json")).json()
    paths = document["paths"]
    assert "year" in {p["name"] for p in paths[URL]["get"]["parameters"]}
    assert {"put", "delete"} <= set(paths[f"{URL}/{{day}}"])
    ref = paths[f"{URL}/{{day}}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    schema = document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    assert "is_workday" in schema["required"]


async def test_concurrent_changes_of_one_day_leave_one_override(admin: StaffMember) -> None:
    responses = await asyncio.gather(
        *(
            admin.call("PUT", f"{URL}/2027-06-11", json={"is_workday": False, "note": f"n{n}"})
            for n in range(6)
        )
    )
    assert [r.status_code for r in responses] == [200] * 6
    rows = await overrides()
    assert len(rows) == 1 and rows[0][:2] == ("2027-06-11", False)
