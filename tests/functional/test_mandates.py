"""Family mandates (亲友代办) over HTTP: granting, listing, ending, events and what they permit.

A principal names a relative by name and ID number; both must have verified their real name.
After every refusal the database is checked to hold no new mandate and no new event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sanic import Sanic

from auth.models import Mandate
from auth.permissions import Action, Owned, Subject, can
from core.clock import local_today, utcnow
from core.models import OutboxEvent
from tests import factories
from tests.functional.test_http_edge import assert_envelope
from tests.people import Phone, citizen, id_number, uid


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


async def grant(
    principal: Phone,
    agent: Phone,
    *,
    items: list[str] | None = None,
    ends_on: date | None = None,
    **overrides: Any,
) -> httpx.Response:
    body = {
        "agent_name": agent.name,
        "agent_id_number": agent.id_number,
        "item_codes": items or [],
        "ends_on": (ends_on or local_today(utcnow()) + timedelta(days=30)).isoformat(),
        **overrides,
    }
    return await principal.call("POST", "/api/v1/mandates", json=body)


async def nothing_granted() -> None:
    assert not await Mandate.exists()
    assert not await OutboxEvent.filter(topic__startswith="mandate.").exists()


@pytest.fixture(autouse=True)
async def items(clean: Sanic) -> None:
    """The items the mandates below name: the catalogue's, as a mandate's must be."""
    lead = factories.department()
    await factories.imported(
        clean,
        departments=[lead],
        items=[
            factories.guide(lead_department=lead["code"], code=code, name=name)
            for code, name in (("ITEM-A", "甲事项"), ("ITEM-B", "乙事项"), ("ITEM-X", "丙事项"))
        ],
    )


@pytest.fixture
async def family(phone: Callable[[], Phone]) -> dict[str, Phone]:
    """A mother (张秀英) and her son (张伟), both at L1, and a stranger (王芳) at L1."""
    return {
        "mother": await citizen(phone(), name="张秀英"),
        "son": await citizen(phone(), name="张伟"),
        "stranger": await citizen(phone(), name="王芳"),
    }


# --------------------------------------------------------------------------------------------
# Granting and listing
# --------------------------------------------------------------------------------------------


async def test_grant_to_a_relative_shows_on_both_sides_with_names_masked(
    family: dict[str, Phone],
) -> None:
    mother, son = family["mother"], family["son"]
    ends_on = local_today(utcnow()) + timedelta(days=90)

    response = await grant(mother, son, items=["ITEM-B", "ITEM-A", "ITEM-A"], ends_on=ends_on)

    assert response.status_code == 201, response.text
    mandate = response.json()
    assert mandate == {
        "id": mandate["id"],
        "principal": {"id": uid(mother), "name": "张**"},
        "agent": {"id": uid(son), "name": "张*"},
        "item_codes": ["ITEM-A", "ITEM-B"],
        "item_names": ["甲事项", "乙事项"],
        "ends_on": ends_on.isoformat(),
        "active": True,
        "status": "active",
        "ended_at": None,
        "ended_by": None,
    }
    row = await Mandate.get(id=mandate["id"])
    assert (row.principal_id, row.agent_id, row.ended_at) == (uid(mother), uid(son), None)

    held = (await son.call("GET", "/api/v1/mandates")).json()
    assert held == {"given": [], "held": [mandate]}
    given = (await mother.call("GET", "/api/v1/mandates")).json()
    assert given == {"given": [mandate], "held": []}
    stranger = (await family["stranger"].call("GET", "/api/v1/mandates")).json()
    assert stranger == {"given": [], "held": []}
    # Neither side sees the other's full name or ID number anywhere in the listing.
    for text in (str(held), str(given)):
        assert "张伟" not in text and "张秀英" not in text
        assert son.id_number not in text and mother.id_number not in text

    events = await OutboxEvent.filter(topic="mandate.granted")
    assert [e.payload for e in events] == [
        {"mandate_id": mandate["id"], "principal_id": uid(mother), "agent_id": uid(son)}
    ]


async def test_grant_to_an_unknown_person_is_404(family: dict[str, Phone]) -> None:
    nobody = Phone(api=family["mother"].api, sandbox=family["mother"].sandbox)
    nobody.name, nobody.id_number = "张伟", id_number()

    assert_envelope(await grant(family["mother"], nobody), 404, "auth.agent_user_not_found")

    await nothing_granted()


async def test_grant_with_a_name_that_does_not_match_is_404(family: dict[str, Phone]) -> None:
    son = family["son"]

    response = await grant(family["mother"], son, agent_name="张大伟")

    error = assert_envelope(response, 404, "auth.agent_user_not_found")
    assert "张伟" not in response.text  # the refusal does not reveal the real holder's name
    assert error["details"] == {}
    await nothing_granted()


async def test_grant_to_an_l0_person_is_404(
    family: dict[str, Phone], phone: Callable[[], Phone]
) -> None:
    l0 = await citizen(phone(), name="张强", level=0)

    assert_envelope(await grant(family["mother"], l0), 404, "auth.agent_user_not_found")

    await nothing_granted()


async def test_grant_to_oneself_is_refused(family: dict[str, Phone]) -> None:
    mother = family["mother"]

    error = assert_envelope(await grant(mother, mother), 400, "request.validation_failed")

    assert [(f["field"], f["code"]) for f in error["details"]["fields"]] == [
        ("agent_id_number", "self")
    ]
    await nothing_granted()


async def test_grant_with_an_invalid_agent_id_number_is_refused(family: dict[str, Phone]) -> None:
    response = await grant(family["mother"], family["son"], agent_id_number=wrong_check(family))

    assert_envelope(response, 400, "request.validation_failed")
    await nothing_granted()


def wrong_check(family: dict[str, Phone]) -> str:
    number = family["son"].id_number
    return number[:-1] + ("0" if number[-1] != "0" else "1")


async def test_invalid_agent_id_number_is_reported_on_the_request_field(
    family: dict[str, Phone],
) -> None:
    response = await grant(family["mother"], family["son"], agent_id_number=wrong_check(family))

    error = assert_envelope(response, 400, "request.validation_failed")
    assert [f["field"] for f in error["details"]["fields"]] == ["agent_id_number"]


@pytest.mark.parametrize("days", [-30, -1, 0, 367, 3650], ids=lambda d: f"today{d:+d}")
async def test_ends_on_outside_today_and_one_year_is_refused(
    family: dict[str, Phone], days: int
) -> None:
    ends_on = local_today(utcnow()) + timedelta(days=days)

    error = assert_envelope(
        await grant(family["mother"], family["son"], ends_on=ends_on),
        400,
        "request.validation_failed",
    )

    assert [(f["field"], f["code"]) for f in error["details"]["fields"]] == [
        ("ends_on", "out_of_range")
    ]
    await nothing_granted()


async def test_ends_on_tomorrow_and_exactly_one_year_ahead_are_accepted(
    family: dict[str, Phone],
) -> None:
    today = local_today(utcnow())
    for ends_on in (today + timedelta(days=1), one_year_after(today)):
        response = await grant(family["mother"], family["son"], ends_on=ends_on)
        assert response.status_code == 201, response.text
        assert response.json()["ends_on"] == ends_on.isoformat()
        # One running mandate per pair: end it before the next.
        ended = await family["mother"].call("DELETE", f"/api/v1/mandates/{response.json()['id']}")
        assert ended.status_code == 204, ended.text


_TODAY = local_today(utcnow())
_OVER_ONE_YEAR = one_year_after(_TODAY) + timedelta(days=1)


async def test_ends_on_one_day_past_one_year_is_refused(family: dict[str, Phone]) -> None:
    response = await grant(family["mother"], family["son"], ends_on=_OVER_ONE_YEAR)

    assert_envelope(response, 400, "request.validation_failed")
    await nothing_granted()


async def test_l0_principal_cannot_grant(
    family: dict[str, Phone], phone: Callable[[], Phone]
) -> None:
    l0 = await citizen(phone(), name="张强", level=0)

    error = assert_envelope(await grant(l0, family["son"]), 403, "auth.realname_level_too_low")

    assert error["details"] == {"required": 1, "current": 0}
    await nothing_granted()


# --------------------------------------------------------------------------------------------
# Ending
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["mother", "son"])
async def test_either_side_ends_the_mandate_and_an_event_is_emitted(
    family: dict[str, Phone], side: str
) -> None:
    mother, son = family["mother"], family["son"]
    mandate = (await grant(mother, son)).json()

    ended = await family[side].call("DELETE", f"/api/v1/mandates/{mandate['id']}")

    assert ended.status_code == 204, ended.text
    row = await Mandate.get(id=mandate["id"])
    assert row.ended_at is not None
    assert row.ended_by == ("principal" if side == "mother" else "agent")
    events = await OutboxEvent.filter(topic="mandate.ended")
    assert [e.payload for e in events] == [
        {
            "mandate_id": mandate["id"],
            "ended_by": row.ended_by,
            "principal_id": uid(mother),
            "agent_id": uid(son),
        }
    ]
    granted = await OutboxEvent.filter(topic="mandate.granted")
    assert [(e.payload["principal_id"], e.payload["agent_id"]) for e in granted] == [
        (uid(mother), uid(son))
    ]
    for person in (mother, son):
        listing = (await person.call("GET", "/api/v1/mandates")).json()
        views = listing["given"] + listing["held"]
        assert [(v["id"], v["active"], v["status"], v["ended_by"]) for v in views] == [
            (mandate["id"], False, "ended", row.ended_by)
        ]
        assert views[0]["ended_at"] is not None

    # Ending again changes nothing and announces nothing.
    again = await mother.call("DELETE", f"/api/v1/mandates/{mandate['id']}")
    assert again.status_code == 204
    assert await OutboxEvent.filter(topic="mandate.ended").count() == 1
    assert (await Mandate.get(id=mandate["id"])).ended_at == row.ended_at


async def test_a_third_person_cannot_end_a_mandate(family: dict[str, Phone]) -> None:
    mandate = (await grant(family["mother"], family["son"])).json()

    for mandate_id in (mandate["id"], mandate["id"] + 999):
        assert_envelope(
            await family["stranger"].call("DELETE", f"/api/v1/mandates/{mandate_id}"),
            404,
            "auth.mandate_not_found",
        )

    assert (await Mandate.get(id=mandate["id"])).ended_at is None
    assert not await OutboxEvent.filter(topic="mandate.ended").exists()


# --------------------------------------------------------------------------------------------
# What a mandate permits
# --------------------------------------------------------------------------------------------


async def test_a_mandate_naming_items_permits_those_items_only(family: dict[str, Phone]) -> None:
    mother, son = family["mother"], family["son"]
    mandate = (await grant(mother, son, items=["ITEM-X"])).json()
    today = local_today(utcnow())
    agent = Subject(kind="user", id=uid(son))
    stranger = Subject(kind="user", id=uid(family["stranger"]))

    def owned(item: str | None) -> Owned:
        return Owned(owner_user_id=uid(mother), item_code=item, department_codes=("D1",))

    for action in (Action.view, Action.apply, Action.pay):
        assert await can(agent, action, owned("ITEM-X"), today=today)
        assert not await can(agent, action, owned("ITEM-Y"), today=today)
        assert not await can(agent, action, owned(None), today=today)
        assert not await can(stranger, action, owned("ITEM-X"), today=today)
    for action in (Action.accept, Action.review, Action.approve, Action.dispatch):
        assert not await can(agent, action, owned("ITEM-X"), today=today)
    # The mandate is one way: the principal gains nothing over the agent's own objects.
    principal = Subject(kind="user", id=uid(mother))
    sons = Owned(owner_user_id=uid(son), item_code="ITEM-X")
    assert not await can(principal, Action.view, sons, today=today)

    # Valid through its last day, not after.
    ends_on = date.fromisoformat(mandate["ends_on"])
    assert await can(agent, Action.apply, owned("ITEM-X"), today=ends_on)
    assert not await can(agent, Action.apply, owned("ITEM-X"), today=ends_on + timedelta(days=1))

    assert (await son.call("DELETE", f"/api/v1/mandates/{mandate['id']}")).status_code == 204
    for action in (Action.view, Action.apply, Action.pay):
        assert not await can(agent, action, owned("ITEM-X"), today=today)


async def test_a_mandate_naming_no_item_permits_every_item(family: dict[str, Phone]) -> None:
    mother, son = family["mother"], family["son"]
    mandate = (await grant(mother, son)).json()
    today = local_today(utcnow())
    agent = Subject(kind="user", id=uid(son))

    for item in ("ITEM-X", "ITEM-Y", None):
        obj = Owned(owner_user_id=uid(mother), item_code=item)
        assert await can(agent, Action.apply, obj, today=today)
    past_end = date.fromisoformat(mandate["ends_on"]) + timedelta(days=1)
    obj = Owned(owner_user_id=uid(mother), item_code="ITEM-X")
    assert not await can(agent, Action.view, obj, today=past_end)

    assert (await mother.call("DELETE", f"/api/v1/mandates/{mandate['id']}")).status_code == 204
    assert not await can(agent, Action.view, obj, today=today)


async def test_a_mandate_names_items_the_catalogue_has(family: dict[str, Phone]) -> None:
    """Found from outside: a mandate for ``NOPE-XX`` was granted, naming nothing to apply for."""
    mother, son = family["mother"], family["son"]
    response = await grant(mother, son, items=["ITEM-A", "NOPE-XX"])
    error = assert_envelope(response, 400, "request.validation_failed")
    assert [(f["field"], f["code"]) for f in error["details"]["fields"]] == [
        ("item_codes[1]", "unknown_item")
    ]
    await nothing_granted()
    listed = (await mother.call("GET", "/api/v1/mandates")).json()
    assert listed == {"given": [], "held": []}


async def test_the_end_date_is_a_calendar_day_as_written(family: dict[str, Phone]) -> None:
    """Found from outside: ``1812153600.0`` was taken as a Unix time and a date-time as its day."""
    mother, son = family["mother"], family["son"]
    for written in (1812153600.0, "1812153600", "2027-06-01T00:00:00Z", "2027-6-1", "2027-02-30"):
        body = {
            "agent_name": son.name,
            "agent_id_number": son.id_number,
            "item_codes": [],
            "ends_on": written,
        }
        response = await mother.call("POST", "/api/v1/mandates", json=body)
        error = assert_envelope(response, 400, "request.validation_failed")
        assert [f["field"] for f in error["details"]["fields"]] == ["ends_on"], written
    await nothing_granted()
