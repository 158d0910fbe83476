"""AWS Signature Version 4 for S3, as far as presigned POST policies and URLs need it.

The local object store signs and verifies with this module, so that what it hands to phones and
what it accepts is exactly what S3 signs and accepts: boto3 (or the aws CLI's ``s3 presign``)
produces URLs and forms it takes, and its own signatures are the ones any SigV4 implementation
computes. Standard library only (``hmac``, ``hashlib``): signing is pure computation.

Reference: "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)" and
"Browser-Based Uploads Using POST (AWS Signature Version 4)" in the Amazon S3 API reference.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_SPACES = re.compile(r"\s+")


def uri_encode(value: str, *, keep_slash: bool = False) -> str:
    """SigV4's URI encoding: every byte but ``A-Za-z0-9-_.~`` as ``%XX`` (upper case hex).

    ``quote`` keeps exactly the unreserved characters plus ``safe``; a space becomes ``%20``,
    never ``+``.
    """
    return quote(value, safe="/" if keep_slash else "")


def amz_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(AMZ_DATE_FORMAT)


def parse_amz_date(value: str) -> datetime:
    """``20240131T120000Z`` as an aware datetime; ``ValueError`` for anything else."""
    if len(value) != 16:
        raise ValueError(f"not an ISO 8601 basic date-time: {value!r}")
    return datetime.strptime(value, AMZ_DATE_FORMAT).replace(tzinfo=UTC)


def signing_key(secret: str, date: str, region: str, service: str = SERVICE) -> bytes:
    """The key of one day, region and service, derived from ``"AWS4" + secret``."""
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def hex_hmac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def same_signature(expected: str, given: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input (which never matches)."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


@dataclass(frozen=True)
class Credential:
    """``<access key>/<yyyymmdd>/<region>/<service>/aws4_request``."""

    access_key: str
    date: str
    region: str
    service: str = SERVICE

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"

    def __str__(self) -> str:
        return f"{self.access_key}/{self.scope}"

    @classmethod
    def parse(cls, value: str) -> Credential:
        """``ValueError`` unless ``value`` has the five parts of a SigV4 credential."""
        # The access key itself may not contain '/': split from the right.
        parts = value.rsplit("/", 4)
        if len(parts) != 5 or not all(parts) or parts[4] != TERMINATOR:
            raise ValueError("the credential is malformed")
        access_key, date, region, service, _ = parts
        if len(date) != 8 or not date.isdigit():
            raise ValueError("the credential's date must be yyyyMMdd")
        return cls(access_key=access_key, date=date, region=region, service=service)


# --- query strings and canonical requests --------------------------------------------------------


def parse_query(raw: str) -> list[tuple[str, str]]:
    """The decoded ``(name, value)`` pairs of a raw query string, in order, blanks kept.

    Decoded with ``unquote`` (a ``+`` stays a ``+``): SigV4 clients encode a space as ``%20``.
    """
    pairs: list[tuple[str, str]] = []
    for item in raw.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    encoded = sorted((uri_encode(name), uri_encode(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_uri(raw_path: str) -> str:
    """The path as S3 canonicalises it: decoded once, each segment encoded again, no
    normalisation of ``.`` or ``//`` (S3 keys may contain them)."""
    return uri_encode(unquote(raw_path), keep_slash=True) or "/"


def canonical_header_value(value: str) -> str:
    return _SPACES.sub(" ", value.strip())


def canonical_request(
    *,
    method: str,
    uri: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str = UNSIGNED_PAYLOAD,
) -> str:
    """``headers`` keyed by lower-case name; every name of ``signed_headers`` must be there."""
    lines = "".join(f"{name}:{canonical_header_value(headers[name])}\n" for name in signed_headers)
    return "\n".join(
        (method, uri, canonical_query(query), lines, ";".join(signed_headers), payload_hash)
    )


def string_to_sign(moment: str, credential: Credential, request: str) -> str:
    digest = hashlib.sha256(request.encode("utf-8")).hexdigest()
    return "\n".join((ALGORITHM, moment, credential.scope, digest))


def host_of(url: str) -> str:
    """The ``Host`` header a client sends for ``url``: lower case, default port left out."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port != default:
        host = f"{host}:{parts.port}"
    return host


# --- signing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """One access key pair in one region: signs presigned URLs and POST policies."""

    access_key: str
    secret: str
    region: str

    def credential(self, moment: datetime) -> Credential:
        return Credential(self.access_key, moment.astimezone(UTC).strftime("%Y%m%d"), self.region)

    def key(self, credential: Credential) -> bytes:
        return signing_key(self.secret, credential.date, credential.region, credential.service)

    def sign_policy(self, policy_b64: str, credential: Credential) -> str:
        """A POST policy's signature: the base64 policy itself is the string to sign."""
        return hex_hmac(self.key(credential), policy_b64)

    def presign_url(
        self,
        *,
        method: str,
        url: str,
        expires_s: int,
        moment: datetime,
        params: Sequence[tuple[str, str]] = (),
    ) -> str:
        """``url`` (path already URI-encoded, no query) with SigV4 query authentication, signing
        the ``host`` header only and an unsigned payload, as ``generate_presigned_url`` does."""
        parts = urlsplit(url)
        credential = self.credential(moment)
        query = [
            *params,
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", str(credential)),
            ("X-Amz-Date", amz_date(moment)),
            ("X-Amz-Expires", str(expires_s)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        request = canonical_request(
            method=method,
            uri=canonical_uri(parts.path),
            query=query,
            headers={"host": host_of(url)},
            signed_headers=["host"],
        )
        signature = hex_hmac(
            self.key(credential), string_to_sign(amz_date(moment), credential, request)
        )
        encoded = "&".join(
            f"{uri_encode(name)}={uri_encode(value)}"
            for name, value in [*query, ("X-Amz-Signature", signature)]
        )
        return f"{parts.scheme}://{parts.netloc}{parts.path}?{encoded}"
