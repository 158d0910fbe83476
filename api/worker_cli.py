"""``zhangban worker`` and ``zhangban outbox …``: the outbox worker process and its dead letters.

Part of the console command: what a sub-command needs is imported when it runs (``# deferred``),
as in ``api.cli``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

from core.clock import utcnow
from core.paging import PageRequest
from core.settings import Settings

log = logging.getLogger("zhangban.worker")


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Deliver outbox events and run the scheduled jobs until SIGTERM/SIGINT (or, with
    ``--once``, until nothing is due)."""
    from api.wiring import WorkerDeps, build_worker, close_resources, open_resources  # deferred
    from core.logging import configure_logging  # deferred
    from core.worker import run_worker  # deferred

    # --once prints its report on stdout: its log lines go to stderr then.
    configure_logging(settings.log_level, stream=sys.stderr if args.once else None)
    if settings.is_embedded and not settings.redis_url and settings.worker_runs_in_process:
        log.warning(
            "the embedded server runs its own worker; without ZB_REDIS_URL the two cannot share "
            "the scheduled jobs' lock: stop one of them, or set ZB_WORKER_IN_PROCESS=false"
        )

    async def run() -> int:
        resources = await open_resources(settings)
        try:
            worker = build_worker(WorkerDeps.of(resources))
            if args.once:
                settled = 0
                while batch := await worker.run_once():
                    settled += batch
                jobs = await worker.run_due_jobs()
                print(json.dumps({"events_settled": settled, "jobs_run": jobs}))
            else:
                await run_worker(worker, handle_signals=True)
        finally:
            await close_resources(resources)
        return 0

    return asyncio.run(run())


def cmd_outbox_list(settings: Settings, args: argparse.Namespace) -> int:
    from api.wiring import run_with_db  # deferred
    from core import outbox  # deferred

    async def work() -> Any:
        return await outbox.list_events(
            status=args.status,
            topic=args.topic,
            page_request=PageRequest(
                cursor=args.cursor, limit=args.limit, secret=settings.secret_key
            ),
        )

    print(json.dumps(run_with_db(settings, work), ensure_ascii=False, indent=2))
    return 0


def cmd_outbox_replay(settings: Settings, args: argparse.Namespace) -> int:
    from api.wiring import run_with_db  # deferred
    from core import outbox  # deferred

    async def work() -> Any:
        return await outbox.replay(event_id=args.id, actor="cli", now=utcnow())

    print(json.dumps(run_with_db(settings, work), ensure_ascii=False, indent=2))
    return 0


def add_worker_commands(sub: Any) -> None:
    worker = sub.add_parser(
        "worker", help="deliver outbox events and run the scheduled jobs (several may run)"
    )
    worker.add_argument(
        "--once", action="store_true", help="settle what is due now, run due jobs, and exit"
    )
    worker.set_defaults(handler=cmd_worker)

    box = sub.add_parser("outbox", help="the outbox: dead letters and replay").add_subparsers(
        dest="outbox_command", required=True
    )
    for name, status, text in (
        ("dead", "dead", "list dead events (newest first)"),
        ("list", None, "list events of any status (newest first)"),
    ):
        listing = box.add_parser(name, help=text)
        if status is None:
            listing.add_argument("--status", choices=("pending", "delivered", "dead"))
        listing.add_argument("--topic")
        listing.add_argument("--limit", type=int, default=50)
        listing.add_argument("--cursor", help="next_cursor of the previous page")
        listing.set_defaults(handler=cmd_outbox_list, **({"status": status} if status else {}))
    replay = box.add_parser(
        "replay", help="put a dead event back in line; handlers that succeeded are not rerun"
    )
    replay.add_argument("id", type=int)
    replay.set_defaults(handler=cmd_outbox_replay)
