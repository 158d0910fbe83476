"""Turn the raw wrk outputs of bench/catalog.sh into the results table and a JSON file.

    python bench/wrk_report.py --raw DIR --out bench/results/catalog-<ts>.json [--meta k=v ...]

DIR holds one file per wrk run, named ``<endpoint>.<round>.txt`` (endpoints: hello, guide,
search). For each endpoint the table shows the median over the rounds of req/s and of p99, and
the median over the rounds of the ratio to the hello-world req/s *of the same round*.

Also what bench/targets_report.py (the other benchmarks' report) shares with this one: reading
and checking the runs (``read_runs``), the table's layout, the JSON document and the verdicts.

Exit status: 0 when every run is usable (whether or not the targets are met), 3 when a run is
broken: wrk printed no result, zero requests, connect errors, or any non-2xx/3xx response.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Endpoint -> (minimum ratio to hello-world req/s, maximum p99 in ms); None = no target.
TARGETS: dict[str, tuple[float | None, float | None]] = {
    "hello": (None, None),
    "guide": (0.50, 20.0),
    "search": (0.25, 20.0),
}
LABELS = {
    "hello": "hello-world (GET /)",
    "guide": "guide (GET /api/v1/items/<code>)",
    "search": "search (GET /api/v1/items?...)",
}

#: Above this share of the CPU taken by other processes during a run, the run is flagged.
OTHER_CPU_WARN_PCT = 10.0

#: wrk prints durations with these units (see wrk's units.c: us, ms, s, m, h).
_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_TIME = r"([0-9.]+)(us|ms|s|m|h)"


class WrkParseError(ValueError):
    pass


def to_ms(value: str, unit: str) -> float:
    return float(value) * _TIME_UNITS_MS[unit]


@dataclass
class WrkRun:
    endpoint: str
    round: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    #: Share of the machine (all cores, %) used during the run by processes outside the benchmark.
    other_cpu_pct: float | None = None


def parse_wrk(text: str, endpoint: str, round_no: int) -> WrkRun:
    """The figures of one ``wrk --latency`` output; raises WrkParseError if it has none."""
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)\s*$", text, re.M)
    total = re.search(r"^\s*(\d+) requests in " + _TIME, text, re.M)
    p50 = re.search(r"^\s*50(?:\.000)?%\s+" + _TIME + r"\s*$", text, re.M)
    p99 = re.search(r"^\s*99(?:\.000)?%\s+" + _TIME + r"\s*$", text, re.M)
    latency = re.search(r"^\s*Latency\s+" + _TIME + r"\s+" + _TIME + r"\s+" + _TIME, text, re.M)
    missing = [
        name
        for name, match in (
            ("Requests/sec", rps),
            ("requests in", total),
            ("50%", p50),
            ("99%", p99),
            ("Latency", latency),
        )
        if match is None
    ]
    if missing:
        raise WrkParseError(f"{endpoint} round {round_no}: no {', '.join(missing)} in wrk output")
    assert rps and total and p50 and p99 and latency
    non_2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", text, re.M)
    sock = re.search(
        r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text, re.M
    )
    return WrkRun(
        endpoint=endpoint,
        round=round_no,
        requests=int(total.group(1)),
        seconds=to_ms(total.group(2), total.group(3)) / 1000.0,
        rps=float(rps.group(1)),
        p50_ms=to_ms(p50.group(1), p50.group(2)),
        p99_ms=to_ms(p99.group(1), p99.group(2)),
        max_ms=to_ms(latency.group(5), latency.group(6)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=(
            dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups()), strict=True))
            if sock
            else {}
        ),
    )


def fmt_ms(ms: float) -> str:
    return f"{ms:.2f} ms" if ms < 100 else f"{ms:.0f} ms"


def other_cpu_summary(loads: list[float]) -> dict[str, float | None]:
    """How busy the rest of the machine was during the measured runs."""
    return {
        "mean": round(statistics.mean(loads), 1) if loads else None,
        "max": max(loads) if loads else None,
    }


def print_other_cpu(loads: list[float]) -> None:
    if loads:
        print(
            f"Other processes on the machine during the measured runs: "
            f"{statistics.mean(loads):.0f}% of the CPU on average, {max(loads):.0f}% at most."
        )


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def check_run(run: Any, where: str, broken: list[str], warnings: list[str]) -> None:
    """What makes one wrk run unusable (broken) or doubtful (warnings)."""
    if run.other_cpu_pct is not None and run.other_cpu_pct > OTHER_CPU_WARN_PCT:
        warnings.append(
            f"{where}: other processes used {run.other_cpu_pct:.0f}% of the CPU; "
            "this round is skewed"
        )
    if run.requests == 0:
        broken.append(f"{where}: zero requests completed")
    if run.non_2xx_3xx:
        broken.append(f"{where}: {run.non_2xx_3xx} non-2xx/3xx responses")
    if run.socket_errors.get("connect"):
        broken.append(f"{where}: {run.socket_errors['connect']} connect errors")
    others = {k: v for k, v in run.socket_errors.items() if k != "connect" and v}
    if others:
        warnings.append(f"{where}: socket errors {others}")


def check_rounds(runs: dict[str, list[Any]], broken: list[str], warnings: list[str]) -> None:
    """Every endpoint measured, in the same rounds."""
    for endpoint, found in runs.items():
        if not found:
            broken.append(f"{endpoint}: no usable wrk run")
    rounds = {name: {r.round for r in found} for name, found in runs.items()}
    if len({frozenset(rs) for rs in rounds.values()}) > 1:
        warnings.append(f"endpoints have different rounds: {rounds}")


def read_cpu_seconds(path: Path) -> tuple[float, dict[str, float]]:
    """(wall seconds, CPU-seconds of each named group) during the run, from a .cpu file;
    (0.0, {}) if none."""
    if not path.exists():
        return 0.0, {}
    snaps: dict[str, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        label, _, rest = line.partition(" ")
        with contextlib.suppress(ValueError):
            snaps[label] = {k: float(v) for k, v in (p.split("=", 1) for p in rest.split())}
    before, after = snaps.get("before", {}), snaps.get("after", {})
    wall = after.get("wall_s", 0.0) - before.get("wall_s", 0.0)
    if wall <= 0:
        return 0.0, {}
    return wall, {
        name: after[name] - before[name] for name in after if name != "wall_s" and name in before
    }


def read_cpu(path: Path) -> dict[str, float]:
    """% of one core each named group used during the run (from a .cpu file); {} if none."""
    wall, used = read_cpu_seconds(path)
    return {name: round(100 * seconds / wall, 1) for name, seconds in used.items()}


#: CPU of named process groups per (endpoint, round): % of one core (lib.sh's BENCH_CPU_GROUPS).
CpuByRun = dict[tuple[str, int], dict[str, float]]


def read_runs(
    raw: Path, names: Iterable[str]
) -> tuple[dict[str, list[WrkRun]], CpuByRun, list[str], list[str]]:
    """Runs per endpoint, CPU per run, the problems that make the measurement unusable, warnings.

    RAW holds ``<endpoint>.<round>.txt`` (other endpoints are passed over), each with optionally
    ``.load`` (share of the machine other processes used, from cpuload.py) and ``.cpu`` (written
    by lib.sh's wrk_run) next to it. A ``LUA BROKEN:`` line of a wrk script makes the run broken.
    """
    runs: dict[str, list[WrkRun]] = {name: [] for name in names}
    cpu: CpuByRun = {}
    broken: list[str] = []
    warnings: list[str] = []
    for path in sorted(raw.glob("*.txt")):
        match = re.fullmatch(r"(\w+)\.(\d+)\.txt", path.name)
        if not match or match.group(1) not in runs:
            continue
        endpoint, round_no = match.group(1), int(match.group(2))
        where = f"{endpoint} round {round_no}"
        text = path.read_text(errors="replace")
        broken += [
            f"{where}: {line[len('LUA BROKEN:') :].strip()}"
            for line in text.splitlines()
            if line.startswith("LUA BROKEN:")
        ]
        try:
            run = parse_wrk(text, endpoint, round_no)
        except WrkParseError as exc:
            broken.append(str(exc))
            continue
        load = path.with_suffix(".load")
        if load.exists():
            with contextlib.suppress(ValueError):
                run.other_cpu_pct = float(load.read_text().strip())
        cpu[(endpoint, round_no)] = read_cpu(path.with_suffix(".cpu"))
        runs[endpoint].append(run)
        check_run(run, where, broken, warnings)
    check_rounds(runs, broken, warnings)
    return runs, cpu, broken, warnings


def render_table(head: tuple[str, ...], body: Sequence[tuple[str, ...]], aligns: list[str]) -> str:
    """A Markdown table: the header, a rule, a line a row, each column as wide as it needs."""
    widths = [max(len(str(r[i])) for r in [head, *body]) for i in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        padded = (f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), rule, *(line(b) for b in body)])


def add_report_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--raw", type=Path, required=True, help="folder of <endpoint>.<round>.txt")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--meta", action="append", default=[], help="key=value to record")
    return parser


def other_loads(runs: dict[str, list[WrkRun]]) -> list[float]:
    """The share of the machine other processes used, of every run that recorded it."""
    return [
        r.other_cpu_pct for found in runs.values() for r in found if r.other_cpu_pct is not None
    ]


def write_report(
    args: argparse.Namespace,
    benchmark: str,
    rows: list[dict[str, Any]],
    runs: dict[str, list[WrkRun]],
    runs_json: list[dict[str, Any]],
    warnings: list[str],
    broken: list[str],
    targets_met: bool,
    notes: list[str] | None = None,
) -> None:
    """The JSON document of a benchmark (``runs_json``: its runs as recorded)."""
    document: dict[str, Any] = {
        "benchmark": benchmark,
        "meta": dict(item.split("=", 1) for item in args.meta if "=" in item),
        "results": rows,
    }
    if notes is not None:
        document["notes"] = notes
    document |= {
        "runs": runs_json,
        "raw_wrk_output": {
            p.name: p.read_text(errors="replace") for p in sorted(args.raw.glob("*.txt"))
        },
        "other_cpu_pct": other_cpu_summary(other_loads(runs)),
        "warnings": warnings,
        "broken": broken,
        "all_targets_met": targets_met and not broken,
    }
    write_json(args.out, document)


def print_table(title: str, runs: dict[str, list[WrkRun]], table_text: str) -> None:
    """The title, the table and how busy the rest of the machine was."""
    n_rounds = max((len(found) for found in runs.values()), default=0)
    print()
    print(
        f"{title}: medians of {n_rounds} round(s); ratio = median of per-round "
        "req/s / hello-world req/s"
    )
    print(table_text)
    print_other_cpu(other_loads(runs))


def print_verdict(
    failed: list[str], judged: bool, warnings: list[str], broken: list[str], out: Path
) -> int:
    """The verdict on the targets, the warnings and problems; the exit status (3: broken)."""
    if failed:
        print(f"TARGETS: FAIL ({', '.join(failed)} missed; see the table)")
    elif judged:
        print("TARGETS: PASS")
    for warning in warnings:
        print(f"WARNING: {warning}")
    for problem in broken:
        print(f"BROKEN: {problem}", file=sys.stderr)
    print(f"results: {out}")
    return 3 if broken else 0


def summarise(runs: dict[str, list[WrkRun]]) -> list[dict[str, Any]]:
    hello_by_round = {r.round: r.rps for r in runs.get("hello", [])}
    rows: list[dict[str, Any]] = []
    for endpoint, (min_ratio, max_p99) in TARGETS.items():
        found = runs.get(endpoint, [])
        if not found:
            continue
        rps = statistics.median(r.rps for r in found)
        p99 = statistics.median(r.p99_ms for r in found)
        ratios = [r.rps / hello_by_round[r.round] for r in found if hello_by_round.get(r.round)]
        ratio = statistics.median(ratios) if ratios else None
        checks: list[bool] = []
        target_parts: list[str] = []
        if min_ratio is not None:
            target_parts.append(f"ratio >= {min_ratio:.2f}")
            checks.append(ratio is not None and ratio >= min_ratio)
        if max_p99 is not None:
            target_parts.append(f"p99 < {max_p99:g} ms")
            checks.append(p99 < max_p99)
        verdict = "reference" if not checks else ("PASS" if all(checks) else "FAIL")
        rows.append(
            {
                "endpoint": endpoint,
                "label": LABELS[endpoint],
                "rps_median": round(rps, 2),
                "p99_ms_median": round(p99, 3),
                "ratio_to_hello_median": round(ratio, 4) if ratio is not None else None,
                "ratio_per_round": [round(x, 4) for x in ratios],
                "rps_per_round": [r.rps for r in sorted(found, key=lambda r: r.round)],
                "p99_ms_per_round": [
                    round(r.p99_ms, 3) for r in sorted(found, key=lambda r: r.round)
                ],
                "target": " and ".join(target_parts) or "-",
                "target_min_ratio": min_ratio,
                "target_max_p99_ms": max_p99,
                "ratio_ok": None if min_ratio is None else checks[0],
                "p99_ok": None if max_p99 is None else checks[-1],
                "verdict": verdict,
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = ("endpoint", "req/s", "p99", "ratio to hello", "target", "result")
    body = []
    for row in rows:
        ratio = row["ratio_to_hello_median"]
        verdict = row["verdict"]
        if verdict == "FAIL":
            missed = [
                name
                for name, ok in (("ratio", row["ratio_ok"]), ("p99", row["p99_ok"]))
                if ok is False
            ]
            verdict = f"FAIL ({', '.join(missed)})"
        body.append(
            (
                row["label"],
                f"{row['rps_median']:,.0f}",
                fmt_ms(row["p99_ms_median"]),
                "1.00" if row["endpoint"] == "hello" else (f"{ratio:.2f}" if ratio else "-"),
                row["target"],
                verdict,
            )
        )
    return render_table(head, body, ["<", ">", ">", ">", "<", "<"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args = add_report_arguments(parser).parse_args(argv)

    runs, _cpu, broken, warnings = read_runs(args.raw, TARGETS)
    rows = summarise(runs)
    failed = [r["endpoint"] for r in rows if r["verdict"] == "FAIL"]
    runs_json = [asdict(r) for found in runs.values() for r in found]
    write_report(args, "catalog", rows, runs, runs_json, warnings, broken, not failed)

    print_table("Catalogue benchmark", runs, table(rows))
    print()
    hello = next((r for r in rows if r["endpoint"] == "hello"), None)
    p99_targets = [t for _, t in TARGETS.values() if t is not None]
    if hello and p99_targets and hello["p99_ms_median"] >= min(p99_targets):
        print(
            f"NOTE: the hello-world's own p99 is {fmt_ms(hello['p99_ms_median'])}, above the p99 "
            f"target of {min(p99_targets):g} ms: in this run the machine could not meet it even "
            "for an empty handler, so a p99 FAIL here says more about the machine than about "
            "the endpoint."
        )
    return print_verdict(failed, bool(rows), warnings, broken, args.out)


if __name__ == "__main__":
    sys.exit(main())
