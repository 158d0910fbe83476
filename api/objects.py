"""The embedded profile's object-store endpoint: S3's POST upload and presigned GET, on this server.

Mounted only when the local object store is in use. The mini-program does not know it talks to
us here: it got a presigned POST form and URL exactly like MinIO's, and ``wx.uploadFile`` posts
the form to ``/objects/<bucket>`` as it would to ``https://<minio>/<bucket>``. So this endpoint
answers as S3 does, not as our API does: 204 (or the policy's ``success_action_status``) with
no JSON on success, and S3's XML error document ``<Error><Code>…</Code><Message>…</Message>``
with S3's status codes on refusal. Client code written against one store then behaves the same
against the other; the JSON error envelope would be a shape production never produces here.

Bodies: the application's ``REQUEST_MAX_SIZE`` (1 MB) would refuse every photo. This route is a
streaming route (``stream=True``), for which Sanic lifts that limit and leaves the body to the
handler; the handler parses the multipart form as it arrives, checks the policy as soon as the
file part begins, and stops reading at the policy's ``content-length-range`` maximum (and never
beyond the largest upload the settings allow), so an oversize file is refused without being
buffered. Whatever the answer, the rest of the body is read and dropped (within that limit)
before answering, so the client reads our answer and Sanic never finds a body left unread.

Downloads are query-string SigV4 GETs (``storage.local`` verifies them against the raw path,
query and ``Host`` header as S3 does), with S3's single ``Range`` and ``response-*`` overrides.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any, BinaryIO
from urllib.parse import quote, unquote, urlencode
from xml.sax.saxutils import escape

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, ResponseStream
from sanic.response import raw as raw_response

from storage.local import LocalObjectStore, LocalPolicyError, PostGrant, check_key
from storage.sigv4 import parse_query

log = logging.getLogger("zhangban.objects")
bp = Blueprint("objects")

#: Room for the form fields (key, policy, signature…) around the file itself.
FORM_OVERHEAD = 64 * 1024
FIELD_MAX = 20 * 1024  # S3's limit on the policy document; every other field is smaller
HEADERS_MAX = 8 * 1024
FILE_FIELD = "file"
_XML = "application/xml"


# --- S3-shaped answers ---------------------------------------------------------------------------


def s3_error(
    status: int,
    code: str,
    message: str,
    request: Request | None = None,
    *,
    extra: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    request_id = getattr(request.ctx, "request_id", "") if request is not None else ""
    details = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in (extra or {}).items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{details}"
        f"<RequestId>{escape(request_id or '')}</RequestId></Error>"
    )
    return raw_response(body.encode("utf-8"), status=status, content_type=_XML, headers=headers)


def _policy_error(exc: LocalPolicyError, request: Request) -> HTTPResponse:
    return s3_error(exc.status, exc.code, exc.message, request)


def _too_large(request: Request) -> HTTPResponse:
    return s3_error(
        400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", request
    )


def _local_store(request: Request) -> LocalObjectStore | None:
    store = getattr(request.app.ctx, "store", None)
    return store if isinstance(store, LocalObjectStore) else None


# --- streaming multipart/form-data ---------------------------------------------------------------


class MultipartError(Exception):
    """The body is not well-formed multipart/form-data (or ended early)."""


class PartTooLarge(Exception):
    """A part (or the whole body) went past the limit; reading stopped there."""


@dataclass(frozen=True)
class PartHeaders:
    name: str
    filename: str | None
    content_type: str | None


_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """``form-data; name="a"; filename="b.jpg"`` → ``("form-data", {"name": "a", …})``."""
    head, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        raw = match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
    return head.strip().lower(), params


class MultipartStream:
    """A pull parser over the body's chunks, holding at most one limit's worth of bytes.

    ``read`` returns the next chunk or ``None`` at the end (Sanic's ``request.stream.read``).
    """

    def __init__(
        self, read: Callable[[], Awaitable[bytes | None]], boundary: bytes, max_body: int
    ) -> None:
        self._read = read
        self._dash_boundary = b"--" + boundary
        self._delimiter = b"\r\n--" + boundary
        self._buf = bytearray()
        self._eof = False
        self._received = 0
        self._max_body = max_body
        self._started = False
        self._done = False

    async def _more(self) -> None:
        if self._eof:
            raise MultipartError("the body ended before the form did")
        chunk = await self._read()
        if chunk is None:
            self._eof = True
            raise MultipartError("the body ended before the form did")
        self._received += len(chunk)
        if self._received > self._max_body:
            raise PartTooLarge("the body exceeds the largest upload allowed")
        self._buf += chunk

    async def _need(self, size: int) -> None:
        while len(self._buf) < size:
            await self._more()

    async def next_part(self) -> PartHeaders | None:
        """The headers of the next part, or ``None`` after the closing delimiter."""
        if self._done:
            return None
        if not self._started:
            # Skip any preamble up to the first delimiter.
            while (at := self._buf.find(self._dash_boundary)) < 0:
                if len(self._buf) > HEADERS_MAX:
                    raise MultipartError("no multipart boundary found")
                await self._more()
            del self._buf[: at + len(self._dash_boundary)]
            self._started = True
        await self._need(2)
        if self._buf[:2] == b"--":
            self._done = True
            return None
        # Transport padding (spaces/tabs) may follow a delimiter before its CRLF.
        while (end := self._buf.find(b"\r\n")) < 0:
            if len(self._buf) > HEADERS_MAX:
                raise MultipartError("malformed delimiter line")
            await self._more()
        if self._buf[:end].strip(b" \t"):
            raise MultipartError("malformed delimiter line")
        del self._buf[: end + 2]
        while (end := self._buf.find(b"\r\n\r\n")) < 0:
            if len(self._buf) > HEADERS_MAX:
                raise MultipartError("part headers too long")
            await self._more()
        block = bytes(self._buf[:end]).decode("utf-8", errors="replace")
        del self._buf[: end + 4]
        headers: dict[str, str] = {}
        for line in block.split("\r\n"):
            name, sep, value = line.partition(":")
            if not sep:
                raise MultipartError("malformed part header")
            headers[name.strip().lower()] = value.strip()
        disposition, params = header_params(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in params:
            raise MultipartError("every part needs Content-Disposition: form-data; name=…")
        return PartHeaders(
            name=params["name"],
            filename=params.get("filename"),
            content_type=headers.get("content-type"),
        )

    async def discard_rest(self) -> bool:
        """Read the body to its end, keeping nothing; ``False`` if it passed the body limit."""
        self._buf.clear()
        while not self._eof:
            try:
                await self._more()
            except MultipartError:
                return True  # the end of the body
            except PartTooLarge:
                return False
            self._buf.clear()
        return True

    async def read_part(self, limit: int) -> bytes:
        """The current part's content; ``PartTooLarge`` as soon as it passes ``limit`` bytes."""
        out = bytearray()
        keep = len(self._delimiter) - 1
        while True:
            at = self._buf.find(self._delimiter)
            if at >= 0:
                out += self._buf[:at]
                del self._buf[: at + len(self._delimiter)]
                if len(out) > limit:
                    raise PartTooLarge(f"part larger than {limit} bytes")
                return bytes(out)
            # Everything but a possible delimiter prefix at the end is content.
            if len(self._buf) > keep:
                cut = len(self._buf) - keep
                out += self._buf[:cut]
                del self._buf[:cut]
                if len(out) > limit:
                    raise PartTooLarge(f"part larger than {limit} bytes")
            await self._more()


def _boundary(content_type: str) -> bytes | None:
    kind, params = header_params(content_type)
    boundary = params.get("boundary", "")
    if kind != "multipart/form-data" or not 1 <= len(boundary) <= 70:
        return None
    return boundary.encode("latin-1", errors="replace")


# --- routes --------------------------------------------------------------------------------------


def _close_after_response(request: Request) -> None:
    """Answer with ``Connection: close``: the rest of the body will not be read."""
    http = request.stream
    if http is not None and hasattr(http, "keep_alive"):
        http.keep_alive = False


async def _finish_body(request: Request, form: MultipartStream) -> None:
    """Read what is left of the body before answering, or close the connection.

    Sanic logs ``body not consumed`` at error level after a 2xx answer to a request whose body
    was not read to its end (the closing delimiter, usually), and a client still sending an
    upload we refused reads a reset rather than our XML. Draining (without keeping the bytes)
    within the body limit avoids both; past the limit the connection is closed after the answer.
    """
    if not await form.discard_rest():
        _close_after_response(request)


@bp.post("/objects/<bucket>", stream=True)
async def post_object(request: Request, bucket: str) -> HTTPResponse:
    """S3's browser-based upload (POST policy), as ``wx.uploadFile`` sends it."""
    store = _local_store(request)
    if store is None or bucket != store.bucket:
        _close_after_response(request)
        return s3_error(404, "NoSuchBucket", "The specified bucket does not exist", request)
    boundary = _boundary(request.headers.get("content-type", ""))
    if boundary is None:
        _close_after_response(request)
        return s3_error(
            412,
            "PreconditionFailed",
            "Bucket POST must be of the enclosure-type multipart/form-data",
            request,
        )
    settings = request.app.ctx.settings
    hard_max = max(settings.upload_max_pdf_bytes, settings.upload_max_photo_bytes) + FORM_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > hard_max:
        _close_after_response(request)
        return _too_large(request)  # refused before reading a byte of it
    if request.stream is None:
        return s3_error(400, "MalformedPOSTRequest", "The request has no body.", request)

    # HTTP/1.1 and ASGI streams both have ``read()``; Sanic types the base class without it.
    stream: Any = request.stream
    form = MultipartStream(stream.read, boundary, hard_max)
    response = await _receive_post(request, store, form, hard_max)
    await _finish_body(request, form)
    return response


async def _receive_post(
    request: Request, store: LocalObjectStore, form: MultipartStream, hard_max: int
) -> HTTPResponse:
    fields: dict[str, str] = {}
    try:
        while (part := await form.next_part()) is not None:
            if part.name != FILE_FIELD:
                if part.name.lower() in (name.lower() for name in fields):
                    return s3_error(
                        400, "InvalidArgument", f"Duplicate form field: {part.name}", request
                    )
                fields[part.name] = (await form.read_part(FIELD_MAX)).decode("utf-8")
                continue
            # The file is the last field S3 reads: the policy is complete, check it first.
            grant = store.authorize_post(fields, filename=part.filename)
            limit = hard_max if grant.max_size is None else min(grant.max_size, hard_max)
            data = await form.read_part(limit)
            key = await store.store_granted(grant, data, part.content_type)
            etag = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
            return _post_success(request, grant, store.bucket, key, etag)
        return s3_error(
            400,
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
            request,
        )
    except LocalPolicyError as exc:
        return _policy_error(exc, request)
    except PartTooLarge:
        return _too_large(request)
    except (MultipartError, UnicodeDecodeError):
        return s3_error(
            400,
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
            request,
        )
    except ValueError as exc:  # a key that collides with another key's folder on disk
        return s3_error(400, "InvalidArgument", str(exc), request)
    except OSError:
        log.exception("local object store write failed")
        return s3_error(500, "InternalError", "We encountered an internal error.", request)


def _post_success(
    request: Request, grant: PostGrant, bucket: str, key: str, etag: str
) -> HTTPResponse:
    base = request.app.ctx.settings.effective_public_base_url.rstrip("/")
    location = f"{base}/objects/{bucket}/{quote(key, safe='/')}"
    headers = {"Location": location, "ETag": etag}
    if grant.redirect is not None:
        result = urlencode({"bucket": bucket, "key": key, "etag": etag}, quote_via=quote)
        separator = "&" if "?" in grant.redirect else "?"
        headers["Location"] = f"{grant.redirect}{separator}{result}"
        return raw_response(b"", status=303, headers=headers)
    if grant.success_status == 201:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<PostResponse><Location>{escape(location)}</Location>"
            f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>"
            f"<ETag>{escape(etag)}</ETag></PostResponse>"
        )
        return raw_response(body.encode("utf-8"), status=201, content_type=_XML, headers=headers)
    return raw_response(b"", status=grant.success_status, headers=headers)


# --- GET: ranges and response overrides ----------------------------------------------------------

_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)

#: Query parameters of a signed GET that set a response header, as S3 allows.
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


class Unsatisfiable(Exception):
    """A well-formed range that selects no byte of the object (S3: 416 InvalidRange)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header selects, as S3 reads it.

    ``None`` means the whole object with 200: no header, one S3 ignores as malformed (another
    unit, ``b < a``, garbage), or several ranges (S3 serves one range at most). ``Unsatisfiable``
    when it is well formed but starts past the end, or asks for the last zero bytes.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        end = int(last) if last else size - 1
        if last and end < start:
            return None
        if start >= size:
            raise Unsatisfiable
        return start, min(end, size - 1)
    if not last:
        return None  # "bytes=-"
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise Unsatisfiable
    return max(size - suffix, 0), size - 1


def _stream_file(handle: BinaryIO, start: int, length: int, chunk: int = 64 * 1024) -> Any:
    """A ``ResponseStream`` body: ``length`` bytes from ``start``, read in a thread."""

    async def send(response: Any) -> None:
        try:
            await asyncio.to_thread(handle.seek, start)
            left = length
            while left > 0:
                data = await asyncio.to_thread(handle.read, min(chunk, left))
                if not data:
                    break
                left -= len(data)
                await response.write(data)
        finally:
            await asyncio.to_thread(handle.close)

    return send


def _header_map(request: Request) -> dict[str, str]:
    """The request's headers by lower-case name, repeated ones joined as SigV4 joins them."""
    return {name.lower(): ",".join(request.headers.getall(name)) for name in request.headers}


@bp.get("/objects/<bucket>/<key:path>")
async def get_object(request: Request, bucket: str, key: str) -> HTTPResponse | ResponseStream:
    """A presigned download: the object's bytes (or one range of them) as S3 serves them."""
    key = unquote(key)  # Sanic hands path parameters over still percent-encoded
    store = _local_store(request)
    if store is None or bucket != store.bucket:
        return s3_error(404, "NoSuchBucket", "The specified bucket does not exist", request)
    query = parse_query(request.query_string)
    try:
        store.verify_request(
            method="GET", path=request.path, query=query, headers=_header_map(request)
        )
        check_key(key)
    except LocalPolicyError as exc:
        return _policy_error(exc, request)
    except ValueError:
        return s3_error(400, "InvalidArgument", "Invalid object key.", request)
    found = await store.open_object(key)
    if found is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.", request)
    handle, size, info = found
    requested = request.headers.get("range")
    try:
        selected = byte_range(requested, size)
    except Unsatisfiable:
        await asyncio.to_thread(handle.close)
        return s3_error(
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
            request,
            extra={"RangeRequested": requested or "", "ActualObjectSize": str(size)},
            headers={"Content-Range": f"bytes */{size}"},
        )
    headers = {
        "Accept-Ranges": "bytes",
        "Last-Modified": format_datetime(info.last_modified, usegmt=True),
    }
    content_type = info.content_type
    for name, value in query:
        header = RESPONSE_OVERRIDES.get(name)
        if header == "Content-Type":
            content_type = value
        elif header is not None:
            headers[header] = value
    status, start, length = 200, 0, size
    if selected is not None:
        start, end = selected
        status, length = 206, end - start + 1
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(length)
    return ResponseStream(
        _stream_file(handle, start, length),
        status=status,
        headers=headers,
        content_type=content_type,
    )
