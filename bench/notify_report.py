"""The table, the checks and the JSON of bench/notify.sh (the progress-message drain).

    python bench/notify_report.py --raw DIR --dsn URL --steps CHECK.json STEP1.json ... \
        --peers PEERS.json [--profile FILE ...] --out bench/results/notify-<ts>.json \
        [--meta k=v ...]

DIR holds the hello-world's wrk outputs (``hello.<n>.txt``) and, per step, the CPU snapshots
before and after it (``<step>.cpu``, lib.sh's format plus ``machine_busy``/``machine_total``).
Each step file is what ``notify_seed.py produce`` wrote (its event ids, its clock, its CPU, the
backlog it sampled every second); the first is the check, counted in the totals only.

From the database (the ledger joined to the outbox by the event id in ``event_key``), per step:

* **sent/s**: messages whose ``sent_at`` falls in the steady window, from the step's first event
  plus ``WARM_S`` (5 s, at most a fifth of the step) to its last event, divided by that window;
  **ratio** = sent/s ÷ the hello-world's req/s (the mean of its runs in this script run);
* **event-to-send latency**: ``sent_at`` − the outbox event's ``created_at`` (the producer's
  insert), p50/p95/p99/max over every message of the step; and where it went: the **outbox
  wait** (the ledger row's ``created_at``, i.e. ``publish``'s ``now`` in the handler, − the
  event's ``created_at``: claim and handler queue) and the **ledger wait** (``sent_at`` − the
  row's ``created_at``: the pump's claim, the call, the settlement); the channel call alone is
  ``notify_attempt.duration_ms``;
* sends per channel, every ledger status, attempts and their outcomes and codes, retried rows
  and events;
* CPU during the step (production and drain): each worker, the sandbox, PostgreSQL, Redis and
  the producer, as % of one core and CPU-ms per message; the machine's busy share.

The peers: the WeChat peer's delivered count and the SMS peer's accepted count must equal the
ledger's ``sent`` rows of each channel; per person, the WeChat peer's messages must carry no case
number twice and as many as the ledger sent to that person (none to the people without consent);
for a sample of numbers, the SMS peer's OutIds must be the ledger's keys, none twice.

Judged (``TARGET_RATE``, ``TARGET_P99_MS``): a step whose offered rate is at least 1,000 a
second passes when its sent/s is at least 1,000 (within ``RATE_TOLERANCE``, 1 %, for the window's
edges) and its p99 is under 2 s. Exit status 0 when the measurement is usable (targets met or
not), 3 when it is broken: an event not delivered, a message failed, uncertain or never settled,
the peers disagree with the ledger, or a run of the hello-world is unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import statistics
import sys
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.notify_seed import dsn_of  # noqa: E402
from bench.wrk_report import (  # noqa: E402
    WrkParseError,
    check_run,
    parse_wrk,
    read_cpu_seconds,
    render_table,
    write_json,
)

TARGET_RATE = 1000.0
TARGET_P99_MS = 2000.0
RATE_TOLERANCE = 0.01
WARM_S = 5.0
#: RECIPES.md's hello-world on this kind of machine (req/s), to scale the absolute target.
REFERENCE_HELLO_RPS = 36_500
GROUPS = ("worker1", "worker2", "sandbox", "postgres", "redis")

ROWS_SQL = """
SELECT d.id, d.key, d.channel, d.status, d.attempts, d.recipient, d.last_code,
       d.created_at, d.sent_at, e.id AS event_id, e.created_at AS event_created
FROM notify_delivery d
JOIN core_outbox_event e ON e.id = split_part(d.event_key, ':', 2)::bigint
WHERE e.id BETWEEN $1 AND $2
"""
EVENTS_SQL = """
SELECT status, count(*) AS n, max(attempts) AS most_attempts,
       count(*) FILTER (WHERE attempts > 1) AS retried,
       min(created_at) AS first_at, max(created_at) AS last_at
FROM core_outbox_event WHERE id BETWEEN $1 AND $2 GROUP BY status
"""
ATTEMPTS_SQL = """
SELECT d.channel, a.outcome, a.code, a.duration_ms
FROM notify_attempt a JOIN notify_delivery d ON d.id = a.delivery_id
JOIN core_outbox_event e ON e.id = split_part(d.event_key, ':', 2)::bigint
WHERE e.id BETWEEN $1 AND $2
"""


def pct(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def dist(values: list[float]) -> dict[str, float | None]:
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 1)

    return {
        "n": len(values),
        "p50": r(pct(values, 50)),
        "p95": r(pct(values, 95)),
        "p99": r(pct(values, 99)),
        "max": r(max(values) if values else None),
    }


def ms(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds() * 1000


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


# --- the database ------------------------------------------------------------------------------


async def read_db(dsn: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    db = await asyncpg.connect(dsn_of(dsn))
    try:
        found: dict[str, Any] = {}
        for step in steps:
            first, last = step["first_id"], step["last_id"]
            found[step["step"]] = {
                "rows": [dict(r) for r in await db.fetch(ROWS_SQL, first, last)],
                "events": [dict(r) for r in await db.fetch(EVENTS_SQL, first, last)],
                "attempts": [dict(r) for r in await db.fetch(ATTEMPTS_SQL, first, last)],
            }
        found["totals"] = [
            dict(r)
            for r in await db.fetch(
                "SELECT channel, status, count(*) AS n FROM notify_delivery GROUP BY 1, 2"
            )
        ]
        found["sent_by_recipient"] = [
            dict(r)
            for r in await db.fetch(
                "SELECT recipient, channel, count(*) AS n, array_agg(key) AS keys "
                "FROM notify_delivery WHERE status = 'sent' GROUP BY 1, 2"
            )
        ]
        found["outbox"] = [
            dict(r)
            for r in await db.fetch(
                "SELECT status, count(*) AS n FROM core_outbox_event GROUP BY status"
            )
        ]
        found["inbox"] = await db.fetchval("SELECT count(*) FROM notify_inbox")
        found["consent_left"] = await db.fetchval(
            "SELECT coalesce(min(remaining), 0) FROM notify_consent"
        )
    finally:
        await db.close()
    return found


# --- one step ----------------------------------------------------------------------------------


def summarise_step(
    step: dict[str, Any], db: dict[str, Any], cpu_file: Path, hello_rps: float | None
) -> dict[str, Any]:
    rows = db["rows"]
    sent = [r for r in rows if r["status"] == "sent"]
    events_created = {r["event_id"]: r["event_created"] for r in rows}
    event_times = sorted(events_created.values())
    t0, t1 = (event_times[0], event_times[-1]) if event_times else (None, None)
    span_s = (t1 - t0).total_seconds() if t0 and t1 else 0.0
    warm = min(WARM_S, span_s / 5)
    window_s = span_s - warm
    rate_sent = rate_offered = None
    if t0 is not None and window_s > 0:
        start = t0.timestamp() + warm
        end = t1.timestamp()
        rate_sent = sum(1 for r in sent if start <= r["sent_at"].timestamp() <= end) / window_s
        rate_offered = sum(1 for t in event_times if start <= t.timestamp() <= end) / window_s
    last_sent = max((r["sent_at"] for r in sent), default=None)
    overall = (
        len(sent) / (last_sent - t0).total_seconds()
        if last_sent is not None and t0 is not None and last_sent > t0
        else None
    )
    latency = [ms(r["sent_at"], r["event_created"]) for r in sent]
    by_channel: dict[str, list[float]] = defaultdict(list)
    for r in sent:
        by_channel[r["channel"]].append(ms(r["sent_at"], r["event_created"]))
    outbox_wait = [ms(r["created_at"], r["event_created"]) for r in sent]
    ledger_wait = [ms(r["sent_at"], r["created_at"]) for r in sent]
    call_ms: dict[str, list[float]] = defaultdict(list)
    outcomes: Counter[str] = Counter()
    for a in db["attempts"]:
        outcomes[f"{a['channel']}:{a['outcome']}:{a['code']}"] += 1
        call_ms[a["channel"]].append(float(a["duration_ms"]))
    statuses = Counter(f"{r['channel']}:{r['status']}" for r in rows)
    codes = Counter(
        f"{r['channel']}:{r['status']}:{r['last_code']}" for r in rows if r["status"] != "sent"
    )
    events = {e["status"]: e for e in db["events"]}
    n_events = sum(int(e["n"]) for e in db["events"])
    # CPU during the step (production and drain).
    wall, used = read_cpu_seconds(cpu_file)
    cpu: dict[str, Any] = {}
    if wall > 0:
        busy = used.pop("machine_busy", None)
        total = used.pop("machine_total", None)
        used["producer"] = float(step.get("producer_cpu_s") or 0.0)
        n_sent = max(len(sent), 1)
        ours = sum(used.values())
        cpu = {
            "wall_s": round(wall, 2),
            "cpu_s": {k: round(v, 2) for k, v in used.items()},
            "pct_of_one_core": {k: round(100 * v / wall, 1) for k, v in used.items()},
            "ms_per_message": {k: round(1000 * v / n_sent, 3) for k, v in used.items()},
            "machine_busy_pct": round(100 * busy / total, 1) if busy and total else None,
            "others_pct_of_machine": (
                round(100 * max(busy - ours, 0.0) / total, 1) if busy and total else None
            ),
        }
    return {
        "step": step["step"],
        "target_rate": step["target_rate"],
        "duration_s": step["duration_s"],
        "events": n_events,
        "events_by_status": {k: int(v["n"]) for k, v in events.items()},
        "events_retried": sum(int(e["retried"]) for e in db["events"]),
        "events_most_attempts": max((int(e["most_attempts"]) for e in db["events"]), default=0),
        "produced_per_s": step.get("produced_per_s"),
        "offered_per_s_steady": round(rate_offered, 1) if rate_offered is not None else None,
        "producer_most_behind_events": step.get("most_behind_events"),
        "drain_wait_s": step.get("drain_wait_s"),
        "window_s": round(window_s, 2),
        "sent": len(sent),
        "sent_by_channel": dict(Counter(r["channel"] for r in sent)),
        "sent_per_s_steady": round(rate_sent, 1) if rate_sent is not None else None,
        "sent_per_s_overall": round(overall, 1) if overall is not None else None,
        "ratio_to_hello": (
            round(rate_sent / hello_rps, 4) if rate_sent is not None and hello_rps else None
        ),
        "latency_ms": dist(latency),
        "latency_ms_by_channel": {k: dist(v) for k, v in sorted(by_channel.items())},
        "outbox_wait_ms": dist(outbox_wait),
        "ledger_wait_ms": dist(ledger_wait),
        "call_ms_by_channel": {k: dist(v) for k, v in sorted(call_ms.items())},
        "ledger_statuses": dict(sorted(statuses.items())),
        "not_sent_codes": dict(sorted(codes.items())),
        "attempts": dict(sorted(outcomes.items())),
        "rows_retried": sum(1 for r in rows if r["attempts"] > 1),
        "cpu": cpu,
        "backlog_timeline": step.get("backlog_timeline", []),
    }


def judge(row: dict[str, Any]) -> tuple[str, bool | None, bool | None]:
    if row["target_rate"] < TARGET_RATE:
        return "info", None, None
    rate_ok = (row["sent_per_s_steady"] or 0) >= TARGET_RATE * (1 - RATE_TOLERANCE)
    p99 = row["latency_ms"]["p99"]
    p99_ok = p99 is not None and p99 < TARGET_P99_MS
    if rate_ok and p99_ok:
        return "PASS", rate_ok, p99_ok
    missed = [n for n, ok in (("rate", rate_ok), ("p99", p99_ok)) if not ok]
    return f"FAIL ({', '.join(missed)})", rate_ok, p99_ok


# --- the peers ---------------------------------------------------------------------------------


def check_peers(peers: dict[str, Any], db: dict[str, Any], broken: list[str]) -> dict[str, Any]:
    totals = Counter()
    for t in db["totals"]:
        totals[f"{t['channel']}:{t['status']}"] += int(t["n"])
    ours_wechat, ours_sms = totals["wechat:sent"], totals["sms:sent"]
    wechat_delivered = int(peers["wechat"].get("delivered", -1))
    sms_accepted = int(peers["sms"].get("accepted", -1))
    if wechat_delivered != ours_wechat:
        broken.append(
            f"the WeChat peer delivered {wechat_delivered} messages, the ledger says "
            f"{ours_wechat} were sent"
        )
    if sms_accepted != ours_sms:
        broken.append(
            f"the SMS peer accepted {sms_accepted} messages, the ledger says {ours_sms} were sent"
        )
    sent_by = {(r["recipient"], r["channel"]): r for r in db["sent_by_recipient"]}
    people = peers.get("people", {})
    twice = 0
    mismatched = 0
    for openid, numbers in peers["wechat_by_openid"].items():
        dupes = [n for n, c in Counter(numbers).items() if c > 1]
        twice += len(dupes)
        ref = people.get(openid)
        ours = int(sent_by[(ref, "wechat")]["n"]) if (ref, "wechat") in sent_by else 0
        if ours != len(numbers):
            mismatched += 1
    if twice:
        broken.append(f"the WeChat peer received {twice} case number(s) twice")
    if mismatched:
        broken.append(
            f"{mismatched} person(s) received a different number of WeChat messages than the "
            "ledger sent them"
        )
    phone_refs = peers.get("phone_refs", {})
    sms_twice = sms_mismatched = 0
    for phone, out_ids in peers["sms_by_phone"].items():
        sms_twice += sum(1 for _, c in Counter(out_ids).items() if c > 1)
        ref = phone_refs.get(phone)
        keys = set(sent_by[(ref, "sms")]["keys"]) if (ref, "sms") in sent_by else set()
        if set(out_ids) != keys:
            sms_mismatched += 1
    if sms_twice:
        broken.append(f"the SMS peer accepted {sms_twice} OutId(s) twice")
    if sms_mismatched:
        broken.append(
            f"{sms_mismatched} sampled number(s): the SMS peer's OutIds differ from the ledger's "
            "sent keys"
        )
    return {
        "wechat_peer": peers["wechat"],
        "sms_peer": peers["sms"],
        "ledger_sent": {"wechat": ours_wechat, "sms": ours_sms},
        "wechat_people_checked": len(peers["wechat_by_openid"]),
        "wechat_numbers_twice": twice,
        "wechat_people_mismatched": mismatched,
        "sms_numbers_sampled": len(peers["sms_by_phone"]),
        "sms_out_ids_twice": sms_twice,
        "sms_numbers_mismatched": sms_mismatched,
        "exactly_once": not (
            wechat_delivered != ours_wechat
            or sms_accepted != ours_sms
            or twice
            or mismatched
            or sms_twice
            or sms_mismatched
        ),
    }


# --- py-spy ------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
PROJECT = {"api", "core", "catalog", "auth", "cases", "notify", "payments", "platforms"}
PROJECT |= {"sandbox", "storage", "bench"}


def _owner(path: str) -> str:
    """Whose code a frame is (py-spy names files by their import path: ``httpx/_client.py``):
    a project package, a site-package, or ``stdlib:<module>``."""
    if path.startswith("<frozen "):
        return "stdlib:" + path.removeprefix("<frozen ").rstrip(">").split(".")[0]
    top = path.split("/", 1)[0].removesuffix(".py")
    if top in PROJECT or top.startswith("notify_"):
        return f"project:{top}"
    if top in sys.stdlib_module_names:
        return f"stdlib:{top}"
    return top or "?"


def profile_summary(path: Path, top: int = 20) -> dict[str, Any]:
    """Self and inclusive samples per function and per package, and per asyncio task (the
    coroutine a loop callback ran), of a py-spy ``--format raw`` file (``frame;frame;… count``
    a line, outermost first). A sample is a moment the thread was not idle: on a machine short
    of CPU, time spent waiting to be scheduled inside a system call counts too."""
    self_fn: Counter[str] = Counter()
    incl_fn: Counter[str] = Counter()
    self_owner: Counter[str] = Counter()
    incl_owner: Counter[str] = Counter()
    by_task: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names: list[str] = []
        owners: list[str] = []
        for frame in stack.split(";"):
            match = _FRAME.match(frame.strip())
            fn, file = (match["fn"], match["file"]) if match else (frame, "")
            names.append(f"{fn} ({file})")
            owners.append(_owner(file))
        if not names:
            continue
        self_fn[names[-1]] += count
        self_owner[owners[-1]] += count
        for name in set(names):
            incl_fn[name] += count
        for owner in set(owners):
            incl_owner[owner] += count
        runs = [i for i, n in enumerate(names) if n.startswith("Handle._run ")]
        task = names[runs[0] + 1] if runs and runs[0] + 1 < len(names) else f"(no task) {names[-1]}"
        by_task[task] += count

    def share(counter: Counter[str], n: int) -> list[list[Any]]:
        return [[k, v, round(100 * v / max(total, 1), 1)] for k, v in counter.most_common(n)]

    return {
        "file": path.name,
        "samples": total,
        "self_by_package": share(self_owner, 25),
        "inclusive_by_package": share(incl_owner, 25),
        "by_task": share(by_task, 12),
        "self_by_function": share(self_fn, top),
        "inclusive_by_function": share(incl_fn, top * 3),
    }


# --- main --------------------------------------------------------------------------------------


def hello_runs(raw: Path, broken: list[str], warnings: list[str]) -> list[Any]:
    runs = []
    for path in sorted(raw.glob("hello.*.txt")):
        round_no = int(path.name.split(".")[1])
        try:
            run = parse_wrk(path.read_text(errors="replace"), "hello", round_no)
        except WrkParseError as exc:
            broken.append(str(exc))
            continue
        load = path.with_suffix(".load")
        if load.exists():
            run.other_cpu_pct = float(load.read_text().strip() or 0)
        check_run(run, f"hello run {round_no}", broken, warnings)
        runs.append(run)
    if not runs:
        broken.append("no usable hello-world run")
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--meta", action="append", default=[])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--steps", nargs="+", type=Path, required=True)
    parser.add_argument("--peers", type=Path, required=True)
    parser.add_argument("--profile", action="append", type=Path, default=[])
    args = parser.parse_args(argv)

    broken: list[str] = []
    warnings: list[str] = []
    hello = hello_runs(args.raw, broken, warnings)
    hello_rps = statistics.mean(r.rps for r in hello) if hello else None
    steps = [json.loads(p.read_text()) for p in args.steps]
    db = asyncio.run(read_db(args.dsn, steps))
    rows = []
    for step in steps[1:]:
        row = summarise_step(step, db[step["step"]], args.raw / f"{step['step']}.cpu", hello_rps)
        row["verdict"], row["rate_ok"], row["p99_ok"] = judge(row)
        rows.append(row)
        bad = {
            k: v for k, v in row["ledger_statuses"].items() if not k.endswith((":sent", ":skipped"))
        }
        if bad:
            broken.append(f"{row['step']}: ledger rows neither sent nor skipped: {bad}")
        undelivered = {k: v for k, v in row["events_by_status"].items() if k != "delivered"}
        if undelivered:
            broken.append(f"{row['step']}: outbox events not delivered: {undelivered}")
        if row["sent"] != row["events"]:
            broken.append(f"{row['step']}: {row['events']} events but {row['sent']} messages sent")
        others = row["cpu"].get("others_pct_of_machine")
        if others is not None and others > 10:
            warnings.append(
                f"{row['step']}: other processes used {others:.0f}% of the machine; skewed"
            )
    peers = json.loads(args.peers.read_text())
    people = {}
    phone_refs = {}
    users_file = args.peers.parent / "users.tsv"
    if users_file.exists():
        for line in users_file.read_text().splitlines():
            ref, openid, phone, _ = line.split("\t")
            people[openid] = ref
            phone_refs[phone] = ref
    peers["people"], peers["phone_refs"] = people, phone_refs
    peer_check = check_peers(peers, db, broken)
    profiles = [profile_summary(p) for p in args.profile if p.exists()]

    judged = [r for r in rows if r["verdict"] != "info"]
    met = any(r["verdict"] == "PASS" for r in judged)
    document = {
        "benchmark": "notify",
        "meta": dict(item.split("=", 1) for item in args.meta if "=" in item),
        "targets": {
            "sent_per_s": TARGET_RATE,
            "p99_ms": TARGET_P99_MS,
            "rate_tolerance": RATE_TOLERANCE,
            "as_ratio_on_reference_hello": round(TARGET_RATE / REFERENCE_HELLO_RPS, 4),
        },
        "hello": [
            {"round": r.round, "rps": r.rps, "p99_ms": r.p99_ms, "other_cpu_pct": r.other_cpu_pct}
            for r in hello
        ],
        "hello_rps_mean": round(hello_rps, 1) if hello_rps else None,
        "results": rows,
        "peers": peer_check,
        "outbox": {o["status"]: int(o["n"]) for o in db["outbox"]},
        "inbox_lines": db["inbox"],
        "consent_left_min": db["consent_left"],
        "profiles": profiles,
        "warnings": warnings,
        "broken": broken,
        "all_targets_met": bool(judged) and met and not broken,
    }
    write_json(args.out, document)
    print_report(document, hello_rps)
    for warning in warnings:
        print(f"WARNING: {warning}")
    for problem in broken:
        print(f"BROKEN: {problem}", file=sys.stderr)
    print(f"results: {args.out}")
    return 3 if broken else 0


def print_report(doc: dict[str, Any], hello_rps: float | None) -> None:
    rows = doc["results"]
    print()
    hello_text = ", ".join(f"{h['rps']:,.0f}" for h in doc["hello"])
    print(
        f"Progress-message drain: 2 workers, PostgreSQL, the sandbox peers in one process; "
        f"hello-world {hello_rps or 0:,.0f} req/s (runs: {hello_text})"
    )
    head = (
        "step",
        "offered/s",
        "sent/s",
        "ratio",
        "p50",
        "p95",
        "p99",
        "max",
        "wechat",
        "sms",
        "retried",
        "target",
        "result",
    )
    body = []
    for r in rows:
        lat = r["latency_ms"]
        body.append(
            (
                f"{r['step']} ({r['target_rate']}/s × {r['duration_s']:g}s)",
                f"{r['offered_per_s_steady'] or 0:,.0f}",
                f"{r['sent_per_s_steady'] or 0:,.0f}",
                f"{r['ratio_to_hello']:.4f}" if r["ratio_to_hello"] else "-",
                fmt_ms(lat["p50"]),
                fmt_ms(lat["p95"]),
                fmt_ms(lat["p99"]),
                fmt_ms(lat["max"]),
                f"{r['sent_by_channel'].get('wechat', 0):,}",
                f"{r['sent_by_channel'].get('sms', 0):,}",
                f"{r['rows_retried']}",
                "-" if r["verdict"] == "info" else "sent/s >= 1,000 and p99 < 2 s",
                r["verdict"],
            )
        )
    print(render_table(head, body, ["<", *([">"] * 10), "<", "<"]))
    target_ratio = doc["targets"]["as_ratio_on_reference_hello"]
    if hello_rps:
        print(
            f"ratio = sent/s ÷ this run's hello-world. 1,000/s is {1000 / hello_rps:.4f} of this "
            f"run's hello-world, {target_ratio:.4f} of RECIPES.md's reference "
            f"({REFERENCE_HELLO_RPS:,})."
        )
    print()
    print("Where the time goes (medians / p99 of the messages sent):")
    head2 = ("step", "outbox wait", "ledger wait", "wechat call", "sms call", "drain after last")
    body2 = []
    for r in rows:
        calls = r["call_ms_by_channel"]
        body2.append(
            (
                r["step"],
                f"{fmt_ms(r['outbox_wait_ms']['p50'])} / {fmt_ms(r['outbox_wait_ms']['p99'])}",
                f"{fmt_ms(r['ledger_wait_ms']['p50'])} / {fmt_ms(r['ledger_wait_ms']['p99'])}",
                " / ".join(fmt_ms(calls.get("wechat", {}).get(k)) for k in ("p50", "p99")),
                " / ".join(fmt_ms(calls.get("sms", {}).get(k)) for k in ("p50", "p99")),
                f"{r['drain_wait_s']} s",
            )
        )
    print(render_table(head2, body2, ["<", ">", ">", ">", ">", ">"]))
    print()
    print("CPU during each step (production and drain): % of one core, and CPU-ms per message")
    names = [*GROUPS, "producer"]
    head3 = ("step", "wall", *names, "machine busy")
    body3 = []
    for r in rows:
        cpu = r["cpu"]
        if not cpu:
            continue
        cells = [
            f"{cpu['pct_of_one_core'].get(n, 0):.0f}% {cpu['ms_per_message'].get(n, 0):.2f}"
            for n in names
        ]
        busy = cpu.get("machine_busy_pct")
        body3.append((r["step"], f"{cpu['wall_s']:.0f}s", *cells, f"{busy or 0:.0f}%"))
    print(render_table(head3, body3, ["<", ">", *([">"] * len(names)), ">"]))
    peer = doc["peers"]
    print()
    print(
        f"Peers: WeChat delivered {peer['wechat_peer'].get('delivered')} (ledger sent "
        f"{peer['ledger_sent']['wechat']}), refused {peer['wechat_peer'].get('refused')}, "
        f"errors {peer['wechat_peer'].get('errors')}; SMS accepted "
        f"{peer['sms_peer'].get('accepted')} (ledger sent {peer['ledger_sent']['sms']}), "
        f"errors {peer['sms_peer'].get('errors')}; per person: {peer['wechat_people_checked']} "
        f"WeChat inboxes, {peer['wechat_numbers_twice']} case number(s) twice, "
        f"{peer['wechat_people_mismatched']} mismatched; {peer['sms_numbers_sampled']} SMS numbers "
        f"sampled, {peer['sms_out_ids_twice']} OutId(s) twice, {peer['sms_numbers_mismatched']} "
        f"mismatched: {'exactly once' if peer['exactly_once'] else 'NOT exactly once'}."
    )
    for r in rows:
        extra = {k: v for k, v in r["attempts"].items() if ":sent:" not in k}
        if extra or r["events_retried"]:
            print(
                f"{r['step']}: attempts other than sent {extra or 'none'}; outbox events retried "
                f"{r['events_retried']}"
            )
    for prof in doc["profiles"]:
        print()
        print(f"py-spy {prof['file']}: {prof['samples']} samples; self time by package:")
        print("  " + ", ".join(f"{k} {p}%" for k, _, p in prof["self_by_package"][:12]))
        print("  by asyncio task: " + ", ".join(f"{k} {p}%" for k, _, p in prof["by_task"][:6]))
        print("  top functions (self):")
        for name, _, p in prof["self_by_function"][:12]:
            print(f"    {p:5.1f}%  {name[:150]}")
    judged = [r for r in rows if r["verdict"] != "info"]
    print()
    if not judged:
        print("TARGETS: not judged (no step offered 1,000 events a second or more)")
    elif doc["all_targets_met"]:
        print("TARGETS: PASS")
    else:
        print("TARGETS: FAIL (see the table)")


if __name__ == "__main__":
    sys.exit(main())
