"""SigV4 of the local object store against the worked examples of the S3 documentation.

Two examples in the Amazon S3 API reference publish every input and the resulting signature:
"Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)" (a POST policy)
and the query-string authentication example of "Authenticating Requests: Using Query Parameters"
(a presigned GET of ``test.txt``). Reproducing both proves the algorithm without any SDK; the
contract suite proves the same against boto3 and over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from api.objects import Unsatisfiable, byte_range
from storage import sigv4
from storage.local import LocalObjectStore, LocalPolicyError

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# --- the query-string example: GET https://examplebucket.s3.amazonaws.com/test.txt --------------

GET_URL = "https://examplebucket.s3.amazonaws.com/test.txt"
GET_AT = datetime(2013, 5, 24, tzinfo=UTC)
GET_SIGNATURE = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

# --- the POST example: bucket sigv4examplebucket, 2015-12-29 -----------------------------------

POST_POLICY = (
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7"
    "ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91"
    "c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3Qi"
    "OiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwi"
    "fSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRh"
    "LXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVT"
    "MjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNy"
    "ZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9"
    "LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAi"
    "MjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
)
POST_SIGNATURE = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
REDIRECT = "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"
POST_FIELDS = {
    "key": "user/user1/${filename}",
    "acl": "public-read",
    "success_action_redirect": REDIRECT,
    "Content-Type": "image/jpeg",
    "x-amz-meta-uuid": "14365123651274",
    "x-amz-server-side-encryption": "AES256",
    "X-Amz-Credential": f"{ACCESS_KEY}/20151229/us-east-1/s3/aws4_request",
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Date": "20151229T000000Z",
    "x-amz-meta-tag": "",
    "Policy": POST_POLICY,
    "X-Amz-Signature": POST_SIGNATURE,
}


def example_store(moment: datetime, bucket: str = "sigv4examplebucket") -> LocalObjectStore:
    """A store with the documentation's keys; nothing touches the folder in these tests."""
    return LocalObjectStore(
        root=Path("/nonexistent"),
        bucket=bucket,
        secret=SECRET,
        public_base_url="http://127.0.0.1:8000",
        access_key=ACCESS_KEY,
        region="us-east-1",
        clock=lambda: moment,
    )


def test_the_documented_presigned_get_is_reproduced() -> None:
    signer = sigv4.Signer(access_key=ACCESS_KEY, secret=SECRET, region="us-east-1")
    url = signer.presign_url(method="GET", url=GET_URL, expires_s=86400, moment=GET_AT)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query == {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{ACCESS_KEY}/20130524/us-east-1/s3/aws4_request",
        "X-Amz-Date": "20130524T000000Z",
        "X-Amz-Expires": "86400",
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Signature": GET_SIGNATURE,
    }


def _verify_documented_get(moment: datetime, **changes: str) -> None:
    signer = sigv4.Signer(access_key=ACCESS_KEY, secret=SECRET, region="us-east-1")
    url = signer.presign_url(method="GET", url=GET_URL, expires_s=86400, moment=GET_AT)
    query = [(name, changes.get(name, value)) for name, value in parse_qsl(urlsplit(url).query)]
    example_store(moment).verify_request(
        method="GET",
        path="/test.txt",
        query=query,
        headers={"host": changes.get("host", "examplebucket.s3.amazonaws.com")},
    )


def test_the_documented_presigned_get_verifies_for_its_day() -> None:
    _verify_documented_get(datetime(2013, 5, 24, 23, 59, tzinfo=UTC))
    with pytest.raises(LocalPolicyError) as expired:
        _verify_documented_get(datetime(2013, 5, 25, 0, 0, 1, tzinfo=UTC))
    assert (expired.value.code, expired.value.message) == ("AccessDenied", "Request has expired")
    with pytest.raises(LocalPolicyError) as early:
        _verify_documented_get(datetime(2013, 5, 23, 23, 44, tzinfo=UTC))
    assert early.value.message == "Request is not valid yet"
    for change in ({"host": "examplebucket.s3.example"}, {"X-Amz-Signature": "0" * 64}):
        with pytest.raises(LocalPolicyError) as forged:
            _verify_documented_get(GET_AT, **change)
        assert (forged.value.code, forged.value.status) == ("SignatureDoesNotMatch", 403)


def test_the_documented_post_policy_is_reproduced_and_accepted() -> None:
    key = sigv4.signing_key(SECRET, "20151229", "us-east-1")
    assert sigv4.hex_hmac(key, POST_POLICY) == POST_SIGNATURE
    store = example_store(datetime(2015, 12, 29, 12, tzinfo=UTC))
    grant = store.authorize_post(POST_FIELDS, filename="photo.jpg")
    assert (grant.key, grant.content_type, grant.redirect) == (
        "user/user1/photo.jpg",
        "image/jpeg",
        REDIRECT,
    )
    assert (grant.min_size, grant.max_size) == (0, None)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"X-Amz-Signature": "0" * 64}, "SignatureDoesNotMatch"),
        ({"Content-Type": "text/html"}, "AccessDenied"),  # starts-with image/
        ({"key": "user/user2/${filename}"}, "AccessDenied"),  # starts-with user/user1/
        ({"acl": "private"}, "AccessDenied"),
        ({"x-amz-meta-other": "1"}, "AccessDenied"),  # no condition names it
        (
            {"X-Amz-Credential": "AKIDOTHER/20151229/us-east-1/s3/aws4_request"},
            "InvalidAccessKeyId",
        ),
        ({"X-Amz-Credential": f"{ACCESS_KEY}/20151229/eu-west-1/s3/aws4_request"}, None),
    ],
)
def test_the_documented_post_refuses_any_change(change: dict[str, str], code: str | None) -> None:
    store = example_store(datetime(2015, 12, 29, 12, tzinfo=UTC))
    with pytest.raises(LocalPolicyError) as refused:
        store.authorize_post(POST_FIELDS | change, filename="photo.jpg")
    assert refused.value.code == (code or "AuthorizationQueryParametersError")


def test_the_documented_post_expires_and_binds_the_bucket() -> None:
    late = example_store(datetime(2015, 12, 30, 12, 0, 1, tzinfo=UTC))
    with pytest.raises(LocalPolicyError, match="Policy expired"):
        late.authorize_post(POST_FIELDS, filename="photo.jpg")
    elsewhere = example_store(datetime(2015, 12, 29, 12, tzinfo=UTC), bucket="otherbucket")
    with pytest.raises(LocalPolicyError, match="bucket"):
        elsewhere.authorize_post(POST_FIELDS, filename="photo.jpg")
    # Ignored fields need no condition; x-ignore-* is S3's prefix for them.
    store = example_store(datetime(2015, 12, 29, 12, tzinfo=UTC))
    store.authorize_post(POST_FIELDS | {"x-ignore-tracking": "1"}, filename="a.jpg")


# --- the pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("/objects/b/a%20b.jpg", "/objects/b/a%20b.jpg"),
        ("/objects/b/a+b~c.jpg", "/objects/b/a%2Bb~c.jpg"),
        ("/objects/b/%E6%9D%90%E6%96%99.jpg", "/objects/b/%E6%9D%90%E6%96%99.jpg"),
        ("/objects/b/%7e%28x%29", "/objects/b/~%28x%29"),
        ("", "/"),
    ],
)
def test_canonical_uri_decodes_once_and_encodes_each_segment(raw: str, canonical: str) -> None:
    assert sigv4.canonical_uri(raw) == canonical


def test_canonical_query_sorts_encoded_names_and_keeps_blank_values() -> None:
    pairs = sigv4.parse_query("b=2&a=x%20y&a=&response-content-type=image%2Fjpeg&c+d=1")
    assert sigv4.canonical_query(pairs) == (
        "a=&a=x%20y&b=2&c%2Bd=1&response-content-type=image%2Fjpeg"
    )


@pytest.mark.parametrize(
    "value",
    ["", "AK/20240101/us-east-1/s3", "AK/2024-01-01/us-east-1/s3/aws4_request", "AK//r/s3/x"],
)
def test_malformed_credentials_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        sigv4.Credential.parse(value)


def test_host_of_a_url_is_what_clients_send() -> None:
    assert sigv4.host_of("HTTPS://Files.Example:443/x") == "files.example"
    assert sigv4.host_of("http://127.0.0.1:8000/x") == "127.0.0.1:8000"
    assert sigv4.host_of("http://[::1]:80/x") == "[::1]"


SIZE = 100


@pytest.mark.parametrize(
    ("header", "selected"),
    [
        (None, None),
        ("bytes=0-9", (0, 9)),
        ("bytes=90-", (90, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-1000", (0, 99)),
        ("bytes=50-5000", (50, 99)),
        ("Bytes = 1 - 2", (1, 2)),
        ("bytes=9-2", None),  # malformed: S3 ignores it
        ("bytes=abc", None),
        ("bytes=-", None),
        ("items=0-9", None),
        ("bytes=0-1,5-6", None),  # S3 serves one range at most: the whole object
    ],
)
def test_byte_ranges_as_s3_reads_them(header: str | None, selected: tuple[int, int] | None) -> None:
    assert byte_range(header, SIZE) == selected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        byte_range(header, size)
