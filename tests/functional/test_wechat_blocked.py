"""code2Session 40226 ("code blocked"): WeChat's risk control blocks a user's login.

It is not a transient failure: every login of that user is refused until WeChat clears them, so
the person is told that their WeChat account is restricted and what to do, never "busy, retry".
The same answer for the three ways in: citizen login (also in ``test_identity.py``), a staff
member binding their WeChat with the administrator's code, and staff login.
"""

from __future__ import annotations

import httpx
import pytest

from auth.models import RefreshToken, Staff, User
from tests.staff import Hire

DEPT = "DEPT-RISK"
CITIZEN_LOGIN = "/api/v1/auth/wechat/login"


@pytest.fixture(autouse=True)
async def reset_wechat(sandbox: httpx.AsyncClient) -> None:
    assert (await sandbox.post("/wechat/_control/reset")).status_code == 200


async def set_high_risk(sandbox: httpx.AsyncClient, openid: str, blocked: bool = True) -> None:
    response = await sandbox.post(
        "/wechat/_control/high-risk", json={"openid": openid, "blocked": blocked}
    )
    assert response.status_code == 200, response.text


def assert_blocked(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "auth.wechat_user_blocked"
    assert error["details"] == {"errcode": 40226}
    message = error["message"]
    assert "微信" in message and "风险" in message and "窗口" in message
    assert "稍后再试" not in message and "繁忙" not in message
    assert "retry-after" not in response.headers


async def test_citizen_login_of_a_high_risk_user(
    client: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    issued = (await sandbox.post("/wechat/_control/login-code", json={})).json()
    await set_high_risk(sandbox, issued["openid"])
    assert_blocked(await client.post(CITIZEN_LOGIN, json={"code": issued["code"]}))
    assert await User.all().count() == 0
    assert await RefreshToken.all().count() == 0


async def test_staff_binding_of_a_high_risk_wechat(hire: Hire, sandbox: httpx.AsyncClient) -> None:
    member = await hire(DEPT, "clerk", bind=False)
    await member.wx_login_code()  # the staff member's WeChat, known to the platform
    assert member.openid is not None
    await set_high_risk(sandbox, member.openid)

    assert_blocked(await member.try_bind())
    row = await Staff.get(id=member.id)
    assert row.openid is None and row.bind_code_hash is not None  # the bind code is kept

    await set_high_risk(sandbox, member.openid, blocked=False)
    await member.bind()
    assert (await Staff.get(id=member.id)).openid == member.openid


async def test_staff_login_of_a_high_risk_wechat(
    hire: Hire, client: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    member = await hire(DEPT, "clerk")
    assert member.openid is not None
    await set_high_risk(sandbox, member.openid)
    assert_blocked(await member.try_login())

    # A code WeChat blocks on its own is answered the same way.
    code = (
        await sandbox.post(
            "/wechat/_control/login-code", json={"openid": member.openid, "fail_with": 40226}
        )
    ).json()["code"]
    await set_high_risk(sandbox, member.openid, blocked=False)
    assert_blocked(await client.post("/api/v1/staff/auth/login", json={"code": code}))

    await member.login()
