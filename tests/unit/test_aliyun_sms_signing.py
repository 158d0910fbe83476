"""The RPC signature of Alibaba Cloud, from the documentation's worked examples, for both sides:
our adapter's signing (``notify.providers.aliyun_sms``) and the SMS peer's verification
(``sandbox.sms``), each written separately from the pages.

Two published vectors: the generic RPC signature page (ECS DescribeRegions, AccessKeyId
``testid``, secret ``testsecret``, https://help.aliyun.com/document_detail/69009.html) and the
SMS service's own page (SendSms, ``testId`` / ``testSecret``,
https://help.aliyun.com/document_detail/101343.html), whose Chinese SignName exercises the UTF-8
percent-encoding.
"""

from __future__ import annotations

import calendar
import time

import pytest

from notify.providers.aliyun_sms import (
    canonicalized_query,
    percent_encode,
    sign_rpc,
    string_to_sign,
)
from sandbox.sms import (
    AliyunSmsSandbox,
    GatewayError,
    rpc_signature,
    rpc_string_to_sign,
)
from sandbox.sms import (
    percent_encode as peer_percent_encode,
)

RPC_DOC_PARAMS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
RPC_DOC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
    "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
    "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
)
RPC_DOC_SIGNATURE = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="

SMS_DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
#: The page's sorted query string (the request URL after ``Signature=…&``).
SMS_DOC_QUERY = (
    "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001"
    "&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B"
    "%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1"
    "&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0"
    "&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D"
    "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
)
SMS_DOC_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def epoch(stamp: str) -> float:
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))


# --- the adapter --------------------------------------------------------------------------


def test_adapter_reproduces_the_rpc_page_example() -> None:
    assert string_to_sign(RPC_DOC_PARAMS, "GET") == RPC_DOC_STRING_TO_SIGN
    assert sign_rpc(RPC_DOC_PARAMS, "testsecret", "GET") == RPC_DOC_SIGNATURE


def test_adapter_reproduces_the_sms_page_example() -> None:
    assert canonicalized_query(SMS_DOC_PARAMS) == SMS_DOC_QUERY
    assert sign_rpc(SMS_DOC_PARAMS, "testSecret", "GET") == SMS_DOC_SIGNATURE


def test_adapter_ignores_a_signature_already_among_the_parameters() -> None:
    signed = {**SMS_DOC_PARAMS, "Signature": "anything"}
    assert sign_rpc(signed, "testSecret", "GET") == SMS_DOC_SIGNATURE


def test_the_method_is_part_of_the_string_to_sign() -> None:
    assert string_to_sign(SMS_DOC_PARAMS, "POST").startswith("POST&%2F&AccessKeyId%3DtestId")
    assert sign_rpc(SMS_DOC_PARAMS, "testSecret", "POST") != SMS_DOC_SIGNATURE


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("a b", "a%20b"),  # a space is %20, never +
        ("*", "%2A"),
        ("~-_.", "~-_."),  # the unreserved marks stay
        ("+", "%2B"),
        ("/", "%2F"),
        ("掌办", "%E6%8E%8C%E5%8A%9E"),
        ('{"a":"b"}', "%7B%22a%22%3A%22b%22%7D"),
    ],
)
def test_percent_encoding_follows_the_page(text: str, encoded: str) -> None:
    assert percent_encode(text) == encoded
    assert peer_percent_encode(text) == encoded


# --- the peer -----------------------------------------------------------------------------


def test_peer_reproduces_both_examples() -> None:
    assert rpc_string_to_sign("GET", RPC_DOC_PARAMS) == RPC_DOC_STRING_TO_SIGN
    assert rpc_signature("testsecret", "GET", RPC_DOC_PARAMS) == RPC_DOC_SIGNATURE
    assert rpc_signature("testSecret", "GET", SMS_DOC_PARAMS) == SMS_DOC_SIGNATURE
    with_signature = {**SMS_DOC_PARAMS, "Signature": SMS_DOC_SIGNATURE}
    assert rpc_signature("testSecret", "GET", with_signature) == SMS_DOC_SIGNATURE


def doc_peer() -> AliyunSmsSandbox:
    """A peer for the SMS page's account, its clock at the example's Timestamp."""
    return AliyunSmsSandbox(
        access_key_id="testId",
        access_key_secret="testSecret",
        signs=["阿里云短信测试专用"],
        templates={"SMS_71390007": ("customer",)},
        clock=lambda: epoch("2017-07-12T02:42:19Z"),
    )


def test_peer_accepts_the_example_signed_by_the_adapter() -> None:
    """The example as JSON (the peer speaks JSON only), signed by the adapter for POST."""
    params = {**SMS_DOC_PARAMS, "Format": "JSON"}
    params["Signature"] = sign_rpc(params, "testSecret", "POST")
    assert doc_peer().authenticate("POST", params) == "SendSms"


def test_peer_refuses_the_example_in_xml_before_its_signature() -> None:
    with pytest.raises(GatewayError) as refused:
        doc_peer().authenticate("GET", {**SMS_DOC_PARAMS, "Signature": SMS_DOC_SIGNATURE})
    assert refused.value.code == "InvalidParameter.Format"


@pytest.mark.parametrize(
    ("change", "method"),
    [
        ({"OutId": "124"}, "POST"),
        ({"SignName": "阿里云短信测试专用 "}, "POST"),
        ({}, "GET"),  # signed for POST, sent as GET
    ],
)
def test_peer_refuses_a_changed_request(change: dict[str, str], method: str) -> None:
    params = {**SMS_DOC_PARAMS, "Format": "JSON"}
    params["Signature"] = sign_rpc(params, "testSecret", "POST")
    with pytest.raises(GatewayError) as refused:
        doc_peer().authenticate(method, {**params, **change})
    assert refused.value.code == "SignatureDoesNotMatch"
    assert refused.value.status == 400
    assert "server string to sign is:" in refused.value.message


def test_peer_refuses_a_signature_made_with_another_secret() -> None:
    params = {**SMS_DOC_PARAMS, "Format": "JSON"}
    params["Signature"] = sign_rpc(params, "testsecret", "POST")
    with pytest.raises(GatewayError) as refused:
        doc_peer().authenticate("POST", params)
    assert refused.value.code == "SignatureDoesNotMatch"
