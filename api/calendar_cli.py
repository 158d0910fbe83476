"""``zhangban calendar``: enter the State Council's holiday notice, and look at a year.

Running servers pick a change up within a minute (each worker re-reads the overrides at most
every 60 s); nothing needs restarting.

Part of the console command: what a sub-command needs is imported when it runs (``# deferred``),
as in ``api.cli``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from core.clock import utcnow
from core.settings import Settings

_WEEKDAYS = "一二三四五六日"


def cmd_calendar_set(settings: Settings, args: argparse.Namespace) -> int:
    from api.wiring import run_with_db  # deferred
    from core import calendar  # deferred

    day = calendar.parse_day(args.date)

    async def work() -> Any:
        return await calendar.set_override(
            day=day, is_workday=args.workday, note=args.note, actor="cli", now=utcnow()
        )

    print(json.dumps(run_with_db(settings, work), ensure_ascii=False))
    return 0


def cmd_calendar_unset(settings: Settings, args: argparse.Namespace) -> int:
    from api.wiring import run_with_db  # deferred
    from core import calendar  # deferred

    day = calendar.parse_day(args.date)

    async def work() -> Any:
        return await calendar.delete_override(day=day, actor="cli")

    print(json.dumps(run_with_db(settings, work), ensure_ascii=False))
    return 0


def cmd_calendar_show(settings: Settings, args: argparse.Namespace) -> int:
    from api.wiring import run_with_db  # deferred
    from core import calendar  # deferred

    calendar.check_year(args.year)

    async def work() -> Any:
        return await calendar.year_overview(year=args.year)

    overview = run_with_db(settings, work)
    if args.json:
        print(json.dumps(overview, ensure_ascii=False, indent=2))
        return 0
    print(
        f"{overview['year']}: {overview['working_days']} working days, "
        f"{overview['non_working_days']} days off; base: {overview['base']}, "
        f"overrides: {overview['overrides']}"
    )
    if not overview["covered"]:
        print(
            "warning: no official data for this year: weekdays minus the statutory holidays, "
            "without make-up working days, until the notice is entered with `calendar set`"
        )
    # The days that differ from a plain week, and every override: what a notice would list.
    for day in overview["days"]:
        weekend = day["weekday"] >= 6
        if day["source"] != "override" and day["is_workday"] != weekend:
            continue
        status = "上班" if day["is_workday"] else "休息"
        line = f"{day['date']} 周{_WEEKDAYS[day['weekday'] - 1]} {status} {day['source']:<8}"
        extra = " ".join(part for part in (day["holiday"], day["note"]) if part)
        print(f"{line} {extra}".rstrip())
    return 0


def add_calendar_commands(sub: Any) -> None:
    """The ``calendar`` sub-commands, added to the ``zhangban`` parser."""
    cal = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(
        dest="calendar_command", required=True
    )
    put = cal.add_parser("set", help="make a date a working day or a day off (an override)")
    put.add_argument("date", help="YYYY-MM-DD")
    kind = put.add_mutually_exclusive_group(required=True)
    kind.add_argument("--workday", dest="workday", action="store_true", help="调休上班")
    kind.add_argument("--holiday", dest="workday", action="store_false", help="放假")
    put.add_argument("--note", default="", help="why, e.g. the notice's number")
    put.set_defaults(handler=cmd_calendar_set)
    unset = cal.add_parser("unset", help="remove a date's override")
    unset.add_argument("date", help="YYYY-MM-DD")
    unset.set_defaults(handler=cmd_calendar_unset)
    show = cal.add_parser("show", help="a year's days off and make-up working days")
    show.add_argument("year", type=int)
    show.add_argument("--json", action="store_true", help="every day, as JSON")
    show.set_defaults(handler=cmd_calendar_show)
