"""The WeChat peer's subscribe messages over HTTP, checked against the platform's own pages.

``POST /cgi-bin/message/subscribe/send`` (sendMessage: fields, value rules, error codes) and the
phone's ``wx.requestSubscribeMessage`` (played by ``_control/subscribe``). The documentation's
own examples are sent as they are written; every rule of its value table has a case on each side
of its limit.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from sandbox.wechat import SubscribeTemplate, WeChatError, WeChatSandbox
from tests.contract.conftest import WeChatDriver

SEND = "/cgi-bin/message/subscribe/send"
CONTROL = "/wechat/_control"
RID = r" rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$"
#: A one-time template of the kind the case-progress notices use.
CASE = "case-progress-tmpl"
CASE_KEYS = ["thing1", "phrase2", "time3", "character_string4"]
CASE_DATA = {
    "thing1": {"value": "营业执照变更"},
    "phrase2": {"value": "审核通过"},
    "time3": {"value": "2026年3月1日 09:30"},
    "character_string4": {"value": "ZB-2026-000123"},
}
LONG = "long-term-tmpl"


def assert_error(answer: dict[str, Any], errcode: int) -> None:
    assert answer["errcode"] == errcode, answer
    assert re.search(RID, answer["errmsg"]), answer


def assert_argument(answer: dict[str, Any], key: str, problem: str) -> None:
    """47003 with the platform's wording: ``argument invalid! data.<key>.value <problem>``."""
    assert_error(answer, 47003)
    expected = rf"^argument invalid! data\.{re.escape(key)}\.value {problem}{RID}"
    assert re.match(expected, answer["errmsg"]), answer


def login(wechat: WeChatDriver, **fields: Any) -> str:
    code = wechat.login_code(**fields)["code"]
    return str(wechat.jscode2session(code)["openid"])


def define(wechat: WeChatDriver, template_id: str, keys: list[str], **spec: Any) -> None:
    response = put_templates(wechat, {template_id: {"keys": keys, **spec}})
    assert response.status_code == 200, response.text


def put_templates(wechat: WeChatDriver, templates: Any) -> httpx.Response:
    return wechat.http.put(f"{CONTROL}/subscribe-templates", json={"templates": templates})


def set_pages(wechat: WeChatDriver, pages: list[str] | None) -> httpx.Response:
    return wechat.http.put(f"{CONTROL}/subscribe-pages", json={"pages": pages})


def subscribe(wechat: WeChatDriver, openid: str, results: dict[str, str]) -> httpx.Response:
    return wechat.control("subscribe", {"openid": openid, "results": results})


def accept(wechat: WeChatDriver, openid: str, *template_ids: str) -> None:
    response = subscribe(wechat, openid, dict.fromkeys(template_ids, "accept"))
    assert response.status_code == 200, response.text
    assert all(response.json()[tid] == "accept" for tid in template_ids), response.json()


def grants(wechat: WeChatDriver, openid: str) -> dict[str, Any]:
    response = wechat.http.get(f"{CONTROL}/subscribe-grants", params={"openid": openid})
    assert response.status_code == 200, response.text
    return dict(response.json())


def messages(wechat: WeChatDriver, **params: Any) -> list[dict[str, Any]]:
    response = wechat.http.get(f"{CONTROL}/subscribe-messages", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def faults(wechat: WeChatDriver, **body: Any) -> httpx.Response:
    return wechat.control("subscribe-faults", body)


def case_body(openid: str, **overrides: Any) -> dict[str, Any]:
    return {"touser": openid, "template_id": CASE, "data": CASE_DATA, **overrides}


@pytest.fixture
def token(wechat: WeChatDriver) -> str:
    return str(wechat.stable_token()["access_token"])


@pytest.fixture
def user(wechat: WeChatDriver) -> str:
    """A logged-in user, with the CASE template defined (not yet accepted)."""
    define(wechat, CASE, CASE_KEYS)
    return login(wechat)


# --- the documentation's examples -------------------------------------------------------------


def test_the_documented_request_example_is_delivered(wechat: WeChatDriver, token: str) -> None:
    """sendMessage's "请求示例", word for word, to an app that has an ``index`` page."""
    define(wechat, "TEMPLATE_ID", ["phrase3", "name1", "date2"])
    assert set_pages(wechat, ["index"]).status_code == 200
    openid = login(wechat, openid="OPENID")
    accept(wechat, openid, "TEMPLATE_ID")
    example = {
        "touser": "OPENID",
        "template_id": "TEMPLATE_ID",
        "page": "index",
        "miniprogram_state": "developer",
        "lang": "zh_CN",
        "data": {
            "phrase3": {"value": "审核通过"},
            "name1": {"value": "订阅"},
            "date2": {"value": "2019-12-25 09:42"},
        },
    }
    answer = wechat.call(SEND, token, example)
    assert set(answer) == {"errcode", "errmsg", "msgid"}
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    assert isinstance(answer["msgid"], int) and answer["msgid"] > 0
    [delivered] = messages(wechat, openid="OPENID")
    assert delivered == {
        "touser": "OPENID",
        "template_id": "TEMPLATE_ID",
        "page": "index",
        "data": example["data"],
        "miniprogram_state": "developer",
        "lang": "zh_CN",
        "msgid": answer["msgid"],
        "at": delivered["at"],
    }
    assert isinstance(delivered["at"], float)


def test_the_documented_template_example_is_delivered(wechat: WeChatDriver, token: str) -> None:
    """The "其他说明" example: 姓名/金额/行程/日期 and its JSON (a page ``index?foo=bar``)."""
    define(wechat, "TEMPLATE_ID", ["name01", "amount01", "thing01", "date01"])
    assert set_pages(wechat, ["index"]).status_code == 200
    openid = login(wechat, openid="OPENID")
    accept(wechat, openid, "TEMPLATE_ID")
    body = {
        "touser": "OPENID",
        "template_id": "TEMPLATE_ID",
        "page": "index?foo=bar",
        "data": {
            "name01": {"value": "某某"},
            "amount01": {"value": "￥100"},
            "thing01": {"value": "广州至北京"},
            "date01": {"value": "2018-01-01"},
        },
    }
    assert wechat.call(SEND, token, body)["errcode"] == 0
    [delivered] = messages(wechat)
    # What the page leaves out takes the documented defaults.
    assert delivered["miniprogram_state"] == "formal" and delivered["lang"] == "zh_CN"
    assert delivered["page"] == "index?foo=bar"


# --- the request ------------------------------------------------------------------------------


def test_send_checks_the_access_token_first(wechat: WeChatDriver, user: str) -> None:
    accept(wechat, user, CASE)
    body = case_body(user)
    assert_error(wechat.call(SEND, None, body), 41001)
    assert_error(wechat.call(SEND, "not-a-token", body), 40001)
    token = wechat.stable_token()["access_token"]
    assert_error(wechat.call(SEND, None, {**body, "access_token": token}), 41001)
    assert wechat.control("expire-token", {}).json() == {"expired": 1}
    assert_error(wechat.call(SEND, token, body), 42001)
    assert messages(wechat) == [] and grants(wechat, user)["one_time"] == {CASE: 1}
    assert wechat.call(SEND, wechat.stable_token()["access_token"], body)["errcode"] == 0


@pytest.mark.parametrize("content", [b"touser=x", b"[1, 2]", b"", b"{not json"])
def test_the_body_must_be_a_json_object(wechat: WeChatDriver, token: str, content: bytes) -> None:
    response = wechat.http.post(f"/wechat{SEND}", params={"access_token": token}, content=content)
    assert response.status_code == 200
    assert_error(response.json(), 47001)


@pytest.mark.parametrize("touser", [None, "", 42, "o" + "x" * 27])
def test_touser_must_be_an_openid_of_the_app(
    wechat: WeChatDriver, token: str, user: str, touser: Any
) -> None:
    accept(wechat, user, CASE)
    body = case_body(user, touser=touser)
    if touser is None:
        del body["touser"]
    answer = wechat.call(SEND, token, body)
    assert_error(answer, 40003)
    assert answer["errmsg"].startswith("invalid openid")


@pytest.mark.parametrize("template_id", [None, "", 7, "unknown-template"])
def test_template_id_must_be_a_template_of_the_app(
    wechat: WeChatDriver, token: str, user: str, template_id: Any
) -> None:
    accept(wechat, user, CASE)
    body = case_body(user, template_id=template_id)
    if template_id is None:
        del body["template_id"]
    answer = wechat.call(SEND, token, body)
    assert_error(answer, 40037)
    assert answer["errmsg"].startswith("invalid template_id")
    # touser is checked before template_id.
    assert_error(wechat.call(SEND, token, {**body, "touser": "nobody"}), 40003)
    assert grants(wechat, user)["one_time"] == {CASE: 1}


@pytest.mark.parametrize(
    "page",
    [
        None,
        "",
        "pages/case/detail",
        "pages/index/index?id=1&from=notice",
        "pages/a",
        "pages/case-detail/index_2",
        "pages/x?" + "a" * 1000,
    ],
)
def test_pages_shaped_like_the_default_rule_are_taken(
    wechat: WeChatDriver, token: str, user: str, page: str | None
) -> None:
    accept(wechat, user, CASE)
    assert wechat.call(SEND, token, case_body(user, page=page))["errcode"] == 0
    assert messages(wechat)[0]["page"] == (page or None)


@pytest.mark.parametrize(
    "page",
    [
        "/pages/case/detail",
        "index",
        "pages",
        "pages/",
        "pages//detail",
        "pages/case/detail?",
        "pages/case detail",
        "pages/x?a b",
        "pages/x?a\nb",
        "pages/案件/详情",
        "pages/x/" + "a" * 1017,
        42,
        ["pages/a"],
    ],
)
def test_other_pages_answer_41030(wechat: WeChatDriver, token: str, user: str, page: Any) -> None:
    accept(wechat, user, CASE)
    answer = wechat.call(SEND, token, case_body(user, page=page))
    assert_error(answer, 41030)
    assert answer["errmsg"].startswith("invalid page")
    assert messages(wechat) == [] and grants(wechat, user)["one_time"] == {CASE: 1}


def test_pages_can_be_those_of_the_app_json(wechat: WeChatDriver, token: str, user: str) -> None:
    set_to = set_pages(wechat, ["pages/case/detail", "index", "pages/case/detail"])
    assert set_to.status_code == 200 and set_to.json() == {"pages": ["index", "pages/case/detail"]}
    accept(wechat, user, CASE)
    accept(wechat, user, CASE)
    accept(wechat, user, CASE)
    assert wechat.call(SEND, token, case_body(user, page="index?foo=bar"))["errcode"] == 0
    assert wechat.call(SEND, token, case_body(user, page="pages/case/detail?id=9"))["errcode"] == 0
    assert_error(wechat.call(SEND, token, case_body(user, page="pages/case/list")), 41030)
    assert_error(wechat.call(SEND, token, case_body(user, page="pages/case")), 41030)
    # null brings the shape rule back.
    assert set_pages(wechat, None).json() == {"pages": None}
    assert wechat.call(SEND, token, case_body(user, page="pages/case/list"))["errcode"] == 0
    assert_error(wechat.call(SEND, token, case_body(user, page="index")), 41030)


@pytest.mark.parametrize(
    "body",
    [{}, {"pages": "index"}, {"pages": ["/index"]}, {"pages": ["index?x=1"]}, {"pages": [3]}],
)
def test_pages_control_refuses_bad_requests(wechat: WeChatDriver, body: dict[str, Any]) -> None:
    response = wechat.http.put(f"{CONTROL}/subscribe-pages", json=body)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("state", ["developer", "trial", "formal"])
@pytest.mark.parametrize("lang", ["zh_CN", "en_US", "zh_HK", "zh_TW"])
def test_miniprogram_state_and_lang_take_their_documented_values(
    wechat: WeChatDriver, token: str, user: str, state: str, lang: str
) -> None:
    accept(wechat, user, CASE)
    body = case_body(user, miniprogram_state=state, lang=lang)
    assert wechat.call(SEND, token, body)["errcode"] == 0
    [delivered] = messages(wechat)
    assert delivered["miniprogram_state"] == state and delivered["lang"] == lang


@pytest.mark.parametrize(
    "field", [{"miniprogram_state": "release"}, {"miniprogram_state": 1}, {"lang": "zh-CN"}]
)
def test_other_states_and_langs_are_invalid_args(
    wechat: WeChatDriver, token: str, user: str, field: dict[str, Any]
) -> None:
    accept(wechat, user, CASE)
    assert_error(wechat.call(SEND, token, case_body(user, **field)), 40097)
    assert grants(wechat, user)["one_time"] == {CASE: 1}


# --- data -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "thing1",
    [None, {"value": ""}, {"value": "   "}, {}, {"value": None}, ""],
    ids=["absent", "empty", "spaces", "no-value", "null", "bare-empty"],
)
def test_every_keyword_needs_a_value(
    wechat: WeChatDriver, token: str, user: str, thing1: Any
) -> None:
    accept(wechat, user, CASE)
    data = dict(CASE_DATA)
    if thing1 is None:
        del data["thing1"]
    else:
        data["thing1"] = thing1
    assert_argument(wechat.call(SEND, token, case_body(user, data=data)), "thing1", "is empty")
    assert grants(wechat, user)["one_time"] == {CASE: 1}


def test_data_absent_names_the_first_keyword(wechat: WeChatDriver, token: str, user: str) -> None:
    accept(wechat, user, CASE)
    body = case_body(user)
    del body["data"]
    assert_argument(wechat.call(SEND, token, body), "thing1", "is empty")
    assert_argument(wechat.call(SEND, token, case_body(user, data={})), "thing1", "is empty")


@pytest.mark.parametrize("data", ["thing1", ["thing1"], 12])
def test_data_that_is_not_an_object_is_a_format_error(
    wechat: WeChatDriver, token: str, user: str, data: Any
) -> None:
    accept(wechat, user, CASE)
    assert_error(wechat.call(SEND, token, case_body(user, data=data)), 47001)


@pytest.mark.parametrize(
    "thing1", [{"value": 12}, {"value": ["a"]}, "营业执照变更", {"value": {"v": "a"}}]
)
def test_a_value_must_be_a_string_in_an_object(
    wechat: WeChatDriver, token: str, user: str, thing1: Any
) -> None:
    accept(wechat, user, CASE)
    data = {**CASE_DATA, "thing1": thing1}
    assert_argument(wechat.call(SEND, token, case_body(user, data=data)), "thing1", "invalid")


def test_the_first_bad_keyword_in_template_order_is_named(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    accept(wechat, user, CASE)
    data = {
        "character_string4": {"value": "中文"},
        "time3": {"value": "25:00"},
        "phrase2": {"value": "审核已经通过"},
        "thing1": {"value": "营业执照变更"},
    }
    assert_argument(wechat.call(SEND, token, case_body(user, data=data)), "phrase2", "invalid")
    data["phrase2"] = {"value": "审核通过"}
    assert_argument(wechat.call(SEND, token, case_body(user, data=data)), "time3", "invalid")
    data["time3"] = {"value": ""}
    assert_argument(wechat.call(SEND, token, case_body(user, data=data)), "time3", "is empty")
    assert grants(wechat, user)["one_time"] == {CASE: 1}


def test_keys_the_template_does_not_have_are_refused(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    accept(wechat, user, CASE)
    data = {**CASE_DATA, "thing5": {"value": "多余"}}
    answer = wechat.call(SEND, token, case_body(user, data=data))
    assert_error(answer, 47003)
    assert answer["errmsg"].startswith("argument invalid! data.thing5 is not a keyword")
    # A misspelt keyword: the template's own is missing, and is named first.
    data = {**CASE_DATA, "thing01": CASE_DATA["thing1"]}
    del data["thing1"]
    assert_argument(wechat.call(SEND, token, case_body(user, data=data)), "thing1", "is empty")


def test_attributes_beside_value_are_ignored(wechat: WeChatDriver, token: str, user: str) -> None:
    """The old template messages' ``color``: not part of the data that is delivered."""
    accept(wechat, user, CASE)
    data = {**CASE_DATA, "thing1": {"value": "营业执照变更", "color": "#173177"}}
    assert wechat.call(SEND, token, case_body(user, data=data))["errcode"] == 0
    assert messages(wechat)[0]["data"] == CASE_DATA


# "订阅消息参数值内容限制说明", one rule at a time: (keyword, value).
VALID_VALUES = [
    ("thing1", "广州至北京"),
    ("thing1", "TIT创意园"),
    ("thing1", "a" * 20),
    ("thing1", "营" * 20),  # 20 Chinese characters are 20 characters
    ("thing1", "𠀀" * 20),  # so are 20 characters outside the BMP (CJK extension B)
    ("thing1", "明日取餐时间：16:00~18:00"),
    ("thing1", "第3号窗口（二楼）"),
    ("thing1", "Case #12, 已受理"),
    ("number01", "339208499"),
    ("number1", "3.14"),
    ("number1", "0"),
    ("number1", "9" * 32),
    ("number1", "1" * 30 + ".5"),
    ("letter1", "abcXYZ"),
    ("letter1", "a" * 32),
    ("symbol1", "+-*/%"),
    ("symbol1", "，。"),
    ("symbol1", "￥"),
    ("character_string1", "2020011316024527670"),
    ("character_string1", "ZB-2026/000123#A"),
    ("character_string1", "x" * 32),
    ("time1", "15:01"),
    ("time1", "15:01:59"),
    ("time1", "00:00"),
    ("time1", "23:59:59"),
    ("time1", "2019年10月1日 15:01"),
    ("time1", "2019-10-01 15:01:00"),
    ("time1", "16:00~18:00"),
    ("time1", "2023年1月1日 00:00~2023年1月2日 23:59"),
    ("time1", "2023年1月1日 00:00~12:30"),
    ("date01", "2015年01月05日"),
    ("date1", "2019年10月1日"),
    ("date1", "2019年10月"),
    ("date1", "10月1日"),
    ("date1", "2018-01-01"),
    ("date1", "2018/01/01"),
    ("date1", "2018.01.01"),
    ("date1", "2018-01"),
    ("date1", "01-01"),
    ("date1", "2019-12-25 09:42"),
    ("date1", "2019年10月1日 15:01"),
    ("date1", "2024-02-29"),
    ("date1", "2月29日"),
    ("date1", "2019年10月1日~2019年10月7日"),
    ("date1", "2023年1月1日 00:00~12:30"),
    ("amount01", "￥100"),
    ("amount1", "¥12.30"),
    ("amount1", "￥12.30元"),
    ("amount1", "$1234567890"),
    ("amount1", "€12345678.90"),
    ("phone_number1", "+86-0766-66888866"),
    ("phone_number1", "13800138000"),
    ("phone_number1", "(010) 12345678"),
    ("car_number1", "粤A8Z888挂"),
    ("car_number1", "京A12345"),
    ("car_number1", "A12345"),
    ("car_number1", "沪AD12345"),
    ("name01", "某某"),
    ("name1", "订阅"),
    ("name1", "欧阳" * 5),
    ("name1", "阿卜杜·买买提"),
    ("name1", "John Smith"),
    ("name1", "J" * 20),
    ("name1", "李Lee"),
    ("phrase3", "审核通过"),
    ("phrase1", "配送中"),
    ("phrase1", "办结"),
    ("phrase1", "材料待补正"),
]

INVALID_VALUES = [
    ("thing1", "a" * 21),
    ("thing1", "营" * 21),
    ("thing1", "第一行\n第二行"),  # "不能带有换行等控制字符"
    ("thing1", "tab\there"),
    ("thing1", "已受理👍"),  # emoji are not "常见符号"
    ("thing1", "已受理☀"),
    ("thing1", "已受理⭐"),
    ("thing1", "Ｆｕｌｌ"),  # full-width letters are not 英文
    ("thing1", "Café"),
    ("thing1", "申請の受付"),
    ("number1", "-1"),
    ("number1", "+1"),
    ("number1", ".5"),
    ("number1", "5."),
    ("number1", "1.2.3"),
    ("number1", "1,000"),
    ("number1", "9" * 33),
    ("number1", "1" * 31 + ".5"),
    ("number1", "１２"),
    ("letter1", "abc1"),
    ("letter1", "a b"),
    ("letter1", "a" * 33),
    ("letter1", "中"),
    ("symbol1", "+-*/%!"),
    ("symbol1", "a"),
    ("symbol1", "1"),
    ("symbol1", "中"),
    ("character_string1", "订单123"),
    ("character_string1", "x" * 33),
    ("time1", "24:00"),
    ("time1", "9:05"),
    ("time1", "15:60"),
    ("time1", "15:01:60"),
    ("time1", "15"),
    ("time1", "2019年10月1日"),
    ("time1", "下午3点"),
    ("time1", "2019年10月1日15:01"),
    ("time1", "16:00 ~ 18:00"),
    ("time1", "16:00~17:00~18:00"),
    ("time1", "16:00～18:00"),
    ("date1", "2018-02-30"),
    ("date1", "2019-02-29"),
    ("date1", "2018-13-01"),
    ("date1", "2018-00"),
    ("date1", "13-01"),
    ("date1", "2018-01/01"),
    ("date1", "18-01-01"),
    ("date1", "2019年10月32日"),
    ("date1", "2019年"),
    ("date1", "15:01"),
    ("date1", "2019-10-01T15:01"),
    ("date1", "2019-10-01 25:00"),
    ("date1", "下周一"),
    ("date1", "2019年10月1日~"),
    ("amount1", "100"),  # "1个币种符号+…"
    ("amount1", "12.30元"),
    ("amount1", "￥-12"),
    ("amount1", "￥1,000"),
    ("amount1", "￥12345678901"),
    ("amount1", "￥123456789.01"),
    ("amount1", "￥￥12"),
    ("amount1", "RMB12"),
    ("amount1", "￥12元整"),
    ("amount1", "￥"),
    ("phone_number1", "+86-0766-668888661"),
    ("phone_number1", "15隐私保护7851"),
    ("phone_number1", "138-abcd"),
    ("phone_number1", "+-"),
    ("car_number1", "粤A8Z888挂X"),
    ("car_number1", "粤A粤888挂"),
    ("car_number1", "粤A-8Z888"),
    ("car_number1", "粤a 8Z88"),
    ("name1", "欧阳" * 5 + "娜"),
    ("name1", "J" * 21),
    ("name1", "李Lee" * 3),
    ("name1", "Agent 007"),
    ("name1", "·"),
    ("phrase1", "审核已经通过"),
    ("phrase1", "OK"),
    ("phrase1", "审核 通过"),
    ("phrase1", "通过！"),
    ("phrase1", "审核1"),
]


def rule_template(wechat: WeChatDriver, key: str, **spec: Any) -> str:
    """A long-term template of ``key`` and a filler keyword, accepted by a new user."""
    define(wechat, "rule-tmpl", [key, "thing99"], long_term=True, **spec)
    openid = login(wechat)
    accept(wechat, openid, "rule-tmpl")
    return openid


def rule_body(openid: str, key: str, value: str) -> dict[str, Any]:
    data = {key: {"value": value}, "thing99": {"value": "提醒"}}
    return {"touser": openid, "template_id": "rule-tmpl", "data": data}


@pytest.mark.parametrize(("key", "value"), VALID_VALUES)
def test_values_within_the_rules_are_delivered(
    wechat: WeChatDriver, token: str, key: str, value: str
) -> None:
    openid = rule_template(wechat, key)
    answer = wechat.call(SEND, token, rule_body(openid, key, value))
    assert answer["errcode"] == 0, answer
    assert messages(wechat)[0]["data"][key] == {"value": value}


@pytest.mark.parametrize(("key", "value"), INVALID_VALUES)
def test_values_outside_the_rules_are_refused(
    wechat: WeChatDriver, token: str, key: str, value: str
) -> None:
    openid = rule_template(wechat, key)
    assert_argument(wechat.call(SEND, token, rule_body(openid, key, value)), key, "invalid")
    assert messages(wechat) == []


def test_enum_values_come_from_the_template(wechat: WeChatDriver, token: str) -> None:
    openid = rule_template(wechat, "enum1", enums={"enum1": ["已受理", "已办结"]})
    assert wechat.call(SEND, token, rule_body(openid, "enum1", "已办结"))["errcode"] == 0
    assert_argument(
        wechat.call(SEND, token, rule_body(openid, "enum1", "已退回")), "enum1", "invalid"
    )


# --- consent: wx.requestSubscribeMessage ------------------------------------------------------


def test_each_one_time_acceptance_allows_one_send(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    accept(wechat, user, CASE)
    accept(wechat, user, CASE)
    assert grants(wechat, user) == {"openid": user, "one_time": {CASE: 2}, "long_term": []}
    first = wechat.call(SEND, token, case_body(user))
    assert first["errcode"] == 0
    assert grants(wechat, user)["one_time"] == {CASE: 1}
    second = wechat.call(SEND, token, case_body(user))
    assert second["errcode"] == 0 and second["msgid"] != first["msgid"]
    assert grants(wechat, user)["one_time"] == {}
    third = wechat.call(SEND, token, case_body(user))
    assert_error(third, 43101)
    assert third["errmsg"].startswith("user refuse to accept the msg")
    assert [m["msgid"] for m in messages(wechat)] == [first["msgid"], second["msgid"]]
    # Acceptances never run out by themselves: a later one allows a later send.
    wechat.advance(30 * 86400)
    accept(wechat, user, CASE)
    assert wechat.call(SEND, wechat.stable_token()["access_token"], case_body(user))["errcode"] == 0


@pytest.mark.parametrize("result", ["reject", "filter"])
def test_reject_and_filter_give_nothing(
    wechat: WeChatDriver, token: str, user: str, result: str
) -> None:
    answer = subscribe(wechat, user, {CASE: result})
    assert answer.status_code == 200
    assert answer.json() == {"errMsg": "requestSubscribeMessage:ok", CASE: result}
    assert_error(wechat.call(SEND, token, case_body(user)), 43101)
    assert grants(wechat, user)["one_time"] == {}


def test_a_reject_leaves_earlier_one_time_acceptances(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    accept(wechat, user, CASE)
    assert subscribe(wechat, user, {CASE: "reject"}).status_code == 200
    assert grants(wechat, user)["one_time"] == {CASE: 1}
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0


def test_acceptances_belong_to_one_user_and_one_template(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    define(wechat, "other-tmpl", ["thing1", "phrase2"])
    other_user = login(wechat)
    accept(wechat, user, CASE)
    assert_error(wechat.call(SEND, token, case_body(other_user)), 43101)
    other = {
        "touser": user,
        "template_id": "other-tmpl",
        "data": {"thing1": {"value": "事项"}, "phrase2": {"value": "已受理"}},
    }
    assert_error(wechat.call(SEND, token, other), 43101)
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0


def test_refused_sends_use_no_acceptance(wechat: WeChatDriver, token: str, user: str) -> None:
    accept(wechat, user, CASE)
    bad_data = {**CASE_DATA, "phrase2": {"value": "审核已经通过"}}
    assert_error(wechat.call(SEND, token, case_body(user, data=bad_data)), 47003)
    assert_error(wechat.call(SEND, token, case_body(user, page="/pages/x")), 41030)
    assert_error(wechat.call(SEND, token, case_body(user, lang="fr")), 40097)
    assert grants(wechat, user)["one_time"] == {CASE: 1}
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0


def test_a_long_term_acceptance_allows_many_sends_until_rejected(
    wechat: WeChatDriver, token: str
) -> None:
    define(wechat, LONG, ["thing1", "phrase2"], long_term=True)
    openid = login(wechat)
    body = {
        "touser": openid,
        "template_id": LONG,
        "data": {"thing1": {"value": "社保缴费提醒"}, "phrase2": {"value": "待缴费"}},
    }
    assert_error(wechat.call(SEND, token, body), 43101)
    accept(wechat, openid, LONG)
    accept(wechat, openid, LONG)
    assert grants(wechat, openid) == {"openid": openid, "one_time": {}, "long_term": [LONG]}
    msgids = {wechat.call(SEND, token, body)["msgid"] for _ in range(10)}
    assert len(msgids) == 10
    # The user turns the subscription off: "如果用户之前曾经订阅过，则表示用户取消了订阅关系".
    assert subscribe(wechat, openid, {LONG: "reject"}).json()[LONG] == "reject"
    assert grants(wechat, openid)["long_term"] == []
    assert_error(wechat.call(SEND, token, body), 43101)


def test_at_most_five_templates_a_call(wechat: WeChatDriver, token: str, user: str) -> None:
    """ "一次调用最多可订阅5条消息" (the current page; it said 3 before)."""
    ids = [f"tmpl-{n}" for n in range(6)]
    for template_id in ids:
        define(wechat, template_id, ["thing1", "phrase2"])
    five = subscribe(wechat, user, dict.fromkeys(ids[:5], "accept"))
    assert five.status_code == 200
    assert five.json() == {
        "errMsg": "requestSubscribeMessage:ok",
        **dict.fromkeys(ids[:5], "accept"),
    }
    six = subscribe(wechat, user, dict.fromkeys(ids, "accept"))
    assert six.status_code == 400
    assert six.json() == {
        "errcode": 20003,
        "errmsg": "requestSubscribeMessage:fail Templates count out of max bounds",
    }
    assert grants(wechat, user)["one_time"] == dict.fromkeys(ids[:5], 1)


def test_one_call_mixes_answers(wechat: WeChatDriver, token: str, user: str) -> None:
    for template_id in ("tmpl-a", "tmpl-b", "tmpl-c"):
        define(wechat, template_id, ["thing1", "phrase2"])
    results = {"tmpl-a": "accept", "tmpl-b": "reject", "tmpl-c": "filter"}
    answer = subscribe(wechat, user, results)
    assert answer.json() == {"errMsg": "requestSubscribeMessage:ok", **results}
    assert grants(wechat, user)["one_time"] == {"tmpl-a": 1}


def test_the_phone_refuses_bad_calls(wechat: WeChatDriver, user: str) -> None:
    define(wechat, LONG, ["thing1", "phrase2"], long_term=True)
    cases = [
        ({}, 10001, "TmplIds can't be empty"),
        ({"unknown": "accept"}, 20001, "No template data return, verify the template id exist"),
        ({CASE: "accept", LONG: "accept"}, 20002, "Templates type must be same"),
    ]
    for results, errcode, text in cases:
        response = subscribe(wechat, user, results)
        assert response.status_code == 400, response.text
        assert response.json() == {
            "errcode": errcode,
            "errmsg": f"requestSubscribeMessage:fail {text}",
        }
    assert grants(wechat, user) == {"openid": user, "one_time": {}, "long_term": []}


def test_the_subscribe_control_refuses_a_test_s_mistakes(wechat: WeChatDriver, user: str) -> None:
    stranger = subscribe(wechat, "o" + "x" * 27, {CASE: "accept"})
    assert stranger.status_code == 400 and stranger.json()["errcode"] == 40003
    assert subscribe(wechat, "has space", {CASE: "accept"}).status_code == 400
    assert subscribe(wechat, user, {CASE: "yes"}).status_code == 400
    assert wechat.control("subscribe", {"openid": user, "results": [CASE]}).status_code == 400
    assert wechat.http.post(f"{CONTROL}/subscribe", content=b"nope").status_code == 400
    stranger_grants = wechat.http.get(
        f"{CONTROL}/subscribe-grants", params={"openid": "o" + "x" * 27}
    )
    assert stranger_grants.status_code == 400
    assert wechat.http.get(f"{CONTROL}/subscribe-grants").status_code == 400


def test_a_banned_template_shows_ban_and_cannot_be_sent(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    """'ban' "表示已被后台封禁"; its sends answer 43107 ("检查模板id对应的模板是否被封禁")."""
    accept(wechat, user, CASE)
    other = login(wechat)
    assert subscribe(wechat, other, {CASE: "ban"}).json()[CASE] == "ban"
    # Banned for the whole app: no one's acceptance goes through, and no new one is given.
    assert subscribe(wechat, user, {CASE: "accept"}).json()[CASE] == "ban"
    assert grants(wechat, user)["one_time"] == {CASE: 1}
    assert grants(wechat, other)["one_time"] == {}
    answer = wechat.call(SEND, token, case_body(user))
    assert_error(answer, 43107)
    listed = wechat.http.get(f"{CONTROL}/subscribe-templates").json()["templates"][CASE]
    assert listed["banned"] is True
    # WeChat lifts the ban: the acceptance given before it works again.
    lifted = wechat.control("subscribe-ban", {"template_id": CASE, "banned": False})
    assert lifted.status_code == 200 and lifted.json() == {"template_id": CASE, "banned": False}
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0
    assert_error(wechat.call(SEND, token, case_body(other)), 43101)
    assert wechat.control("subscribe-ban", {"template_id": CASE}).json()["banned"] is True
    assert_error(wechat.call(SEND, token, case_body(other)), 43107)
    assert wechat.control("subscribe-ban", {"template_id": "unknown"}).status_code == 404
    assert wechat.control("subscribe-ban", {"template_id": CASE, "banned": "no"}).status_code == 400


# --- faults -----------------------------------------------------------------------------------


def test_a_busy_platform_delivers_nothing(wechat: WeChatDriver, token: str, user: str) -> None:
    accept(wechat, user, CASE)
    set_to = faults(wechat, mode="busy", count=1)
    assert set_to.status_code == 200
    assert set_to.json() == {"mode": "busy", "count": 1, "delay_s": None}
    busy = wechat.call(SEND, token, case_body(user))
    assert_error(busy, -1)
    assert busy["errmsg"].startswith("system error")
    assert messages(wechat) == [] and grants(wechat, user)["one_time"] == {CASE: 1}
    # count 1: the retry goes through.
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0
    assert wechat.http.post(f"{CONTROL}/subscribe-faults", json={"mode": "normal"}).json() == {
        "mode": "normal",
        "count": 0,
        "delay_s": None,
    }


def test_a_failing_gateway_answers_502_without_json(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    accept(wechat, user, CASE)
    assert faults(wechat, mode="failing", count=2).status_code == 200
    for _ in range(2):
        response = wechat.http.post(
            f"/wechat{SEND}", params={"access_token": token}, json=case_body(user)
        )
        assert response.status_code == 502
        assert response.headers["content-type"].startswith("text/html")
        with pytest.raises(ValueError):
            response.json()
    assert messages(wechat) == [] and grants(wechat, user)["one_time"] == {CASE: 1}
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0


def test_a_fault_without_count_lasts_until_normal(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    accept(wechat, user, CASE)
    assert faults(wechat, mode="busy").json() == {"mode": "busy", "count": 0, "delay_s": None}
    for _ in range(3):
        assert_error(wechat.call(SEND, token, case_body(user)), -1)
    assert faults(wechat, mode="normal").status_code == 200
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0
    assert wechat.stats()["subscribe"]["faults"] == 3


def test_a_slow_platform_delivers_what_the_client_gave_up_on(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    """The uncertain case: the client times out, yet the user got the message."""
    second_user = login(wechat)
    accept(wechat, user, CASE)
    accept(wechat, user, CASE)
    accept(wechat, second_user, CASE)
    set_to = faults(wechat, mode="slow", count=1, delay_s=1.5)
    assert set_to.json() == {"mode": "slow", "count": 1, "delay_s": 1.5}
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        wechat.http.post(
            f"/wechat{SEND}", params={"access_token": token}, json=case_body(user), timeout=0.3
        )
    [delivered] = messages(wechat)
    assert delivered["touser"] == user
    assert grants(wechat, user)["one_time"] == {CASE: 1}
    # While that answer is held, a retry to the same user is a concurrent send (43108) and
    # delivers nothing; other users are not held up.
    retry = wechat.call(SEND, token, case_body(user))
    assert time.monotonic() - started < 1.5, "the retry came after the held answer"
    assert_error(retry, 43108)
    assert wechat.call(SEND, token, case_body(second_user))["errcode"] == 0
    assert len(messages(wechat, openid=user)) == 1
    assert grants(wechat, user)["one_time"] == {CASE: 1}
    time.sleep(max(0.0, 1.8 - (time.monotonic() - started)))
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0
    assert len(messages(wechat, openid=user)) == 2


def test_a_slow_answer_arrives_late_but_intact(wechat: WeChatDriver, token: str, user: str) -> None:
    accept(wechat, user, CASE)
    assert faults(wechat, mode="slow", count=2, delay_s=0.3).status_code == 200
    started = time.monotonic()
    answer = wechat.call(SEND, token, case_body(user))
    assert time.monotonic() - started >= 0.3
    assert answer["errcode"] == 0 and answer["msgid"] == messages(wechat)[0]["msgid"]
    # Refusals are slow too, and the fault ends after its count.
    started = time.monotonic()
    assert_error(wechat.call(SEND, token, case_body(user)), 43101)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert_error(wechat.call(SEND, token, case_body(user)), 43101)
    assert time.monotonic() - started < 0.3
    assert wechat.stats()["subscribe"]["faults"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mode": "broken"},
        {"mode": "slow"},
        {"mode": "slow", "delay_s": 0},
        {"mode": "slow", "delay_s": 61},
        {"mode": "slow", "delay_s": "1"},
        {"mode": "busy", "delay_s": 1},
        {"mode": "busy", "count": -1},
        {"mode": "busy", "count": "1"},
        {"mode": "busy", "count": True},
        {"mode": "normal", "count": 2},
    ],
)
def test_faults_control_refuses_bad_requests(wechat: WeChatDriver, body: dict[str, Any]) -> None:
    response = faults(wechat, **body)
    assert response.status_code == 400, response.text


# --- templates, messages, stats, reset --------------------------------------------------------


def test_templates_can_be_listed_and_replaced(wechat: WeChatDriver) -> None:
    define(wechat, CASE, CASE_KEYS)
    define(wechat, "enum-tmpl", ["enum1", "thing2"], enums={"enum1": ["甲", "乙"]})
    define(wechat, CASE, ["thing1", "time2"], long_term=True)
    listed = wechat.http.get(f"{CONTROL}/subscribe-templates").json()["templates"]
    assert listed == {
        CASE: {"keys": ["thing1", "time2"], "long_term": True, "enums": {}, "banned": False},
        "enum-tmpl": {
            "keys": ["enum1", "thing2"],
            "long_term": False,
            "enums": {"enum1": ["甲", "乙"]},
            "banned": False,
        },
    }


@pytest.mark.parametrize(
    "spec",
    [
        {"keys": ["thing1"]},  # "最少2个关键词"
        {"keys": [f"thing{n}" for n in range(6)]},  # "最多支持5个"
        {"keys": ["thing1", "thing1"]},
        {"keys": ["site01", "thing2"]},
        {"keys": ["thing", "time2"]},
        {"keys": ["Thing1", "time2"]},
        {"keys": ["enum1", "thing2"]},  # an enum keyword needs its values
        {"keys": ["enum1", "thing2"], "enums": {"enum1": []}},
        {"keys": ["enum1", "thing2"], "enums": {"enum1": ["a\nb"]}},
        {"keys": ["thing1", "time2"], "enums": {"thing1": ["a"]}},
        {"keys": ["thing1", "time2"], "long_term": "yes"},
        {"keys": ["thing1", "time2"], "title": "x"},
        {"keys": "thing1,time2"},
        ["thing1", "time2"],
    ],
)
def test_templates_control_refuses_what_the_platform_would_not_hold(
    wechat: WeChatDriver, spec: Any
) -> None:
    response = put_templates(wechat, {"good-tmpl": {"keys": ["thing1", "time2"]}, "bad": spec})
    assert response.status_code == 400, response.text
    # All or nothing.
    assert wechat.http.get(f"{CONTROL}/subscribe-templates").json() == {"templates": {}}


def test_templates_control_checks_the_template_id(wechat: WeChatDriver) -> None:
    assert put_templates(wechat, {"has space": {"keys": ["thing1", "time2"]}}).status_code == 400
    assert put_templates(wechat, {"x" * 129: {"keys": ["thing1", "time2"]}}).status_code == 400
    assert put_templates(wechat, ["x"]).status_code == 400
    response = wechat.http.put(f"{CONTROL}/subscribe-templates", content=b"[]")
    assert response.status_code == 400


def test_messages_can_be_filtered_and_come_oldest_first(
    wechat: WeChatDriver, token: str, user: str
) -> None:
    define(wechat, LONG, ["thing1", "phrase2"], long_term=True)
    other = login(wechat)
    accept(wechat, user, LONG)
    accept(wechat, other, LONG)
    accept(wechat, user, CASE)
    long_body = {
        "template_id": LONG,
        "data": {"thing1": {"value": "n"}, "phrase2": {"value": "通知"}},
    }
    sent = [
        wechat.call(SEND, token, {**long_body, "touser": user})["msgid"],
        wechat.call(SEND, token, {**long_body, "touser": other})["msgid"],
        wechat.call(SEND, token, case_body(user))["msgid"],
        wechat.call(SEND, token, {**long_body, "touser": user})["msgid"],
    ]
    assert [m["msgid"] for m in messages(wechat)] == sent
    assert [m["msgid"] for m in messages(wechat, openid=user)] == [sent[0], sent[2], sent[3]]
    assert [m["msgid"] for m in messages(wechat, template_id=CASE)] == [sent[2]]
    assert [m["msgid"] for m in messages(wechat, openid=user, template_id=LONG)] == [
        sent[0],
        sent[3],
    ]
    assert [m["msgid"] for m in messages(wechat, limit=2)] == sent[2:]
    assert messages(wechat, openid="o-nobody") == []
    assert wechat.http.get(f"{CONTROL}/subscribe-messages", params={"limit": 0}).status_code == 400


def test_stats_count_sends_and_their_errors(wechat: WeChatDriver, token: str, user: str) -> None:
    accept(wechat, user, CASE)
    wechat.call(SEND, token, case_body(user))
    wechat.call(SEND, token, case_body(user))  # 43101
    wechat.call(SEND, None, case_body(user))  # 41001
    faults(wechat, mode="busy", count=1)
    wechat.call(SEND, token, case_body(user))
    stats = wechat.stats()
    assert stats["subscribe"] == {
        "calls": 4,
        "errors": 3,
        "delivered": 1,
        "refused": 1,
        "faults": 1,
    }
    # The other APIs' counts are untouched.
    assert stats["calls"]["stable_token"] == 1 and sum(stats["errors"].values()) == 0


def test_reset_forgets_every_subscribe_state(wechat: WeChatDriver, token: str, user: str) -> None:
    accept(wechat, user, CASE)
    accept(wechat, user, CASE)
    assert wechat.call(SEND, token, case_body(user))["errcode"] == 0
    set_pages(wechat, ["index"])
    wechat.control("subscribe-ban", {"template_id": CASE})
    faults(wechat, mode="busy")
    assert wechat.control("reset").status_code == 200
    assert wechat.http.get(f"{CONTROL}/subscribe-templates").json() == {"templates": {}}
    assert messages(wechat) == []
    assert wechat.stats()["subscribe"]["calls"] == 0
    openid = login(wechat, openid=user)
    assert grants(wechat, openid)["one_time"] == {}
    define(wechat, CASE, CASE_KEYS)
    accept(wechat, openid, CASE)
    token = wechat.stable_token()["access_token"]
    # Not busy, not banned, and the page rule is the default again.
    body = case_body(openid, page="pages/case/detail")
    assert wechat.call(SEND, token, body)["errcode"] == 0


# --- in process: the constructor and the bounded history -------------------------------------


def in_process(**kwargs: Any) -> tuple[WeChatSandbox, str]:
    state = WeChatSandbox(appid="wx-in-process", secret="s", **kwargs)
    _code, openid = state.issue_login_code()
    return state, openid


def test_constructor_templates_survive_reset() -> None:
    templates = {CASE: SubscribeTemplate(keys=tuple(CASE_KEYS))}
    state, openid = in_process(subscribe_templates=templates)
    state.request_subscribe(openid=openid, results={CASE: "accept"})
    assert state.subscribe_send(case_body(openid))["errcode"] == 0
    state.reset()
    assert list(state.subscribe_template_values()) == [CASE]
    assert state.subscribe_messages() == []
    with pytest.raises(ValueError):
        WeChatSandbox(
            appid="a", secret="s", subscribe_templates={CASE: SubscribeTemplate(keys=("site1",))}
        )


def test_history_keeps_the_newest_messages_per_user_too() -> None:
    state, first = in_process(
        subscribe_templates={LONG: SubscribeTemplate(keys=("thing1", "phrase2"), long_term=True)},
        subscribe_history=3,
    )
    _code, second = state.issue_login_code()
    for openid in (first, second):
        state.request_subscribe(openid=openid, results={LONG: "accept"})
    data = {"thing1": {"value": "x"}, "phrase2": {"value": "通知"}}
    order = [first, first, second, first, second]
    msgids = [
        state.subscribe_send({"touser": o, "template_id": LONG, "data": data})["msgid"]
        for o in order
    ]
    assert [m["msgid"] for m in state.subscribe_messages()] == msgids[2:]
    assert [m["msgid"] for m in state.subscribe_messages(openid=first)] == [msgids[3]]
    assert [m["msgid"] for m in state.subscribe_messages(openid=second)] == [msgids[2], msgids[4]]
    for _ in range(3):
        state.subscribe_send({"touser": second, "template_id": LONG, "data": data})
    assert state.subscribe_messages(openid=first) == []
    assert first not in state._messages_by_openid


def test_errors_carry_the_platform_wording() -> None:
    state, openid = in_process(subscribe_templates={CASE: SubscribeTemplate(keys=tuple(CASE_KEYS))})
    state.request_subscribe(openid=openid, results={CASE: "accept"})
    with pytest.raises(WeChatError) as refused:
        state.subscribe_send(case_body(openid, data={**CASE_DATA, "time3": {"value": "9:30"}}))
    assert (refused.value.errcode, refused.value.errmsg) == (
        47003,
        "argument invalid! data.time3.value invalid",
    )
