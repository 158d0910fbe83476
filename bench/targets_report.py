"""The results table of bench/identity.sh, uploads.sh, cases.sh and payments.sh (the sibling of
bench/wrk_report.py).

    python bench/targets_report.py identity|uploads|cases|payments --raw DIR --out FILE.json \
        [--meta k=v ...]

DIR holds one wrk output per run, ``<endpoint>.<round>.txt``, with optionally ``.load`` (share of
the machine other processes used, from cpuload.py) and ``.cpu`` (CPU-seconds of named process
groups before and after the run, written by lib.sh's wrk_run) next to it. The wrk outputs are
parsed by wrk_report.parse_wrk. For each endpoint the table shows the median over the rounds of
req/s and p99 (and p50 when a target is about it), and the median of the per-round ratio to the
hello-world req/s of the same round (for cases.sh's 16-connection runs: to the hello-world run
at 16 connections). Each run's CPU per request (CPU-seconds of each named group during the run,
from the ``.cpu`` file, divided by the requests wrk counted) is kept in the JSON, and shown in the
table for payments.sh (the server's).

The targets of the identity, materials, cases and payments issues are of five kinds:

* a ratio to the hello-world of the same round (``ratio >= N``), with or without a latency
  limit: the payment callbacks;
* an absolute rate (``req/s >= N``): login, upload intents, case detail, submissions. Absolute
  figures depend on the machine and on everything else running on it: the ratio to hello-world is
  printed beside them;
* latency (``p50 < N ms``, ``p99 < N ms``) at a given number of connections: the case list and
  the staff inboxes. The hello-world's own latency at the same connections is the machine's floor;
* an overhead against another endpoint of the same round (``1 - rps / rps(other)``, median over
  the rounds): the token verification on the item guide;
* none: the hello-world (``reference``) and figures printed for information (``info``).

Exit status: 0 when every run is usable (whether or not the targets are met), 3 when a run is
broken: wrk printed no result, zero requests, connect errors, any non-2xx/3xx response, or the wrk
script printed a ``LUA BROKEN`` line (a login code or upload slot ran out, a sandbox error).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wrk_report import (
    CpuByRun,
    WrkRun,
    add_report_arguments,
    fmt_ms,
    print_table,
    print_verdict,
    read_cpu_seconds,
    read_runs,
    render_table,
    write_report,
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    min_rps: float | None = None
    #: least ratio of req/s to the reference's req/s of the same round
    min_ratio: float | None = None
    max_overhead: float | None = None
    overhead_of: str | None = None
    info: bool = False
    max_p50_ms: float | None = None
    max_p99_ms: float | None = None
    #: the hello-world run the ratio is taken against (same connections)
    reference: str = "hello"


BENCHMARKS: dict[str, tuple[str, list[Endpoint]]] = {
    "identity": (
        "Identity benchmark",
        [
            Endpoint("hello", "hello-world (GET /)"),
            Endpoint("guide", "guide, no token (GET /api/v1/items/<code>)", info=True),
            Endpoint(
                "guide_auth",
                "guide + Bearer token (same URL)",
                max_overhead=0.05,
                overhead_of="guide",
            ),
            Endpoint("login", "login (POST /api/v1/auth/wechat/login)", min_rps=500),
            Endpoint("jscode2session", "sandbox alone (GET …/sns/jscode2session)", info=True),
        ],
    ),
    "uploads": (
        "Upload-intent benchmark",
        [
            Endpoint("hello", "hello-world (GET /)"),
            Endpoint("upload", "upload intent (POST /api/v1/uploads)", min_rps=2000),
        ],
    ),
    "cases": (
        "Case benchmark",
        [
            Endpoint("hello", "hello-world (GET /)"),
            Endpoint("hello_c16", "hello-world, 16 connections", reference="hello_c16"),
            Endpoint(
                "list",
                "citizen list, -c16 (GET /api/v1/cases)",
                max_p50_ms=10,
                max_p99_ms=50,
                reference="hello_c16",
            ),
            Endpoint(
                "inbox_clerk",
                "clerk inbox, -c16 (GET …/staff/inbox)",
                max_p50_ms=10,
                max_p99_ms=50,
                reference="hello_c16",
            ),
            Endpoint(
                "inbox_reviewer",
                "reviewer inbox, -c16 (GET …/staff/inbox)",
                max_p50_ms=10,
                max_p99_ms=50,
                reference="hello_c16",
            ),
            Endpoint("detail", "case detail + timeline (GET /api/v1/cases/{id})", min_rps=2000),
            Endpoint("submit", "submission (POST /api/v1/cases/{id}/submit)", min_rps=300),
        ],
    ),
    "payments": (
        "Payment callback benchmark",
        [
            Endpoint("hello", "hello-world (GET /)"),
            Endpoint(
                "fresh",
                "fresh callback (POST /callbacks/wechatpay)",
                min_ratio=0.03,
                max_p99_ms=100,
            ),
            Endpoint("duplicate", "duplicate callback (same URL, paid)", min_ratio=0.08),
            Endpoint("fresh_c16", "fresh callback, 16 connections", info=True),
        ],
    ),
}

#: Endpoints measured as references (the hello-world at each number of connections).
REFERENCES = frozenset({"hello", "hello_c16"})
#: The hello-world req/s of RECIPES.md's reference run, the machine the issues' figures are for.
REFERENCE_HELLO_RPS = 36500


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def cpu_ms_per_request(raw: Path | None, run: WrkRun) -> dict[str, float]:
    """CPU-milliseconds of each named group per request wrk counted in this run."""
    if raw is None or not run.requests:
        return {}
    _, used = read_cpu_seconds(raw / f"{run.endpoint}.{run.round}.cpu")
    return {name: round(1000 * seconds / run.requests, 3) for name, seconds in used.items()}


def summarise(
    runs: dict[str, list[WrkRun]],
    cpu: CpuByRun,
    endpoints: list[Endpoint],
    raw: Path | None = None,
) -> list[dict[str, Any]]:
    rps_by_round = {name: {r.round: r.rps for r in found} for name, found in runs.items()}
    rows: list[dict[str, Any]] = []
    for ep in endpoints:
        found = sorted(runs.get(ep.name, []), key=lambda r: r.round)
        if not found:
            continue
        hello_by_round = rps_by_round.get(ep.reference, {})
        rps = statistics.median(r.rps for r in found)
        p50 = statistics.median(r.p50_ms for r in found)
        p99 = statistics.median(r.p99_ms for r in found)
        ratios = [r.rps / hello_by_round[r.round] for r in found if hello_by_round.get(r.round)]
        ratio = _median(ratios)
        overheads: list[float] = []
        if ep.overhead_of:
            other = rps_by_round.get(ep.overhead_of, {})
            overheads = [1 - r.rps / other[r.round] for r in found if other.get(r.round)]
        overhead = _median(overheads)
        target, measured_ok = "-", None
        verdict = "reference" if ep.name in REFERENCES else "info"
        if ep.min_ratio is not None or ep.max_p50_ms is not None or ep.max_p99_ms is not None:
            checks = [
                (name, limit, value)
                for name, limit, value in (("p50", ep.max_p50_ms, p50), ("p99", ep.max_p99_ms, p99))
                if limit is not None
            ]
            parts = [f"{name} < {limit:g} ms" for name, limit, _ in checks]
            missed = [name for name, limit, value in checks if value >= limit]
            if ep.min_ratio is not None:
                parts.insert(0, f"ratio >= {ep.min_ratio:g}")
                if ratio is None or ratio < ep.min_ratio:
                    missed.insert(0, "ratio")
            target = " and ".join(parts)
            measured_ok = not missed
            verdict = "PASS" if measured_ok else f"FAIL ({', '.join(missed)})"
        elif ep.min_rps is not None:
            target = f"req/s >= {ep.min_rps:,.0f}"
            measured_ok = rps >= ep.min_rps
            verdict = "PASS" if measured_ok else "FAIL (req/s)"
        elif ep.max_overhead is not None:
            target = f"overhead < {ep.max_overhead:.0%} vs {ep.overhead_of}"
            measured_ok = overhead is not None and overhead < ep.max_overhead
            shown = f"overhead {overhead:.1%}" if overhead is not None else "no overhead figure"
            verdict = f"{'PASS' if measured_ok else 'FAIL'} ({shown})"
        cpu_medians = {
            name: _median(
                [
                    cpu[(ep.name, r.round)][name]
                    for r in found
                    if name in cpu.get((ep.name, r.round), {})
                ]
            )
            for name in sorted({n for r in found for n in cpu.get((ep.name, r.round), {})})
        }
        per_request = [cpu_ms_per_request(raw, r) for r in found]
        cpu_ms_medians = {
            name: round(statistics.median(pr[name] for pr in per_request if name in pr), 3)
            for name in sorted({n for pr in per_request for n in pr})
        }
        rows.append(
            {
                "endpoint": ep.name,
                "label": ep.label,
                "rps_median": round(rps, 2),
                "p50_ms_median": round(p50, 3),
                "p99_ms_median": round(p99, 3),
                "p50_ms_per_round": [round(r.p50_ms, 3) for r in found],
                "ratio_to": ep.reference,
                "ratio_to_hello_median": round(ratio, 4) if ratio is not None else None,
                "ratio_per_round": [round(x, 4) for x in ratios],
                "rps_per_round": [r.rps for r in found],
                "p99_ms_per_round": [round(r.p99_ms, 3) for r in found],
                "overhead_vs": ep.overhead_of,
                "overhead_median": round(overhead, 4) if overhead is not None else None,
                "overhead_per_round": [round(x, 4) for x in overheads],
                "cpu_pct_of_one_core_median": cpu_medians,
                "cpu_ms_per_request_median": cpu_ms_medians,
                "cpu_ms_per_request_per_round": per_request,
                "target": target,
                "target_min_rps": ep.min_rps,
                "target_min_ratio": ep.min_ratio,
                "target_max_overhead": ep.max_overhead,
                "target_max_p50_ms": ep.max_p50_ms,
                "target_max_p99_ms": ep.max_p99_ms,
                "target_ok": measured_ok,
                "verdict": verdict,
            }
        )
    return rows


def table(
    rows: list[dict[str, Any]],
    *,
    p50: bool = False,
    cpu_of: str | None = None,
    ratio_digits: int = 2,
) -> str:
    """The Markdown table; a p50 column when a target is about it (or ``p50``), and a column of
    CPU-milliseconds per request when ``cpu_of`` names the group measured (the hello-world rows
    show the hello-world server's own, the ``hello`` group)."""
    with_p50 = p50 or any(row.get("target_max_p50_ms") is not None for row in rows)
    head: tuple[str, ...] = (
        "endpoint",
        "req/s",
        *(("p50",) if with_p50 else ()),
        "p99",
        "ratio to hello",
        *(("CPU/req",) if cpu_of else ()),
        "target",
        "result",
    )
    body = []
    for row in rows:
        ratio = row["ratio_to_hello_median"]
        group = "hello" if row["endpoint"] in REFERENCES else cpu_of
        cpu_ms = row["cpu_ms_per_request_median"].get(group) if group else None
        shown_ratio = f"{ratio:.{ratio_digits}f}" if ratio else "-"
        cells: tuple[str, ...] = (
            row["label"],
            f"{row['rps_median']:,.0f}",
            *((fmt_ms(row["p50_ms_median"]),) if with_p50 else ()),
            fmt_ms(row["p99_ms_median"]),
            "1.00" if row["endpoint"] in REFERENCES else shown_ratio,
            *((f"{cpu_ms:.2f} ms" if cpu_ms is not None else "-",) if cpu_of else ()),
            row["target"],
            row["verdict"],
        )
        body.append(cells)
    right = [">"] * (3 + with_p50 + bool(cpu_of))  # req/s, [p50], p99, ratio, [CPU]
    return render_table(head, body, ["<", *right, "<", "<"])


def identity_notes(rows: dict[str, dict[str, Any]]) -> list[str]:
    """Which side limits login: the sandbox (one process) or our server."""
    notes: list[str] = []
    auth = rows.get("guide_auth")
    if auth and auth["overhead_per_round"]:
        notes.append(
            "Token verification: overhead = 1 - (guide + token) / (guide, no token) req/s of the "
            f"same round: median {auth['overhead_median']:.1%}, per round "
            + ", ".join(f"{x:.1%}" for x in auth["overhead_per_round"])
            + ". A negative figure means the difference is below the noise."
        )
        spread = max(auth["overhead_per_round"]) - min(auth["overhead_per_round"])
        limit = auth["target_max_overhead"]
        if len(auth["overhead_per_round"]) < 3 or (limit is not None and spread > limit):
            notes[-1] += (
                f" CAUTION: {len(auth['overhead_per_round'])} round(s), spread {spread:.1%}: "
                "adjacent wrk runs of one URL differ by several per cent here, so this verdict is "
                "not settled; run more rounds (ROUNDS=5 or more) on a quiet machine."
            )
    login, alone = rows.get("login"), rows.get("jscode2session")
    if not (login and alone):
        return notes
    share = login["rps_median"] / alone["rps_median"] if alone["rps_median"] else 0.0
    sandbox_cpu = login["cpu_pct_of_one_core_median"].get("sandbox")
    server_cpu = login["cpu_pct_of_one_core_median"].get("server")
    alone_cpu = alone["cpu_pct_of_one_core_median"].get("sandbox")
    parts = [
        f"Login vs the sandbox: login {login['rps_median']:,.0f} req/s; the sandbox alone answers "
        f"{alone['rps_median']:,.0f} jscode2session/s, so login uses {share:.0%} of its capacity."
    ]
    if sandbox_cpu is not None and server_cpu is not None:
        parts.append(
            f"During the login runs the sandbox process used {sandbox_cpu:.0f}% of one core "
            f"(alone: {alone_cpu:.0f}%) and the server's workers {server_cpu:.0f}% "
            f"(2 workers: at most 200%)."
        )
    busy_sandbox = bool(sandbox_cpu is not None and alone_cpu and sandbox_cpu >= 0.8 * alone_cpu)
    saturated = share >= 0.8 or busy_sandbox
    parts.append(
        "=> the sandbox is at or near its own limit: login's figure is bounded by the peer "
        "(a single process), not only by our server."
        if saturated
        else "=> the sandbox has spare capacity: our server's side (the login handler, its "
        "WeChat adapter, PostgreSQL, Redis) is what limits login."
    )
    notes.append(" ".join(parts))
    return notes


def cases_notes(rows: dict[str, dict[str, Any]]) -> list[str]:
    """The latency floor of the machine, and what the absolute targets mean in ratios."""
    notes: list[str] = []
    floor = rows.get("hello_c16")
    latency_rows = [r for r in rows.values() if r.get("target_max_p99_ms") is not None]
    if floor and latency_rows:
        p50_limit = min(r["target_max_p50_ms"] or float("inf") for r in latency_rows)
        p99_limit = min(r["target_max_p99_ms"] for r in latency_rows)
        notes.append(
            f"Latency runs use 16 connections; the hello-world at 16 connections answers in p50 "
            f"{fmt_ms(floor['p50_ms_median'])}, p99 {fmt_ms(floor['p99_ms_median'])}: the floor "
            "of this machine with wrk on the same cores. Their ratio column is to that run."
        )
        if floor["p50_ms_median"] >= p50_limit or floor["p99_ms_median"] >= p99_limit:
            notes.append(
                "NOTE: the hello-world itself misses the latency targets in this run: the "
                "latency verdicts say more about the machine than about the endpoints."
            )
    hello = rows.get("hello")
    absolute = [r for r in rows.values() if r.get("target_min_rps")]
    if hello and absolute and hello["rps_median"]:
        parts = [
            f"{r['endpoint']} {r['target_min_rps']:,.0f} req/s = ratio "
            f"{r['target_min_rps'] / hello['rps_median']:.3f}"
            for r in absolute
        ]
        notes.append(
            f"Against this run's hello-world ({hello['rps_median']:,.0f} req/s) the absolute "
            f"targets are: {'; '.join(parts)} (on RECIPES.md's reference run of "
            f"{REFERENCE_HELLO_RPS:,} req/s: "
            + "; ".join(
                f"{r['endpoint']} {r['target_min_rps'] / REFERENCE_HELLO_RPS:.3f}" for r in absolute
            )
            + ")."
        )
    if hello and latency_rows and hello["rps_median"]:
        # At a fixed number of connections a server that is busy all the time answers in about
        # connections / throughput (Little's law), so a p50 scales with the machine as req/s do.
        scale = hello["rps_median"] / REFERENCE_HELLO_RPS
        parts = [
            f"{r['endpoint']} {fmt_ms(r['p50_ms_median'] * scale)}"
            for r in latency_rows
            if r.get("target_max_p50_ms") is not None
        ]
        notes.append(
            "Scaled to the reference run's hello-world (p50 × this run's hello-world / "
            f"{REFERENCE_HELLO_RPS:,}: latency at 16 connections follows throughput), the p50s "
            f"are: {'; '.join(parts)}. The table's verdicts are on this machine's own figures."
        )
    return notes


def payments_notes(rows: dict[str, dict[str, Any]], connections: int = 64) -> list[str]:
    """What the latency target means at this concurrency, and the CPU each callback costs."""
    notes: list[str] = []
    hello, fresh, dup = rows.get("hello"), rows.get("fresh"), rows.get("duplicate")
    if fresh and fresh.get("target_max_p99_ms") and hello and hello["rps_median"]:
        limit = fresh["target_max_p99_ms"]
        floor = connections * 1000 / limit
        notes.append(
            f"Latency: wrk keeps {connections} connections busy, so by Little's law the mean "
            f"latency is {connections} / req/s: a p99 under {limit:g} ms needs well over "
            f"{floor:,.0f} callbacks a "
            f"second, a ratio of {floor / hello['rps_median']:.3f} to this run's hello-world "
            f"(whose own p99 is {fmt_ms(hello['p99_ms_median'])})."
        )
        c16 = rows.get("fresh_c16")
        if c16:
            notes[-1] += (
                f" At 16 connections fresh callbacks answer in p50 {fmt_ms(c16['p50_ms_median'])}, "
                f"p99 {fmt_ms(c16['p99_ms_median'])} ({c16['rps_median']:,.0f} req/s)."
            )
        scale = hello["rps_median"] / REFERENCE_HELLO_RPS
        targets = "; ".join(
            f"{row['endpoint']} {row['target_min_ratio'] * REFERENCE_HELLO_RPS:,.0f} req/s"
            for row in (fresh, dup)
            if row and row.get("target_min_ratio")
        )
        notes.append(
            f"On RECIPES.md's reference run ({REFERENCE_HELLO_RPS:,} req/s of hello-world) the "
            f"ratio targets are {targets}; this run's hello-world was {scale:.0%} of it. Fresh "
            f"p99 scaled the same way (p99 × {scale:.2f}, latency at a fixed number of "
            f"connections follows throughput): {fmt_ms(fresh['p99_ms_median'] * scale)}."
        )
    parts = []
    for row in (hello, fresh, dup, rows.get("fresh_c16")):
        if not row or not row["cpu_ms_per_request_median"]:
            continue
        ms = row["cpu_ms_per_request_median"]
        own = ms.get("hello") if row["endpoint"] == "hello" else ms.get("server")
        if own is None:
            continue
        text = f"{row['endpoint']} {own:.2f} ms"
        if row["endpoint"] != "hello":
            pg, redis = ms.get("postgres", 0.0), ms.get("redis", 0.0)
            text += (
                f" (+ PostgreSQL {pg:.2f} ms, Redis {redis:.2f} ms; two cores would serve at "
                f"most {2000 / own:,.0f}/s on the server's CPU alone, "
                f"{2000 / (own + pg + redis):,.0f}/s with the databases')"
            )
        parts.append(text)
    if parts:
        notes.append(
            "CPU per request (CPU-seconds of the processes during the run ÷ requests wrk counted, "
            "median over the rounds; the server's two workers and main process, hello-world's "
            "for hello): " + "; ".join(parts) + "."
        )
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS))
    args = add_report_arguments(parser).parse_args(argv)

    title, endpoints = BENCHMARKS[args.benchmark]
    runs, cpu, broken, warnings = read_runs(args.raw, (e.name for e in endpoints))
    rows = summarise(runs, cpu, endpoints, args.raw)
    by_name = {row["endpoint"]: row for row in rows}
    meta = dict(item.split("=", 1) for item in args.meta if "=" in item)
    connections = re.search(r"-c(\d+)", meta.get("wrk", ""))
    notes = {
        "identity": identity_notes,
        "cases": cases_notes,
        "payments": lambda found: payments_notes(
            found, int(connections.group(1)) if connections else 64
        ),
    }.get(args.benchmark, lambda _rows: [])(by_name)
    judged = [r for r in rows if r["target_ok"] is not None]
    failed = [r["endpoint"] for r in judged if not r["target_ok"]]
    runs_json = [
        {**asdict(r), "cpu_pct_of_one_core": cpu.get((r.endpoint, r.round), {})}
        for found in runs.values()
        for r in found
    ]
    write_report(args, args.benchmark, rows, runs, runs_json, warnings, broken, not failed, notes)

    if args.benchmark == "payments":
        print_table(title, runs, table(rows, p50=True, cpu_of="server", ratio_digits=3))
    else:
        print_table(title, runs, table(rows))
    if any(r["target_min_rps"] for r in rows):
        print(
            "req/s targets are absolute: on this machine wrk, the servers, PostgreSQL and Redis "
            "share the same cores, so they read low here; the ratio to hello-world is the "
            "figure to compare across machines and days."
        )
    for note in notes:
        print()
        print(note)
    print()
    return print_verdict(failed, bool(judged), warnings, broken, args.out)


if __name__ == "__main__":
    sys.exit(main())
