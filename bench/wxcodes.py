"""WeChat login codes and logged-in users for the identity and upload benchmarks.

    python bench/wxcodes.py mint --sandbox URL --count N --openids P --prefix PFX --out FILE
        asks the sandbox's control API (``POST <URL>/wechat/_control/login-code {openid}``) for N
        single-use ``wx.login`` codes, code i for openid ``PFX<i mod P>``, and writes them one a
        line in that order: any contiguous slice of the file spreads over the openids, so each
        openid stays far below the sandbox's 100 logins a minute (45011).
    python bench/wxcodes.py login --sandbox URL --api URL --count N --prefix PFX [--out FILE]
            [--ids-out FILE]
        logs N users in through our API (openids ``PFX0 … PFX<N-1>``: a code from the sandbox,
        then ``POST <API>/api/v1/auth/wechat/login``) and writes their access tokens one a line
        (and their user ids, in the same order, to ``--ids-out``).
    python bench/wxcodes.py staff-bind --sandbox URL --api URL --bind-code CODE --openid OPENID
            --out FILE
        a staff member's phone: binds a WeChat (``OPENID``) to the account of the one-time
        binding code (``POST <API>/api/v1/staff/auth/bind``), then logs in as a returning staff
        member would (``POST <API>/api/v1/staff/auth/login``) and writes that access token.

URL of the sandbox is its base (``http://127.0.0.1:P/sandbox``), as in ``ZB_SANDBOX_BASE_URL``.
Only 127.0.0.1 is accepted. A small keep-alive HTTP/1.1 client on asyncio streams, pipelining the
code requests in batches, keeps this fast (about as fast as the sandbox answers: some thousands of
codes a second) without adding a dependency.
Exit status: 0 when every request answered as expected, 1 otherwise (the first problem printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Codes asked for back to back on one connection (HTTP/1.1 pipelining): fewer round trips and
#: system calls on both sides, so minting goes about as fast as the sandbox can answer.
BATCH = 50


class HttpError(RuntimeError):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; requests on it run one after the other."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def _encode(self, method: str, path: str, body: bytes, headers: dict[str, str] | None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def _connect(self) -> None:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        await self._connect()
        assert self.writer is not None
        self.writer.write(self._encode(method, path, body, headers))
        return await self._response()

    async def pipeline(
        self, method: str, path: str, bodies: list[bytes], headers: dict[str, str] | None = None
    ) -> list[tuple[int, bytes]]:
        """Send the requests back to back (HTTP/1.1 pipelining), then read the answers in order."""
        await self._connect()
        assert self.writer is not None
        self.writer.write(b"".join(self._encode(method, path, b, headers) for b in bodies))
        return [await self._response() for _ in bodies]

    async def _response(self) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {}
        for line in header_lines:
            if ":" in line:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
        if fields.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.writer.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def local_base(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
        raise SystemExit(f"only http://127.0.0.1:<port>/… is allowed here, not {url!r}")
    return parts.hostname, parts.port, parts.path.rstrip("/")


def sandbox_and_api(args: argparse.Namespace) -> tuple[tuple[str, int], str, tuple[str, int], str]:
    """(host, port) and path prefix of the sandbox (``--sandbox``), then of our API (``--api``)."""
    s_host, s_port, s_prefix = local_base(args.sandbox)
    a_host, a_port, a_prefix = local_base(args.api)
    return (s_host, s_port), s_prefix, (a_host, a_port), a_prefix


async def run_pool(
    count: int, concurrency: int, hosts: list[tuple[str, int]], job: Callable[..., Awaitable[None]]
) -> None:
    """Run ``job(i, connections...)`` for i in range(count) on ``concurrency`` workers."""
    counter = iter(range(count))

    async def worker() -> None:
        conns = [Connection(h, p) for h, p in hosts]
        try:
            for i in counter:
                await job(i, *conns)
        finally:
            for conn in conns:
                conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


JSON = {"Content-Type": "application/json"}


async def post_json(
    conn: Connection, path: str, payload: dict[str, str], what: str, shown: int = 300
) -> Any:
    """POST a JSON body; the JSON answer, or HttpError (``what``, the status, the body's start)."""
    status, data = await conn.request("POST", path, json.dumps(payload).encode(), JSON)
    if status != 200:
        raise HttpError(f"{what}: HTTP {status} {data[:shown]!r}")
    return json.loads(data)


async def mint_code(conn: Connection, prefix: str, openid: str) -> str:
    path = f"{prefix}/wechat/_control/login-code"
    answer = await post_json(
        conn, path, {"openid": openid}, f"sandbox login-code for {openid}", 200
    )
    return str(answer["code"])


def write_lines(path: str, lines: list[str]) -> None:
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")


def rate(count: int, started: float) -> str:
    """How long ``count`` requests took since ``started`` (time.monotonic), and their rate."""
    took = time.monotonic() - started
    return f"in {took:.1f}s ({count / max(took, 1e-9):,.0f}/s)"


async def mint(args: argparse.Namespace) -> int:
    host, port, prefix = local_base(args.sandbox)
    codes: list[str] = [""] * args.count
    batches = (args.count + BATCH - 1) // BATCH

    async def job(b: int, conn: Connection) -> None:
        first = b * BATCH
        indices = range(first, min(first + BATCH, args.count))
        bodies = [
            json.dumps({"openid": f"{args.prefix}{i % args.openids}"}).encode() for i in indices
        ]
        answers = await conn.pipeline("POST", f"{prefix}/wechat/_control/login-code", bodies, JSON)
        for i, (status, data) in zip(indices, answers, strict=True):
            if status != 200:
                raise HttpError(f"sandbox login-code: HTTP {status} {data[:200]!r}")
            codes[i] = str(json.loads(data)["code"])

    started = time.monotonic()
    await run_pool(batches, args.concurrency, [(host, port)], job)
    write_lines(args.out, codes)
    print(
        f"minted {args.count} login codes for {min(args.openids, args.count)} openids "
        f"({args.prefix}*) {rate(args.count, started)}",
        file=sys.stderr,
    )
    return 0


async def login(args: argparse.Namespace) -> int:
    sandbox_at, s_prefix, api_at, a_prefix = sandbox_and_api(args)
    tokens: list[str] = [""] * args.count

    async def job(i: int, sandbox: Connection, api: Connection) -> None:
        code = await mint_code(sandbox, s_prefix, f"{args.prefix}{i}")
        path = f"{a_prefix}/api/v1/auth/wechat/login"
        answer = await post_json(api, path, {"code": code}, f"login of {args.prefix}{i}")
        tokens[i] = str(answer["access_token"])
        ids[i] = str(answer["user"]["id"])

    ids: list[str] = [""] * args.count
    started = time.monotonic()
    await run_pool(args.count, args.concurrency, [sandbox_at, api_at], job)
    if args.out:
        write_lines(args.out, tokens)
    if args.ids_out:
        write_lines(args.ids_out, ids)
    print(
        f"logged {args.count} users in ({args.prefix}*) {rate(args.count, started)}",
        file=sys.stderr,
    )
    return 0


async def staff_bind(args: argparse.Namespace) -> int:
    sandbox_at, s_prefix, api_at, a_prefix = sandbox_and_api(args)
    sandbox, api = Connection(*sandbox_at), Connection(*api_at)
    try:
        code = await mint_code(sandbox, s_prefix, args.openid)
        bind = {"bind_code": args.bind_code, "code": code}
        await post_json(api, f"{a_prefix}/api/v1/staff/auth/bind", bind, "staff bind")
        code = await mint_code(sandbox, s_prefix, args.openid)
        login = {"code": code}
        answer = await post_json(api, f"{a_prefix}/api/v1/staff/auth/login", login, "staff login")
    finally:
        sandbox.close()
        api.close()
    write_lines(args.out, [str(answer["access_token"])])
    staff = answer.get("staff", {})
    print(
        f"staff {staff.get('id')} ({staff.get('department_code')}, "
        f"{','.join(staff.get('roles', []))}) bound to {args.openid} and logged in",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mint", help="write N login codes to a file")
    m.add_argument("--sandbox", required=True, help="sandbox base URL (…/sandbox)")
    m.add_argument("--count", type=int, required=True)
    m.add_argument("--openids", type=int, required=True, help="size of the openid pool")
    m.add_argument("--prefix", required=True, help="openid prefix ([A-Za-z0-9_-])")
    m.add_argument("--out", required=True)
    m.add_argument("--concurrency", type=int, default=8)
    lg = sub.add_parser("login", help="log N users in, write their access tokens")
    lg.add_argument("--sandbox", required=True)
    lg.add_argument("--api", required=True, help="our server's base URL")
    lg.add_argument("--count", type=int, required=True)
    lg.add_argument("--prefix", required=True)
    lg.add_argument("--out", default="")
    lg.add_argument("--ids-out", default="", help="write the user ids, one a line")
    lg.add_argument("--concurrency", type=int, default=16)
    sb = sub.add_parser("staff-bind", help="bind a staff account's WeChat, log in, write the token")
    sb.add_argument("--sandbox", required=True)
    sb.add_argument("--api", required=True)
    sb.add_argument("--bind-code", required=True)
    sb.add_argument("--openid", required=True, help="the staff member's openid ([A-Za-z0-9_-])")
    sb.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.cmd == "staff-bind":
        args.count, args.concurrency = 1, 1
    if args.count < 1 or args.concurrency < 1 or (args.cmd == "mint" and args.openids < 1):
        parser.error("--count, --openids and --concurrency must be positive")
    runs = {"mint": mint, "login": login, "staff-bind": staff_bind}
    try:
        return asyncio.run(runs[args.cmd](args))
    except (HttpError, OSError, asyncio.IncompleteReadError, ValueError, KeyError) as exc:
        print(f"wxcodes.py {args.cmd}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
