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
buffered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, ResponseStream, file_stream
from sanic.response import raw as raw_response

from storage.local import LocalObjectStore, LocalPolicyError, check_key

log = logging.getLogger("zhangban.objects")
bp = Blueprint("objects")

#: Room for the form fields (key, policy, signature…) around the file itself.
FORM_OVERHEAD = 64 * 1024
FIELD_MAX = 20 * 1024  # S3's limit on the policy document; every other field is smaller
HEADERS_MAX = 8 * 1024
FILE_FIELD = "file"
_XML = "application/xml"


# --- S3-shaped answers ---------------------------------------------------------------------------


def s3_error(status: int, code: str, message: str, request: Request | None = None) -> HTTPResponse:
    request_id = getattr(request.ctx, "request_id", "") if request is not None else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{escape(request_id or '')}</RequestId></Error>"
    )
    return raw_response(body.encode("utf-8"), status=status, content_type=_XML)


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


@bp.post("/objects/<bucket>", stream=True)
async def post_object(request: Request, bucket: str) -> HTTPResponse:
    """S3's browser-based upload (POST policy), as ``wx.uploadFile`` sends it."""
    store = _local_store(request)
    if store is None or bucket != store.bucket:
        return s3_error(404, "NoSuchBucket", "The specified bucket does not exist", request)
    boundary = _boundary(request.headers.get("content-type", ""))
    if boundary is None:
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
        return _too_large(request)  # refused before reading a byte of it
    if request.stream is None:
        return s3_error(400, "MalformedPOSTRequest", "The request has no body.", request)

    # HTTP/1.1 and ASGI streams both have ``read()``; Sanic types the base class without it.
    stream: Any = request.stream
    form = MultipartStream(stream.read, boundary, hard_max)
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
            grant = store.authorize_post(fields)
            limit = hard_max if grant.max_size is None else min(grant.max_size, hard_max)
            data = await form.read_part(limit)
            key = await store.accept_post(fields, data, part.content_type)
            return _post_success(request, grant.success_status, store.bucket, key)
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


def _post_success(request: Request, status: int, bucket: str, key: str) -> HTTPResponse:
    base = request.app.ctx.settings.effective_public_base_url.rstrip("/")
    location = f"{base}/objects/{bucket}/{quote(key, safe='/')}"
    if status == 201:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<PostResponse><Location>{escape(location)}</Location>"
            f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key></PostResponse>"
        )
        return raw_response(
            body.encode("utf-8"), status=201, content_type=_XML, headers={"Location": location}
        )
    return raw_response(b"", status=status, headers={"Location": location})


@bp.get("/objects/<bucket>/<key:path>")
async def get_object(request: Request, bucket: str, key: str) -> HTTPResponse | ResponseStream:
    """A presigned download: the object's bytes with its content type, as S3 serves them."""
    key = unquote(key)  # Sanic hands path parameters over still percent-encoded
    store = _local_store(request)
    if store is None or bucket != store.bucket:
        return s3_error(404, "NoSuchBucket", "The specified bucket does not exist", request)
    query = {name: request.args.get(name, "") for name in request.args}
    try:
        store.verify_get(key, query)
        check_key(key)
    except LocalPolicyError as exc:
        return _policy_error(exc, request)
    except ValueError:
        return s3_error(400, "InvalidArgument", "Invalid object key.", request)
    found = await store.locate(key)
    if found is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.", request)
    path, info = found
    return await file_stream(
        path,
        chunk_size=64 * 1024,
        mime_type=info.content_type,
        headers={
            "Content-Length": str(info.size),
            "Last-Modified": format_datetime(info.last_modified, usegmt=True),
        },
    )
