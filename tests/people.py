"""People for identity tests: a phone that logs in through the sandbox WeChat peer.

``Phone`` does what the mini-program does: gets a ``wx.login`` code (from the sandbox's control
API, standing in for WeChat on the phone), sends it to our API, and keeps the tokens. Identity
numbers come from factories that compute the GB 11643 check character, never from literals.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

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
