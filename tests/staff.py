"""Staff for tests: an account made by the service, its WeChat bound over HTTP like a real one.

``create_staff`` makes the account the way an administrator's tool does (the service, with the
application's own cipher) and returns its one-time binding code. ``StaffMember`` is the staff
member's phone: it gets ``wx.login`` codes from the sandbox's control API, binds with the code
and logs in through ``/api/v1/staff/auth/*``, and keeps the staff tokens.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sanic import Sanic

from auth import staff as staff_accounts
from core.clock import utcnow
from tests.people import Handset

_seq = itertools.count(1)


def username() -> str:
    """A fresh username that also fits the admin API's pattern ``^[a-z0-9_.-]{3,32}$``."""
    return f"staff{next(_seq):04d}"


async def create_staff(
    app: Sanic,
    *,
    department_code: str,
    roles: list[str],
    name: str = "测试工作人员",
    username_: str | None = None,
) -> dict[str, Any]:
    """A staff account (no WeChat yet); the answer holds ``id`` and the one-time ``bind_code``."""
    return await staff_accounts.create_staff(
        cipher=app.ctx.auth.cipher,
        username=username_ or username(),
        name=name,
        department_code=department_code,
        roles=roles,
        created_by="test",
        now=utcnow(),
    )


@dataclass
class StaffMember(Handset):
    """One staff member's phone: our API client plus the sandbox standing in for WeChat."""

    api: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    id: int
    department_code: str
    roles: list[str]
    bind_code: str
    openid: str | None = None
    tokens: dict[str, Any] = field(default_factory=dict)

    async def wx_login_code(self, openid: str | None = None) -> str:
        """A ``wx.login`` code for this phone's WeChat (a new WeChat user the first time)."""
        wanted = openid or self.openid
        data = await self.login_code({"openid": wanted} if wanted else {})
        if openid is None:
            self.openid = data["openid"]
        return str(data["code"])

    def another_phone(self, bind_code: str) -> StaffMember:
        """A new phone (another WeChat, nothing bound or logged in) for this account, holding
        ``bind_code``."""
        return StaffMember(
            api=self.api,
            sandbox=self.sandbox,
            id=self.id,
            department_code=self.department_code,
            roles=list(self.roles),
            bind_code=bind_code,
        )

    async def try_bind(self, bind_code: str | None = None) -> httpx.Response:
        code = await self.wx_login_code()
        return await self.api.post(
            "/api/v1/staff/auth/bind",
            json={"bind_code": bind_code or self.bind_code, "code": code},
        )

    async def bind(self) -> dict[str, Any]:
        return self.keep_tokens(await self.try_bind())

    async def try_login(self) -> httpx.Response:
        code = await self.wx_login_code()
        return await self.api.post("/api/v1/staff/auth/login", json={"code": code})

    async def login(self) -> dict[str, Any]:
        return self.keep_tokens(await self.try_login())


async def staff_member(
    app: Sanic,
    api: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
    *,
    department_code: str,
    roles: list[str],
    name: str = "测试工作人员",
    bind: bool = True,
) -> StaffMember:
    """A staff account created by the service and (unless ``bind=False``) bound over HTTP."""
    created = await create_staff(app, department_code=department_code, roles=roles, name=name)
    member = StaffMember(
        api=api,
        sandbox=sandbox,
        id=created["id"],
        department_code=department_code,
        roles=list(created["roles"]),
        bind_code=created["bind_code"],
    )
    if bind:
        await member.bind()
    return member


class Hire(Protocol):
    """The ``hire`` fixture: ``await hire(department, "clerk", ...)`` is a staff member of that
    department with those roles, made by the service on clean state and (unless
    ``bind=False``) bound over HTTP."""

    async def __call__(
        self, department_code: str, *roles: str, name: str = ..., bind: bool = ...
    ) -> StaffMember: ...
