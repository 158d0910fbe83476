"""Companies over HTTP: registration by the legal representative, agents, invitations, revocation.

Each company is added to the sandbox registry with a fresh, valid credit code (GB 32100 check
character computed here) and the legal representative's name and ID number; the sandbox process
lives for the whole session, so every test uses its own codes. After every refusal the database
is checked to hold no trace of the refused request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from auth.models import Company, CompanyAgent
from auth.permissions import Action, Owned, Subject, can
from core.clock import local_today, utcnow
from tests.functional.test_http_edge import assert_envelope
from tests.people import (
    USCC_ALPHABET,
    Phone,
    citizen,
    id_number,
    new_uscc,
    registry_company,
    uid,
)


def with_wrong_check_char(code: str) -> str:
    wrong = next(c for c in USCC_ALPHABET if c != code[-1])
    return code[:-1] + wrong


async def register(person: Phone, record: dict[str, str], **overrides: str) -> httpx.Response:
    body = {"uscc": record["uscc"], "name": record["name"], **overrides}
    return await person.call("POST", "/api/v1/companies", json=body)


async def registered(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> tuple[Phone, dict[str, Any]]:
    """A legal representative at L1 and the company they registered."""
    rep = await citizen(phone(), name="李明")
    record = await registry_company(sandbox, rep=rep)
    response = await register(rep, record)
    assert response.status_code == 201, response.text
    return rep, response.json()


def field_names(error: dict[str, Any]) -> set[str]:
    return {f["field"] for f in error["details"]["fields"]}


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------


async def test_legal_rep_at_l1_registers_the_company(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep = await citizen(phone(), name="李明")
    record = await registry_company(sandbox, rep=rep)

    response = await register(rep, record)

    assert response.status_code == 201, response.text
    company = response.json()
    assert company["uscc"] == record["uscc"]
    assert company["name"] == record["name"]
    assert company["role"] == "legal_rep"
    assert sorted(company["scopes"]) == ["apply", "pay", "view"]
    row = await Company.get(uscc=record["uscc"])
    assert row.id == company["id"] and row.legal_rep_id == uid(rep)
    assert row.verified_at is not None

    mine = await rep.call("GET", "/api/v1/companies")
    assert mine.status_code == 200
    assert mine.json()["companies"] == [company]


async def test_lower_case_and_spaced_code_is_normalised(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep = await citizen(phone(), name="李明")
    record = await registry_company(sandbox, rep=rep)
    typed = " ".join([record["uscc"][:9], record["uscc"][9:]]).lower()

    response = await register(rep, record, uscc=typed)

    assert response.status_code == 201, response.text
    assert response.json()["uscc"] == record["uscc"]


async def test_l0_user_cannot_register(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep = await citizen(phone(), level=0)
    rep.name, rep.id_number = "李明", id_number()
    record = await registry_company(sandbox, rep=rep)

    error = assert_envelope(await register(rep, record), 403, "auth.realname_level_too_low")

    assert error["details"] == {"required": 1, "current": 0}
    assert not await Company.exists()


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
async def test_code_with_a_forbidden_letter_is_refused_on_field_uscc(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient, letter: str
) -> None:
    rep = await citizen(phone(), name="李明")
    record = await registry_company(sandbox, rep=rep)
    bad = record["uscc"][:10] + letter + record["uscc"][11:]

    error = assert_envelope(await register(rep, record, uscc=bad), 400, "request.validation_failed")

    assert field_names(error) == {"uscc"}
    assert "I、O、S、V、Z" in error["details"]["fields"][0]["message"]
    assert not await Company.exists()


async def test_code_with_a_wrong_check_character_is_refused(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep = await citizen(phone(), name="李明")
    record = await registry_company(sandbox, rep=rep)

    error = assert_envelope(
        await register(rep, record, uscc=with_wrong_check_char(record["uscc"])),
        400,
        "request.validation_failed",
    )

    assert error["details"]["fields"][0]["field"] == "uscc"
    assert error["details"]["fields"][0]["code"] == "check_digit"
    assert not await Company.exists()


async def test_code_unknown_to_the_registry_is_404(phone: Callable[[], Phone]) -> None:
    rep = await citizen(phone(), name="李明")

    assert_envelope(
        await register(rep, {"uscc": new_uscc(), "name": "查无此企业有限公司"}),
        404,
        "auth.company_not_in_registry",
    )

    assert not await Company.exists()


async def test_name_differing_from_the_registry_is_refused(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep = await citizen(phone(), name="李明")
    record = await registry_company(sandbox, rep=rep)

    error = assert_envelope(
        await register(rep, record, name=record["name"] + "分公司"),
        400,
        "request.validation_failed",
    )

    assert field_names(error) == {"name"}
    assert not await Company.exists()


async def test_another_person_is_not_the_legal_representative(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep = await citizen(phone(), name="李明")
    record = await registry_company(sandbox, rep=rep)
    namesake = await citizen(phone(), name="李明")  # same name, other ID number
    stranger = await citizen(phone(), name="王芳")

    for person in (namesake, stranger):
        assert_envelope(await register(person, record), 403, "auth.not_legal_representative")

    assert not await Company.exists()


async def test_registering_twice_is_idempotent_for_the_rep_and_a_conflict_for_others(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    row = await Company.get(id=company["id"])
    record = {"uscc": company["uscc"], "name": company["name"]}

    again = await register(rep, record)
    assert again.status_code in (200, 201), again.text
    assert again.json() == company

    other = await citizen(phone(), name="王芳")
    assert_envelope(await register(other, record), 409, "auth.company_registered")

    assert await Company.all().count() == 1
    after = await Company.get(id=company["id"])
    assert (after.legal_rep_id, after.verified_at) == (row.legal_rep_id, row.verified_at)
    listed = await other.call("GET", "/api/v1/companies")
    assert listed.json() == {"companies": []}


# --------------------------------------------------------------------------------------------
# Agents: invitations, listing, revocation
# --------------------------------------------------------------------------------------------


async def invite(rep: Phone, company_id: int, scopes: list[str]) -> httpx.Response:
    return await rep.call(
        "POST", f"/api/v1/companies/{company_id}/invitations", json={"scopes": scopes}
    )


async def accept(person: Phone, code: str) -> httpx.Response:
    return await person.call("POST", "/api/v1/company-invitations/accept", json={"code": code})


async def test_invited_l1_user_becomes_an_agent_with_the_scopes(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)

    invited = await invite(rep, company["id"], ["view", "apply"])
    assert invited.status_code == 201, invited.text
    invitation = invited.json()
    assert invitation["scopes"] == ["apply", "view"]
    assert isinstance(invitation["invite_code"], str) and len(invitation["invite_code"]) >= 8
    row = await CompanyAgent.get(id=invitation["agent_id"])
    assert row.user_id is None and row.company_id == company["id"]
    assert row.invite_code_hash and invitation["invite_code"] not in row.invite_code_hash

    agent = await citizen(phone(), name="王芳")
    accepted = await accept(agent, invitation["invite_code"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "agent"

    listed = await agent.call("GET", "/api/v1/companies")
    assert listed.status_code == 200
    assert listed.json()["companies"] == [
        {
            "id": company["id"],
            "uscc": company["uscc"],
            "name": company["name"],
            "role": "agent",
            "scopes": ["apply", "view"],
        }
    ]
    agents = await rep.call("GET", f"/api/v1/companies/{company['id']}/agents")
    assert agents.status_code == 200
    assert agents.json()["agents"] == [
        {
            "id": invitation["agent_id"],
            "name": "王*",
            "scopes": ["apply", "view"],
            "status": "active",
            "expires_at": None,
        }
    ]
    row = await CompanyAgent.get(id=invitation["agent_id"])
    assert row.user_id == uid(agent) and row.accepted_at is not None
    assert row.invite_code_hash is None


async def test_an_invitation_code_is_single_use(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    code = (await invite(rep, company["id"], ["apply"])).json()["invite_code"]
    first = await citizen(phone(), name="王芳")
    second = await citizen(phone(), name="张伟")
    assert (await accept(first, code)).status_code == 200

    assert_envelope(await accept(second, code), 400, "auth.invitation_invalid")
    assert_envelope(await accept(first, code), 400, "auth.invitation_invalid")

    assert await CompanyAgent.filter(company_id=company["id"]).count() == 1
    assert not await CompanyAgent.exists(user_id=uid(second))
    assert (await second.call("GET", "/api/v1/companies")).json() == {"companies": []}


async def test_unknown_or_expired_invitation_code_is_refused(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    invitation = (await invite(rep, company["id"], ["apply"])).json()
    await CompanyAgent.filter(id=invitation["agent_id"]).update(
        invite_expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    agent = await citizen(phone(), name="王芳")

    assert_envelope(await accept(agent, "no-such-code-123"), 400, "auth.invitation_invalid")
    expired = await accept(agent, invitation["invite_code"])
    assert_envelope(expired, 400, "auth.invitation_invalid")
    assert [f["field"] for f in expired.json()["error"]["details"]["fields"]] == ["code"]
    agents = (await rep.call("GET", f"/api/v1/companies/{company['id']}/agents")).json()
    assert [(a["status"], a["name"]) for a in agents["agents"]] == [("expired", None)]
    assert agents["agents"][0]["expires_at"] is not None

    row = await CompanyAgent.get(id=invitation["agent_id"])
    assert row.user_id is None and row.accepted_at is None


async def test_l0_user_cannot_accept_and_the_code_stays_usable(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    invitation = (await invite(rep, company["id"], ["pay"])).json()
    l0 = await citizen(phone(), level=0)

    assert_envelope(await accept(l0, invitation["invite_code"]), 403, "auth.realname_level_too_low")
    row = await CompanyAgent.get(id=invitation["agent_id"])
    assert row.user_id is None and row.invite_code_hash is not None

    l1 = await citizen(phone(), name="王芳")
    assert (await accept(l1, invitation["invite_code"])).status_code == 200


async def test_the_rep_cannot_accept_their_own_invitation(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    invitation = (await invite(rep, company["id"], ["pay"])).json()

    assert_envelope(await accept(rep, invitation["invite_code"]), 409, "auth.already_member")

    row = await CompanyAgent.get(id=invitation["agent_id"])
    assert row.user_id is None and row.invite_code_hash is not None


@pytest.mark.parametrize(
    ("scopes", "code"),
    [
        (["admin"], ("scopes[0]", "literal_error")),
        (["apply", "approve"], ("scopes[1]", "literal_error")),
        ([], ("scopes", "too_short")),
        (["apply", "pay", "view", "view"], ("scopes", "too_long")),
    ],
)
async def test_bad_scopes_are_refused(
    phone: Callable[[], Phone],
    sandbox: httpx.AsyncClient,
    scopes: list[str],
    code: tuple[str, str],
) -> None:
    rep, company = await registered(phone, sandbox)

    error = assert_envelope(
        await invite(rep, company["id"], scopes), 400, "request.validation_failed"
    )

    assert [(f["field"], f["code"]) for f in error["details"]["fields"]] == [code]
    assert not await CompanyAgent.exists()


async def test_only_the_rep_invites_and_lists_agents(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    code = (await invite(rep, company["id"], ["apply", "pay", "view"])).json()["invite_code"]
    agent = await citizen(phone(), name="王芳")
    assert (await accept(agent, code)).status_code == 200
    stranger = await citizen(phone(), name="张伟")

    for person in (agent, stranger):
        assert_envelope(await invite(person, company["id"], ["view"]), 403, "auth.not_company_rep")
        assert_envelope(
            await person.call("GET", f"/api/v1/companies/{company['id']}/agents"),
            403,
            "auth.not_company_rep",
        )
    assert_envelope(await invite(rep, company["id"] + 999, ["view"]), 404, "auth.company_not_found")

    assert await CompanyAgent.filter(company_id=company["id"]).count() == 1


async def test_revocation_takes_effect_at_once(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    invitation = (await invite(rep, company["id"], ["apply", "view"])).json()
    agent = await citizen(phone(), name="王芳")
    assert (await accept(agent, invitation["invite_code"])).status_code == 200
    subject = Subject(kind="user", id=uid(agent))
    obj = Owned(company_id=company["id"])
    today = local_today(utcnow())
    assert await can(subject, Action.view, obj, today=today)
    assert await can(subject, Action.apply, obj, today=today)

    revoked = await rep.call(
        "DELETE", f"/api/v1/companies/{company['id']}/agents/{invitation['agent_id']}"
    )

    assert revoked.status_code == 204, revoked.text
    assert (await agent.call("GET", "/api/v1/companies")).json() == {"companies": []}
    for action in Action:
        assert not await can(subject, action, obj, today=today), action
    agents = (await rep.call("GET", f"/api/v1/companies/{company['id']}/agents")).json()
    assert [a["status"] for a in agents["agents"]] == ["revoked"]
    row = await CompanyAgent.get(id=invitation["agent_id"])
    assert row.revoked_at is not None

    again = await rep.call(
        "DELETE", f"/api/v1/companies/{company['id']}/agents/{invitation['agent_id']}"
    )
    assert again.status_code == 204
    assert (await CompanyAgent.get(id=invitation["agent_id"])).revoked_at == row.revoked_at


async def test_revoking_an_unknown_agent_is_404_and_only_the_rep_revokes(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    other_rep, other_company = await registered(phone, sandbox)
    invitation = (await invite(rep, company["id"], ["apply"])).json()
    agent = await citizen(phone(), name="王芳")
    assert (await accept(agent, invitation["invite_code"])).status_code == 200
    base = f"/api/v1/companies/{company['id']}/agents"

    assert_envelope(
        await rep.call("DELETE", f"{base}/{invitation['agent_id'] + 999}"),
        404,
        "auth.agent_not_found",
    )
    # An agent of this company named under another company's address is not found there.
    assert_envelope(
        await other_rep.call(
            "DELETE", f"/api/v1/companies/{other_company['id']}/agents/{invitation['agent_id']}"
        ),
        404,
        "auth.agent_not_found",
    )
    assert_envelope(
        await agent.call("DELETE", f"{base}/{invitation['agent_id']}"), 403, "auth.not_company_rep"
    )
    assert_envelope(
        await other_rep.call("DELETE", f"{base}/{invitation['agent_id']}"),
        403,
        "auth.not_company_rep",
    )

    row = await CompanyAgent.get(id=invitation["agent_id"])
    assert row.revoked_at is None
    assert len((await agent.call("GET", "/api/v1/companies")).json()["companies"]) == 1


async def test_a_revoked_pending_invitation_cannot_be_accepted(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    invitation = (await invite(rep, company["id"], ["apply"])).json()
    revoked = await rep.call(
        "DELETE", f"/api/v1/companies/{company['id']}/agents/{invitation['agent_id']}"
    )
    assert revoked.status_code == 204
    agent = await citizen(phone(), name="王芳")

    assert_envelope(await accept(agent, invitation["invite_code"]), 400, "auth.invitation_invalid")

    row = await CompanyAgent.get(id=invitation["agent_id"])
    assert row.user_id is None


async def test_a_revoked_agent_can_be_invited_again_with_new_scopes(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> None:
    rep, company = await registered(phone, sandbox)
    first = (await invite(rep, company["id"], ["apply", "pay"])).json()
    agent = await citizen(phone(), name="王芳")
    assert (await accept(agent, first["invite_code"])).status_code == 200
    base = f"/api/v1/companies/{company['id']}/agents"
    assert (await rep.call("DELETE", f"{base}/{first['agent_id']}")).status_code == 204

    second = (await invite(rep, company["id"], ["view"])).json()
    accepted = await accept(agent, second["invite_code"])

    assert accepted.status_code == 200, accepted.text
    listed = (await agent.call("GET", "/api/v1/companies")).json()["companies"]
    assert [(c["id"], c["role"], c["scopes"]) for c in listed] == [
        (company["id"], "agent", ["view"])
    ]
    obj = Owned(company_id=company["id"])
    subject = Subject(kind="user", id=uid(agent))
    today = local_today(utcnow())
    assert await can(subject, Action.view, obj, today=today)
    assert not await can(subject, Action.apply, obj, today=today)
    assert not await can(subject, Action.pay, obj, today=today)
