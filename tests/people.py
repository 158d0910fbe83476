"""People for the tests: a phone that logs in through the sandbox WeChat peer, citizens at a
real-name level, their companies, agents and mandates.

``Phone`` does what the mini-program does: gets a ``wx.login`` code (from the sandbox's control
API, standing in for WeChat on the phone), sends it to our API, and keeps the tokens. Identity
numbers and credit codes come from factories that compute their check characters (GB 11643,
GB 32100), never from literals.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from core.clock import local_today, utcnow

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_seq = itertools.count(11)
_names = itertools.cycle(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"])


def id_number(
    *, region: str = "360426", born: date = date(1990, 5, 17), seq: int | None = None
) -> str:
    """A valid resident ID number; each call a different one unless ``seq`` is given."""
    body = f"{region}{born:%Y%m%d}{(next(_seq) if seq is None else seq) % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK_CHARS[total % 11]


def person_name() -> str:
    return next(_names)


class Handset:
    """What a citizen's phone and a staff member's phone share: WeChat (the sandbox's control
    API gives its ``wx.login`` codes), our API, and the tokens it answered with."""

    api: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    tokens: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens['access_token']}"}

    async def login_code(self, body: dict[str, Any]) -> dict[str, Any]:
        """A ``wx.login`` code from the sandbox (``openid`` in ``body``: that WeChat user's;
        otherwise a new one's); the code and the openid."""
        response = await self.sandbox.post("/wechat/_control/login-code", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def keep_tokens(self, response: httpx.Response) -> dict[str, Any]:
        """A login's or a binding's answer: it must succeed, and its tokens are kept."""
        assert response.status_code == 200, response.text
        self.tokens = response.json()
        return self.tokens

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return await self.api.request(method, path, headers=headers, **kwargs)


@dataclass
class Phone(Handset):
    """One citizen's phone: our API client plus the sandbox standing in for WeChat."""

    api: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    openid: str | None = None
    tokens: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    id_number: str = ""

    async def wx_login_code(self, **fields: Any) -> str:
        data = await self.login_code({"openid": self.openid, **fields} if self.openid else fields)
        self.openid = data["openid"]
        return str(data["code"])

    async def login(self) -> dict[str, Any]:
        code = await self.wx_login_code()
        return self.keep_tokens(
            await self.api.post("/api/v1/auth/wechat/login", json={"code": code})
        )

    async def verify_l1(
        self, *, name: str | None = None, number: str | None = None
    ) -> dict[str, Any]:
        self.name = name or self.name or person_name()
        self.id_number = number or self.id_number or id_number()
        response = await self.call(
            "POST", "/api/v1/me/realname", json={"name": self.name, "id_number": self.id_number}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def verify_l2(self) -> dict[str, Any]:
        started = await self.call("POST", "/api/v1/me/face")
        assert started.status_code == 200, started.text
        verify_id = started.json()["verify_id"]
        done = await self.sandbox.post(
            "/wechat/_control/face-complete", json={"verify_id": verify_id}
        )
        assert done.status_code == 200, done.text
        result = await self.call("POST", "/api/v1/me/face/result", json={"verify_id": verify_id})
        assert result.status_code == 200, result.text
        return dict(result.json())


# --- citizens, their companies, agents and mandates -------------------------------------------


async def citizen(phone: Phone, *, name: str | None = None, level: int = 1) -> Phone:
    """``phone`` logged in: at ``level`` 1 verified with ``name`` and a fresh ID number (the
    level companies and mandates need); at level 0 not verified, holding a name and an ID
    number it has not shown."""
    await phone.login()
    if level >= 1:
        await phone.verify_l1(name=name, number=id_number())
    else:
        phone.name, phone.id_number = name or person_name(), id_number()
    return phone


def uid(person: Phone) -> int:
    """The user id of a logged-in citizen."""
    return int(person.tokens["user"]["id"])


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_uscc_seq = itertools.count(1)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def new_uscc() -> str:
    """A valid unified social credit code never used before in this session (the sandbox
    registry outlives tests)."""
    # 9 = registered by the market regulator, 1 = enterprise, 360402 = region, then 9 characters
    # of organisation code: 4 random letters/digits of the alphabet and a running number.
    tail = "".join(secrets.choice(USCC_ALPHABET) for _ in range(4)) + f"{next(_uscc_seq):05d}"
    body = "91360402" + tail
    assert len(body) == 17
    return body + uscc_check_char(body)


async def registry_company(
    sandbox: httpx.AsyncClient, *, rep: Phone, name: str | None = None, uscc: str | None = None
) -> dict[str, str]:
    """A registry record for ``rep`` (name and ID number), through the sandbox control API."""
    record = {
        "uscc": uscc or new_uscc(),
        "name": name or f"测试示范{secrets.token_hex(3)}有限公司",
        "legal_rep_name": rep.name,
        "legal_rep_id_number": rep.id_number,
    }
    response = await sandbox.post("/registry/_control/company", json=record)
    assert response.status_code == 200, response.text
    return record


async def company_of(rep: Phone, sandbox: httpx.AsyncClient) -> int:
    """A company registered by ``rep`` (L1) through the sandbox registry; its id."""
    record = await registry_company(sandbox, rep=rep)
    registered = await rep.call(
        "POST", "/api/v1/companies", json={"uscc": record["uscc"], "name": record["name"]}
    )
    assert registered.status_code == 201, registered.text
    return int(registered.json()["id"])


async def make_agent(rep: Phone, company_id: int, agent: Phone, scopes: list[str]) -> int:
    """``agent`` (L1) invited with ``scopes`` and accepted; the agent row's id."""
    invited = await rep.call(
        "POST", f"/api/v1/companies/{company_id}/invitations", json={"scopes": scopes}
    )
    assert invited.status_code == 201, invited.text
    accepted = await agent.call(
        "POST", "/api/v1/company-invitations/accept", json={"code": invited.json()["invite_code"]}
    )
    assert accepted.status_code == 200, accepted.text
    return int(invited.json()["agent_id"])


async def grant_mandate(principal: Phone, agent: Phone, items: list[str]) -> dict[str, Any]:
    """A mandate of ``principal`` to ``agent`` (both L1) for ``items``, for 30 days."""
    response = await principal.call(
        "POST",
        "/api/v1/mandates",
        json={
            "agent_name": agent.name,
            "agent_id_number": agent.id_number,
            "item_codes": items,
            "ends_on": (local_today(utcnow()) + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
