"""The Sanic application factory: the only place the HTTP edge is assembled."""

from __future__ import annotations

import logging
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import BadRequest

from api.admin import bp as admin_bp
from api.calendar_admin import bp as calendar_admin_bp
from api.cases import bp as cases_bp
from api.docs import bp as docs_bp
from api.errors import install_error_handlers, safe_dumps
from api.evaluations import bp as evaluations_bp
from api.health import bp as health_bp
from api.identity import bp as identity_bp
from api.middleware import install_middleware
from api.notify import bp as notify_bp
from api.notify import callbacks as notify_callbacks_bp
from api.objects import bp as objects_bp
from api.outbox_admin import bp as outbox_admin_bp
from api.payments import bp as payments_bp
from api.payments import callbacks as callbacks_bp
from api.public import bp as public_bp
from api.supervision import bp as supervision_bp
from api.uploads import bp as uploads_bp
from api.wiring import (
    InProcessWorker,
    WorkerDeps,
    close_resources,
    open_resources,
    sandbox_messaging,
)
from core.calendar import warn_uncovered
from core.clock import local_today, utcnow
from core.db import close_db
from core.logging import configure_logging
from core.settings import Settings, get_settings

log = logging.getLogger("zhangban.app")

APP_NAME = "zhangban"


class EdgeRequest(Request):
    """Sanic's request, able to answer a request line it cannot parse.

    When the URL of a request line is invalid (a raw control byte in it), Sanic builds a stand-in
    request for the error answer from that same URL, fails again, drops the connection without
    an answer and logs an uncaught traceback. The stand-in (method ``NONE``) gets the path ``/``
    instead, so the client reads the usual 400 envelope."""

    def __init__(
        self,
        url_bytes: bytes,
        headers: Any,
        version: str,
        method: str,
        transport: Any,
        app: Any,
        head: bytes = b"",
        stream_id: int = 0,
    ) -> None:
        try:
            super().__init__(url_bytes, headers, version, method, transport, app, head, stream_id)
        except BadRequest:
            if method != "NONE":
                raise
            super().__init__(b"/", headers, version, method, transport, app, head, stream_id)


def create_app(settings: Settings | None = None, *, name: str = APP_NAME) -> Sanic:
    """A configured application. ``settings`` defaults to the environment's."""
    settings = settings or get_settings()
    settings.check()
    configure_logging(settings.log_level)

    app = Sanic(name, configure_logging=False, dumps=safe_dumps, request_class=EdgeRequest)
    app.config.REQUEST_MAX_SIZE = settings.request_max_bytes
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.AUTO_EXTEND = False  # sanic-ext, if installed, must not add routes of its own
    app.ctx.settings = settings

    install_middleware(app)
    install_error_handlers(app)
    app.blueprint(health_bp)
    app.blueprint(docs_bp)
    app.blueprint(public_bp)
    app.blueprint(identity_bp)
    app.blueprint(admin_bp)
    app.blueprint(outbox_admin_bp)
    app.blueprint(calendar_admin_bp)
    app.blueprint(uploads_bp)
    app.blueprint(cases_bp)
    app.blueprint(supervision_bp)
    app.blueprint(evaluations_bp)
    app.blueprint(payments_bp)
    app.blueprint(callbacks_bp)
    app.blueprint(notify_bp)
    app.blueprint(notify_callbacks_bp)
    if settings.effective_storage_backend == "local":
        # The embedded object folder serves presigned POST and GET itself, like S3 would.
        app.blueprint(objects_bp)
    if settings.sandbox_mounted:
        # The embedded profile talks to these local peers over real HTTP, like to WeChat.
        # Imported here: a deployment that does not mount them never loads their code.
        from sandbox.app import mount_sandbox

        app.ctx.sandbox = mount_sandbox(
            app,
            appid=settings.wechat_appid,
            secret=settings.wechat_secret,
            keys_dir=settings.effective_sandbox_keys_dir,
            wechatpay_mch_id=settings.wechatpay_mch_id,
            callback_speedup=settings.sandbox_callback_speedup,
            messaging=sandbox_messaging(settings),
        )

    @app.before_server_start
    async def open_process_resources(app: Sanic) -> None:
        resources = await open_resources(settings)
        app.ctx.resources = resources
        # Handlers, guards and tests reach each resource by its own name.
        app.ctx.redis = resources.redis
        app.ctx.catalog_cache = resources.catalog_cache
        app.ctx.http = resources.http
        app.ctx.auth = resources.auth
        app.ctx.store = resources.store
        await resources.store.ensure_bucket()
        app.ctx.worker = InProcessWorker(WorkerDeps.of(resources))
        if settings.worker_runs_in_process:
            # The embedded profile has no worker process: one delivers and runs the jobs here.
            app.ctx.worker.start()
        # Deadlines in a year without the official notice follow the rule: say so, once a worker.
        await warn_uncovered(today=local_today(utcnow()))
        log.info("worker ready", extra={"profile": settings.profile, "dialect": settings.dialect})

    @app.before_server_stop
    async def stop_worker(app: Sanic) -> None:
        worker = getattr(app.ctx, "worker", None)
        if worker is not None:
            await worker.stop()  # lets the current event finish, before the pools close

    @app.after_server_stop
    async def close_process_resources(app: Sanic) -> None:
        resources = getattr(app.ctx, "resources", None)
        if resources is not None:
            await close_resources(resources)
        else:  # the start-up failed before the resources were made
            await close_db()

    return app
