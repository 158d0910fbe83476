"""The ``zhangban`` console command: serve, migrate, seed, demo and catalogue maintenance.

What a sub-command needs is imported when it runs (marked ``# deferred``): ``zhangban --help``
or ``zhangban migrate`` loads in a fraction of a second, where the whole application (Sanic,
every context, the composition root) takes seconds. Resources come from the composition root,
``api.wiring``: ``run_with_db`` for a command that needs the database only, ``run_with_resources``
for one that needs more (Redis, the object store, the cipher, the token service).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

from api.calendar_cli import add_calendar_commands
from api.worker_cli import add_worker_commands
from core.clock import utcnow
from core.errors import DomainError
from core.settings import ConfigurationError, Settings, get_settings


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from sanic import Sanic  # deferred
    from sanic.worker.loader import AppLoader  # deferred

    from api.app import create_app  # deferred

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if settings.is_embedded and not settings.redis_url and workers > 1:
        print(
            "the embedded profile keeps Redis in process: run one worker, "
            "or set ZB_REDIS_URL to share a real Redis between workers",
            file=sys.stderr,
        )
        return 2
    # The address given on the command line is the server's address everywhere it is derived:
    # the links phones get (ZB_PUBLIC_BASE_URL's default) and the mounted sandbox peers.
    settings = settings.model_copy(update={"host": host, "port": port, "workers": workers})
    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()
    app.prepare(
        host=host, port=port, workers=workers, access_log=False, single_process=workers == 1
    )
    Sanic.serve(primary=app, app_loader=loader)
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from core.db import migrate  # deferred

    applied = asyncio.run(migrate(settings.effective_database_url))
    print(f"migrations applied: {len(applied)}" + "".join(f"\n  {name}" for name in applied))
    return 0


def cmd_makemigrations(settings: Settings, args: argparse.Namespace) -> int:
    from core.db import make_migrations  # deferred

    result = asyncio.run(
        make_migrations(args.database_url or settings.effective_database_url, args.name)
    )
    print(f"migration: {result or 'no changes'}")
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from api.wiring import run_with_db  # deferred
    from catalog import service as catalog  # deferred

    async def work() -> Any:
        return await catalog.seed_demo(cache=None, now=utcnow())

    report = run_with_db(settings, work)
    print(
        "demo catalogue: already present, left as it is"
        if report is None
        else f"demo catalogue seeded: {json.dumps(report, ensure_ascii=False)}"
    )
    return 0


def cmd_catalog_import(settings: Settings, args: argparse.Namespace) -> int:
    from api.wiring import Resources, run_with_resources  # deferred
    from catalog import service as catalog  # deferred

    document = catalog.load_catalog_file(Path(args.file))

    async def work(resources: Resources) -> Any:
        # The shared cache, so an import from the command line invalidates what servers cached;
        # the in-process stand-in of a server without ZB_REDIS_URL is not reachable from here.
        cache = resources.catalog_cache if settings.redis_url else None
        return await catalog.import_catalog(
            document=document, publish_items=not args.draft, actor="cli", cache=cache, now=utcnow()
        )

    report = run_with_resources(settings, work)
    print(json.dumps(report, ensure_ascii=False))
    return 0


def cmd_catalog_export(settings: Settings, args: argparse.Namespace) -> int:
    import yaml  # deferred

    from api.wiring import run_with_db  # deferred
    from catalog import service as catalog  # deferred

    document = run_with_db(settings, catalog.export_catalog)
    if args.format == "json":
        text = json.dumps(document, ensure_ascii=False, indent=2)
    else:
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def cmd_staff_create(settings: Settings, args: argparse.Namespace) -> int:
    """Bootstrap staff accounts (the first admin of a department has no one to create them)."""
    from api.wiring import Resources, run_with_resources  # deferred
    from auth import staff as staff_accounts  # deferred
    from catalog import service as catalog  # deferred
    from core.clock import utcnow  # deferred

    async def work(resources: Resources) -> Any:
        await catalog.get_department(code=args.department)
        return await staff_accounts.create_staff(
            cipher=resources.auth.cipher,
            username=args.username,
            name=args.name,
            department_code=args.department,
            roles=[r.strip() for r in args.roles.split(",") if r.strip()],
            created_by="cli",
            now=utcnow(),
        )

    result = run_with_resources(settings, work)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print("hand the bind_code to the staff member; it works once, for 24 hours", file=sys.stderr)
    return 0


def cmd_staff_bind_code(settings: Settings, args: argparse.Namespace) -> int:
    from api.wiring import Resources, run_with_resources  # deferred
    from auth import staff as staff_accounts  # deferred
    from core.clock import utcnow  # deferred

    async def work(resources: Resources) -> Any:
        staff = await _staff_by_username(args.username)
        return await staff_accounts.new_bind_code(
            cipher=resources.auth.cipher, admin=None, staff_id=staff.id, now=utcnow()
        )

    print(json.dumps(run_with_resources(settings, work), ensure_ascii=False))
    return 0


async def _staff_by_username(username: str) -> Any:
    from auth.errors import StaffNotFound  # deferred
    from auth.models import Staff  # deferred

    staff = await Staff.get_or_none(username=username)
    if staff is None:
        raise StaffNotFound()
    return staff


def cmd_staff_roles(settings: Settings, args: argparse.Namespace) -> int:
    """Replace an account's roles: the only way to change those of a supervisor or an admin."""
    from api.wiring import run_with_db  # deferred
    from auth import staff as staff_accounts  # deferred

    async def work() -> Any:
        staff = await _staff_by_username(args.username)
        roles = [r.strip() for r in args.roles.split(",") if r.strip()]
        return await staff_accounts.set_staff_roles(admin=None, staff_id=staff.id, roles=roles)

    print(json.dumps(run_with_db(settings, work), ensure_ascii=False))
    return 0


def cmd_staff_active(settings: Settings, args: argparse.Namespace) -> int:
    """Deactivate or reactivate an account (any, supervisors and admins included). Running
    servers refuse a deactivated account within ``ZB_REVOCATION_CHECK_S``: every staff request
    reads the account's standing; its sessions are also revoked where Redis is shared."""
    from api.wiring import Resources, run_with_resources  # deferred
    from auth import staff as staff_accounts  # deferred

    async def work(resources: Resources) -> Any:
        staff = await _staff_by_username(args.username)
        return await staff_accounts.set_staff_active(
            tokens=resources.auth.tokens,
            admin=None,
            staff_id=staff.id,
            active=args.staff_command == "activate",
        )

    print(json.dumps(run_with_resources(settings, work), ensure_ascii=False))
    return 0


def cmd_cleanup(settings: Settings, args: argparse.Namespace) -> int:
    """The clean-up job once, now (the worker runs it every ``ZB_CLEANUP_INTERVAL_S``)."""
    from api.jobs import run_cleanup  # deferred
    from api.wiring import Resources, run_with_resources  # deferred

    async def work(resources: Resources) -> Any:
        return await run_cleanup(settings=settings, store=resources.store, redis=resources.redis)

    print(json.dumps(run_with_resources(settings, work)))
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from api.demo import run_demo  # deferred

    return run_demo(settings, base_url=args.base_url)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zhangban", description="掌办 government-services backend"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(handler=cmd_serve)

    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(
        handler=cmd_migrate
    )
    make = sub.add_parser("makemigrations", help="write a migration for model changes (developers)")
    make.add_argument("name", nargs="?", default="update")
    make.add_argument("--database-url", help="database of the dialect to write for")
    make.set_defaults(handler=cmd_makemigrations)

    sub.add_parser("seed", help="load the demo catalogue into an empty catalogue").set_defaults(
        handler=cmd_seed
    )

    sub.add_parser(
        "cleanup",
        help="delete uploads never completed or never attached, and expired refresh tokens",
    ).set_defaults(handler=cmd_cleanup)

    demo = sub.add_parser("demo", help="walk the main flow over HTTP as a phone would")
    demo.add_argument("--base-url", help="use this running server instead of starting one")
    demo.set_defaults(handler=cmd_demo)

    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    create = staff.add_parser("create", help="create a staff account; prints its binding code")
    create.add_argument("--username", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--department", required=True, help="department code")
    create.add_argument(
        "--roles",
        required=True,
        help="comma-separated: clerk, reviewer, approver, dispatcher, supervisor, "
        "catalog_admin, admin",
    )
    create.set_defaults(handler=cmd_staff_create)
    bind = staff.add_parser("bind-code", help="a new one-time WeChat binding code")
    bind.add_argument("--username", required=True)
    bind.set_defaults(handler=cmd_staff_bind_code)
    roles = staff.add_parser(
        "roles", help="replace an account's roles (the only way for supervisor and admin)"
    )
    roles.add_argument("--username", required=True)
    roles.add_argument("--roles", required=True, help="comma-separated, as for create")
    roles.set_defaults(handler=cmd_staff_roles)
    for verb, text in (("deactivate", "end every session and refuse logins"), ("activate", "")):
        switch = staff.add_parser(verb, help=f"{verb} an account" + (f": {text}" if text else ""))
        switch.add_argument("--username", required=True)
        switch.set_defaults(handler=cmd_staff_active)

    cat = sub.add_parser("catalog", help="catalogue maintenance").add_subparsers(
        dest="catalog_command", required=True
    )
    imp = cat.add_parser(
        "import", help="validate and import a YAML or JSON catalogue (all or nothing)"
    )
    imp.add_argument("file")
    imp.add_argument("--draft", action="store_true", help="create drafts instead of publishing")
    imp.set_defaults(handler=cmd_catalog_import)
    exp = cat.add_parser("export", help="write the published catalogue")
    exp.add_argument("--output", "-o", default="-")
    exp.add_argument("--format", choices=("yaml", "json"), default="yaml")
    exp.set_defaults(handler=cmd_catalog_export)

    add_calendar_commands(sub)
    add_worker_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        settings.check()
        return int(args.handler(settings, args))
    except ConfigurationError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except DomainError as exc:
        print(
            json.dumps(
                {"error": {"code": exc.code, "message": exc.message, "details": exc.details}},
                ensure_ascii=False,
                indent=2,
            ),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
