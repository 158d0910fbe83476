"""CPU accounting for the bench/*.sh benchmarks: how much of the machine went to processes not ours.

    python bench/cpuload.py snapshot --pgid 123 --tree 789 --pid 1011 --waited 1213
        prints "<machine busy> <machine total> <ours>" in CPU-seconds, cumulative; the share of
        the machine others used between two snapshots is (d busy - d ours) / d total
    python bench/cpuload.py busy [--seconds 1]
        prints the machine's busy percentage over that many seconds
    python bench/cpuload.py wait-quiet --max-seconds 120 [--below 15]
        waits until the machine is less than --below % busy (or the time is up); prints the last %
    python bench/cpuload.py wait-settled --pgid 123 --max-seconds 60
        waits until the process group has used under 10 % of a core for three half-seconds in a
        row (a server's workers have finished starting); exit status 1 if the time is up first

"Ours" is every process in the given process groups (--pgid), the given processes and all their
descendants (--tree), single processes (--pid), and the children that the --waited processes have
already waited for (their cutime + cstime: e.g. wrk, run by the benchmark script). Linux only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU-seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / _TICK, total / _TICK


def processes() -> dict[int, tuple[int, int, float]]:
    """pid -> (ppid, pgid, cpu-seconds used by the process itself)."""
    found: dict[int, tuple[int, int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is field 3 of stat: state, ppid, pgrp, ..., utime (14), stime (15)
        cpu_s = (int(fields[11]) + int(fields[12])) / _TICK
        found[int(entry)] = (int(fields[1]), int(fields[2]), cpu_s)
    return found


def waited_children_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / _TICK  # cutime (16), cstime (17)


def ours_s(pgids: set[int], trees: set[int], pids: set[int]) -> float:
    procs = processes()
    mine = {pid for pid, (_, pgid, _) in procs.items() if pgid in pgids}
    mine |= {pid for pid in pids | trees if pid in procs}
    frontier = {pid for pid in trees if pid in procs}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    while frontier:
        nxt = {child for pid in frontier for child in children.get(pid, ())} - mine
        mine |= nxt
        frontier = nxt
    return sum(procs[pid][2] for pid in mine)


def busy_pct(seconds: float) -> int:
    b0, t0 = machine_busy_s()
    time.sleep(seconds)
    b1, t1 = machine_busy_s()
    return round(100 * (b1 - b0) / max(t1 - t0, 1e-9))


def settled(pgid: int, max_seconds: float) -> bool:
    """Whether the process group went (nearly) idle before max_seconds were up."""
    quiet, deadline = 0, time.monotonic() + max_seconds
    last = ours_s({pgid}, set(), set())
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = ours_s({pgid}, set(), set())
        quiet = quiet + 1 if now - last <= 0.05 else 0  # under 10% of a core for 0.5 s
        last = now
        if quiet >= 3:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    snap = sub.add_parser("snapshot")
    snap.add_argument("--pgid", type=int, action="append", default=[])
    snap.add_argument("--tree", type=int, action="append", default=[])
    snap.add_argument("--pid", type=int, action="append", default=[])
    snap.add_argument("--waited", type=int, action="append", default=[])
    busy = sub.add_parser("busy")
    busy.add_argument("--seconds", type=float, default=1.0)
    quiet = sub.add_parser("wait-quiet")
    quiet.add_argument("--max-seconds", type=float, required=True)
    quiet.add_argument("--below", type=int, default=15)
    settle = sub.add_parser("wait-settled")
    settle.add_argument("--pgid", type=int, required=True)
    settle.add_argument("--max-seconds", type=float, required=True)
    args = parser.parse_args(argv)

    if args.cmd == "snapshot":
        busy_s, total_s = machine_busy_s()
        ours = ours_s(set(args.pgid), set(args.tree), set(args.pid))
        ours += sum(waited_children_s(pid) for pid in args.waited)
        print(f"{busy_s:.2f} {total_s:.2f} {ours:.2f}")
    elif args.cmd == "busy":
        print(busy_pct(args.seconds))
    elif args.cmd == "wait-settled":
        return 0 if settled(args.pgid, args.max_seconds) else 1
    else:
        deadline = time.monotonic() + args.max_seconds
        pct = busy_pct(1.0)
        while pct >= args.below and time.monotonic() < deadline:
            pct = busy_pct(2.0)
        print(pct)
    return 0


if __name__ == "__main__":
    sys.exit(main())
