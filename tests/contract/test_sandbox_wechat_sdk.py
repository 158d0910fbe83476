"""The WeChat peer against the real SDK (wechatpy 1.8.18): proof that it speaks what SDKs expect.

The SDK hard-codes ``https://api.weixin.qq.com``; pointing it at the peer needs the client's
``API_BASE_URL``, ``client.wxa``'s own ``API_BASE_URL``, and either a token given up front or a
``fetch_access_token`` aimed at the peer (RECIPES.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from tests.contract.conftest import APPID, SECRET, WeChatDriver


def sdk_client(peer_url: str, access_token: str | None = None) -> WeChatClient:
    base = f"{peer_url}/wechat"
    client = WeChatClient(APPID, SECRET, access_token=access_token)
    client.API_BASE_URL = f"{base}/cgi-bin/"
    client.wxa.API_BASE_URL = f"{base}/"

    def fetch_access_token() -> Any:
        return client._fetch_access_token(
            url=f"{base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
        )

    client.fetch_access_token = fetch_access_token
    return client


def test_code_to_session_with_a_token_given_up_front(wechat: WeChatDriver, peer_url: str) -> None:
    token = wechat.stable_token()["access_token"]
    client = sdk_client(peer_url, access_token=token)
    issued = wechat.login_code(unionid="oUnion-sdk")
    session = client.wxa.code_to_session(issued["code"])
    assert session["openid"] == issued["openid"]
    assert session["unionid"] == "oUnion-sdk"
    assert len(session["session_key"]) == 24
    assert wechat.stats()["calls"]["token"] == 0  # it did not need to fetch one


def test_sdk_sees_platform_errors(wechat: WeChatDriver, peer_url: str) -> None:
    client = sdk_client(peer_url, access_token=wechat.stable_token()["access_token"])
    code = wechat.login_code()["code"]
    client.wxa.code_to_session(code)
    with pytest.raises(WeChatClientException) as used:
        client.wxa.code_to_session(code)
    assert used.value.errcode == 40163
    with pytest.raises(WeChatClientException) as unknown:
        client.wxa.code_to_session("no-such-code")
    assert unknown.value.errcode == 40029
    blocked = wechat.login_code(fail_with=40226)["code"]
    with pytest.raises(WeChatClientException) as high_risk:
        client.wxa.code_to_session(blocked)
    assert high_risk.value.errcode == 40226


def test_sdk_fetches_a_token_from_the_peer_and_retries_after_42001(
    wechat: WeChatDriver, peer_url: str
) -> None:
    """The SDK's refresh-and-retry on 40001/42001 works against the peer's token rules."""
    client = sdk_client(peer_url)
    url = f"{peer_url}/wechat/wxa/business/getuserphonenumber"
    openid = wechat.login_code()["openid"]  # the user who taps "allow" on their phone
    code = wechat.phone_code("13800138000", openid=openid)
    first = client.post(url, data={"code": code, "openid": openid})
    assert first["phone_info"]["purePhoneNumber"] == "13800138000"
    assert wechat.stats()["calls"]["token"] == 1

    wechat.control("expire-token", {})
    code = wechat.phone_code("13900139000", openid=openid)
    second = client.post(url, data={"code": code, "openid": openid})
    assert second["phone_info"]["purePhoneNumber"] == "13900139000"
    stats = wechat.stats()
    assert stats["calls"]["token"] == 2
    assert stats["errors"]["getuserphonenumber"] == 1  # the 42001 that triggered the retry
