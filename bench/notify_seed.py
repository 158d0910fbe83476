"""The peers, the people and the events of bench/notify.sh (the progress-message drain).

Runs with the workers' settings (the ``ZB_*`` environment of the benchmark: its database, its
field and lookup keys):

    python bench/notify_seed.py peers --sandbox URL
        tells the messaging peers the deployment's templates exactly as the tests do
        (``tests/conftest.py`` ``register_messaging``: the subscribe templates of
        ``load_catalogue("")`` with their keys and kind, each SMS template with its variables
        and text), then lifts the SMS peer's flow control (``_control/limits``, every rule null:
        the 50 notifications a day per number would refuse most of the load)
    python bench/notify_seed.py users --sandbox URL --count N --accepts K --out FILE
        N people ``user:1 … user:N``, each with an openid the WeChat peer knows (a ``wx.login``
        code minted for it, ``_control/login-code``: the peer only sends to openids that logged
        in) and a verified mainland number ``139<8 digits>``. The odd ones consented to the
        progress template: K acceptances at the peer (``_control/subscribe``, one ``accept``
        each, as K taps on the phone's consent sheet would give) and the same K in our
        ``notify_consent`` (``openid_hash`` = the lookup hash under ``OPENID_CONTEXT``,
        ``remaining`` K), so they get WeChat messages; the even ones have none, so they get
        SMS (and a WeChat row ``skipped``/``no_grant``). FILE: ``ref<TAB>openid<TAB>phone<TAB>
        consent`` a line
    python bench/notify_seed.py produce --users FILE --rate R --duration D --step NAME
            --offset O --out JSON [--drain-timeout S]
        inserts ``bench.notify`` outbox events at R a second for D seconds (plain SQL, in small
        batches every 10 ms, the recipients round-robin over the people, event i numbered
        O + i), then waits until every event is delivered and every ledger row settled (none
        ``queued``, ``sending`` or ``held``); samples the backlogs every second; writes what it
        did, the event ids and its own CPU to JSON. Exit status 2 when the drain timed out
    python bench/notify_seed.py peer-stats --sandbox URL --users FILE --out JSON
        the peers' own counts (WeChat ``_control/stats`` subscribe section, SMS ``_control/stats``)
        and, per person, the subscribe messages the WeChat peer delivered (their case numbers,
        to find any message sent twice) and, for a sample of people, the SMS the SMS peer
        accepted (their OutIds)

Exit status 0 on success, 1 on any problem (printed), 2 when a drain timed out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.notify_bench import TOPIC  # noqa: E402
from bench.wxcodes import Connection, HttpError, local_base, run_pool  # noqa: E402
from core.crypto import FieldCipher  # noqa: E402
from core.settings import Settings  # noqa: E402
from notify.catalogue import load_catalogue  # noqa: E402
from notify.consent import OPENID_CONTEXT  # noqa: E402

JSON = {"Content-Type": "application/json"}
#: Requests sent back to back on one connection (HTTP/1.1 pipelining), as bench/wxcodes.py does.
BATCH = 50
#: The producer inserts what is due every this many seconds.
TICK_S = 0.01
OPENID_PREFIX = "oZbBench"
#: The message type's WeChat template (``case.accepted`` → ``progress``).
KIND_TEMPLATE = "progress"


def dsn_of(url: str) -> str:
    """asyncpg's DSN from ``ZB_DATABASE_URL`` (Tortoise's options, e.g. ``maxsize``, dropped)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def openid_of(i: int) -> str:
    return f"{OPENID_PREFIX}{i:020d}"


def phone_of(i: int) -> str:
    return f"139{i:08d}"


async def control(
    conn: Connection, method: str, path: str, payload: Any = None, what: str = ""
) -> Any:
    body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    status, data = await conn.request(method, path, body, JSON if payload is not None else None)
    if status != 200:
        raise HttpError(f"{what or path}: HTTP {status} {data[:300]!r}")
    return json.loads(data)


async def pipelined(
    host: str, port: int, path: str, bodies: list[dict[str, Any]], concurrency: int, what: str
) -> list[Any]:
    """POST every body (pipelined in batches on ``concurrency`` connections); the answers."""
    answers: list[Any] = [None] * len(bodies)
    batches = (len(bodies) + BATCH - 1) // BATCH

    async def job(b: int, conn: Connection) -> None:
        first = b * BATCH
        indices = range(first, min(first + BATCH, len(bodies)))
        encoded = [json.dumps(bodies[i]).encode() for i in indices]
        for i, (status, data) in zip(
            indices, await conn.pipeline("POST", path, encoded, JSON), strict=True
        ):
            if status != 200:
                raise HttpError(f"{what}: HTTP {status} {data[:300]!r}")
            answers[i] = json.loads(data)

    await run_pool(batches, concurrency, [(host, port)], job)
    return answers


# --- peers -------------------------------------------------------------------------------------


async def peers(args: argparse.Namespace) -> int:
    host, port, prefix = local_base(args.sandbox)
    catalogue = load_catalogue("")
    conn = Connection(host, port)
    try:
        # As tests/conftest.py register_messaging does.
        await control(
            conn,
            "PUT",
            f"{prefix}/wechat/_control/subscribe-templates",
            {
                "templates": {
                    t.template_id: {"keys": list(t.data), "long_term": t.long_term}
                    for t in catalogue.wechat.values()
                }
            },
            "subscribe templates",
        )
        for t in catalogue.sms.values():
            await control(
                conn,
                "POST",
                f"{prefix}/sms/_control/templates",
                {"code": t.code, "variables": list(t.params), "text": t.text},
                f"SMS template {t.code}",
            )
        current = await control(conn, "GET", f"{prefix}/sms/_control/limits")
        limits = await control(
            conn,
            "POST",
            f"{prefix}/sms/_control/limits",
            dict.fromkeys(current, None),
            "SMS limits",
        )
    finally:
        conn.close()
    print(
        f"peers: {len(catalogue.wechat)} subscribe templates, {len(catalogue.sms)} SMS templates "
        f"registered; SMS flow control {limits}",
        file=sys.stderr,
    )
    return 0


# --- people ------------------------------------------------------------------------------------


async def users(args: argparse.Namespace) -> int:
    host, port, prefix = local_base(args.sandbox)
    settings = Settings()
    cipher = FieldCipher.from_settings(settings)
    template_id = load_catalogue(settings.notify_templates).wechat[KIND_TEMPLATE].template_id
    people = [
        (f"user:{i}", openid_of(i), phone_of(i), i % 2 == 1) for i in range(1, args.count + 1)
    ]
    started = time.monotonic()
    await pipelined(
        host,
        port,
        f"{prefix}/wechat/_control/login-code",
        [{"openid": openid} for _, openid, _, _ in people],
        args.concurrency,
        "login-code",
    )
    logged_in = time.monotonic() - started
    consenting = [openid for _, openid, _, consent in people if consent]
    started = time.monotonic()
    answers = await pipelined(
        host,
        port,
        f"{prefix}/wechat/_control/subscribe",
        [
            {"openid": openid, "results": {template_id: "accept"}}
            for openid in consenting
            for _ in range(args.accepts)
        ],
        args.concurrency,
        "subscribe",
    )
    refused = [a for a in answers if a.get(template_id) != "accept"]
    if refused:
        raise HttpError(f"subscribe: {len(refused)} answers were not accept, e.g. {refused[0]}")
    accepted = time.monotonic() - started
    # Our side of the same consent, as notify.consent.report would leave it after K accepts.
    now = datetime.now(UTC)
    db = await asyncpg.connect(dsn_of(settings.effective_database_url))
    try:
        await db.executemany(
            """INSERT INTO notify_consent
               (openid_hash, template_id, remaining, long_term, last_result, updated_at)
               VALUES ($1, $2, $3, false, 'accept', $4)
               ON CONFLICT (openid_hash, template_id)
               DO UPDATE SET remaining = EXCLUDED.remaining, last_result = 'accept'""",
            [
                (cipher.lookup_hash(openid, context=OPENID_CONTEXT), template_id, args.accepts, now)
                for openid in consenting
            ],
        )
        grants = await db.fetchval(
            "SELECT count(*) FROM notify_consent WHERE template_id = $1 AND remaining = $2",
            template_id,
            args.accepts,
        )
    finally:
        await db.close()
    if grants != len(consenting):
        raise HttpError(f"notify_consent holds {grants} grants, expected {len(consenting)}")
    Path(args.out).write_text(
        "".join(f"{r}\t{o}\t{p}\t{int(c)}\n" for r, o, p, c in people), encoding="ascii"
    )
    print(
        f"people: {len(people)} logged in at the WeChat peer in {logged_in:.1f}s; "
        f"{len(consenting)} consented {args.accepts} times each to {template_id} "
        f"({len(answers)} acceptances in {accepted:.1f}s, {len(answers) / accepted:,.0f}/s) "
        f"and hold as many in notify_consent; {len(people) - len(consenting)} without consent",
        file=sys.stderr,
    )
    return 0


def read_people(path: str) -> list[tuple[str, str, str, bool]]:
    people = []
    for line in Path(path).read_text(encoding="ascii").splitlines():
        ref, openid, phone, consent = line.split("\t")
        people.append((ref, openid, phone, consent == "1"))
    return people


# --- events and the drain ----------------------------------------------------------------------

INSERT_EVENTS = """
INSERT INTO core_outbox_event
    (topic, payload, status, attempts, available_at, created_at, last_error, locked_by,
     done_handlers)
SELECT $1, p, 'pending', 0, now(), now(), '', '', '[]'::jsonb
FROM unnest($2::jsonb[]) AS p
RETURNING id
"""

BACKLOG = """
SELECT
  (SELECT count(*) FROM core_outbox_event WHERE status = 'pending' AND topic = $1) AS outbox,
  (SELECT count(*) FROM notify_delivery WHERE status = 'queued') AS queued,
  (SELECT count(*) FROM notify_delivery WHERE status = 'sending') AS sending,
  (SELECT count(*) FROM notify_delivery WHERE status = 'held') AS held
"""


async def produce(args: argparse.Namespace) -> int:
    settings = Settings()
    people = read_people(args.users)
    total = round(args.rate * args.duration) if args.count is None else args.count
    db = await asyncpg.connect(dsn_of(settings.effective_database_url))
    watch = await asyncpg.connect(dsn_of(settings.effective_database_url))
    timeline: list[dict[str, Any]] = []
    t_zero = time.time()

    async def sample() -> None:
        row = await watch.fetchrow(BACKLOG, TOPIC)
        timeline.append({"t_s": round(time.time() - t_zero, 2), **dict(row)})

    async def sampler() -> None:
        while True:
            await sample()
            await asyncio.sleep(1.0)

    def payload(i: int) -> str:
        n = args.offset + i
        ref, openid, phone, _ = people[n % len(people)]
        return json.dumps(
            {"ref": ref, "openid": openid, "phone": phone, "n": n, "step": args.step},
            ensure_ascii=False,
        )

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    ids: list[int] = []
    inserts = 0
    most_behind = 0
    sampling = asyncio.create_task(sampler())
    started_wall = time.time()
    started = time.monotonic()
    made = 0
    try:
        while made < total:
            elapsed = time.monotonic() - started
            due = total if args.count is not None else min(total, int(args.rate * elapsed) + 1)
            if due > made:
                most_behind = max(most_behind, due - made)
                rows = await db.fetch(INSERT_EVENTS, TOPIC, [payload(i) for i in range(made, due)])
                ids += [int(r["id"]) for r in rows]
                inserts += 1
                made = due
            next_tick = started + (int(elapsed / TICK_S) + 1) * TICK_S
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
        produced_s = time.monotonic() - started
        ended_wall = time.time()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        # The drain: every event delivered, every ledger row settled.
        deadline = time.monotonic() + args.drain_timeout
        drained = False
        while time.monotonic() < deadline:
            row = await db.fetchrow(BACKLOG, TOPIC)
            if not any(row.values()):
                drained = True
                break
            await asyncio.sleep(0.2)
        drain_wait_s = time.monotonic() - started - produced_s
    finally:
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        await sample()
        await db.close()
        await watch.close()
    cpu_s = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    result = {
        "step": args.step,
        "target_rate": args.rate,
        "duration_s": args.duration,
        "events": len(ids),
        "first_id": min(ids) if ids else None,
        "last_id": max(ids) if ids else None,
        "offset": args.offset,
        "inserts": inserts,
        "most_behind_events": most_behind,
        "produced_s": round(produced_s, 3),
        "produced_per_s": round(len(ids) / produced_s, 1) if produced_s > 0 else None,
        "started_at": datetime.fromtimestamp(started_wall, UTC).isoformat(),
        "ended_at": datetime.fromtimestamp(ended_wall, UTC).isoformat(),
        "producer_cpu_s": round(cpu_s, 3),
        "drained": drained,
        "drain_wait_s": round(drain_wait_s, 2),
        "backlog_timeline": timeline,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    last = timeline[-1] if timeline else {}
    print(
        f"{args.step}: {len(ids)} events in {produced_s:.1f}s ({result['produced_per_s']}/s, "
        f"{inserts} inserts, at most {most_behind} due at once, producer CPU {cpu_s:.1f}s); "
        + (
            f"drained {drain_wait_s:.1f}s after the last event"
            if drained
            else f"NOT drained {args.drain_timeout:.0f}s after the last event: {last}"
        ),
        file=sys.stderr,
    )
    return 0 if drained else 2


# --- what the peers saw ------------------------------------------------------------------------


async def peer_stats(args: argparse.Namespace) -> int:
    host, port, prefix = local_base(args.sandbox)
    people = read_people(args.users)
    conn = Connection(host, port)
    try:
        wechat = await control(conn, "GET", f"{prefix}/wechat/_control/stats")
        sms = await control(conn, "GET", f"{prefix}/sms/_control/stats")
    finally:
        conn.close()
    by_openid: dict[str, list[str]] = {}

    async def wechat_of(i: int, c: Connection) -> None:
        _, openid, _, _ = people[i]
        answer = await control(
            c, "GET", f"{prefix}/wechat/_control/subscribe-messages?openid={quote(openid)}"
        )
        by_openid[openid] = [
            str(m.get("data", {}).get("character_string2", {}).get("value", ""))
            if isinstance(m.get("data"), dict)
            else json.dumps(m, ensure_ascii=False)
            for m in answer["messages"]
        ]

    await run_pool(len(people), args.concurrency, [(host, port)], wechat_of)
    sample = [p for p in people if not p[3]][: args.sms_sample] + [p for p in people if p[3]][:5]
    sms_by_phone: dict[str, list[str]] = {}

    async def sms_of(i: int, c: Connection) -> None:
        _, _, phone, _ = sample[i]
        answer = await control(c, "GET", f"{prefix}/sms/_control/messages?phone={phone}&limit=1000")
        sms_by_phone[phone] = [str(m["out_id"]) for m in answer["messages"]]

    await run_pool(len(sample), min(4, args.concurrency), [(host, port)], sms_of)
    document = {
        "wechat": wechat.get("subscribe", {}),
        "wechat_tokens": {k: wechat.get(k) for k in ("tokens_issued",)},
        "wechat_stable_token_calls": wechat.get("calls", {}).get("stable_token"),
        "sms": {k: sms.get(k) for k in ("calls", "errors", "accepted", "messages", "delivered")},
        "wechat_by_openid": by_openid,
        "sms_by_phone": sms_by_phone,
    }
    Path(args.out).write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"peers: WeChat {document['wechat']}; SMS accepted {sms.get('accepted')} "
        f"calls {sms.get('calls')} errors {sms.get('errors')}",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("peers")
    p.add_argument("--sandbox", required=True)
    u = sub.add_parser("users")
    u.add_argument("--sandbox", required=True)
    u.add_argument("--count", type=int, required=True)
    u.add_argument("--accepts", type=int, required=True)
    u.add_argument("--out", required=True)
    u.add_argument("--concurrency", type=int, default=8)
    r = sub.add_parser("produce")
    r.add_argument("--users", required=True)
    r.add_argument("--rate", type=float, required=True)
    r.add_argument("--duration", type=float, required=True)
    r.add_argument("--count", type=int, help="insert this many at once instead (the check)")
    r.add_argument("--step", required=True)
    r.add_argument("--offset", type=int, default=0)
    r.add_argument("--out", required=True)
    r.add_argument("--drain-timeout", type=float, default=120.0)
    s = sub.add_parser("peer-stats")
    s.add_argument("--sandbox", required=True)
    s.add_argument("--users", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--concurrency", type=int, default=8)
    s.add_argument("--sms-sample", type=int, default=40)
    args = parser.parse_args(argv)
    command = {"peers": peers, "users": users, "produce": produce, "peer-stats": peer_stats}
    try:
        return asyncio.run(command[args.cmd](args))
    except (HttpError, OSError, asyncpg.PostgresError) as exc:
        print(f"PROBLEM: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
