"""The Sanic application factory: the only place the HTTP edge is assembled."""

from __future__ import annotations

import logging

from sanic import Sanic
from sanic_ext import Extend

from api.errors import install_error_handlers
from api.health import bp as health_bp
from api.middleware import install_middleware
from api.public import bp as public_bp
from core.cache import GenerationalCache
from core.db import close_db, init_db
from core.logging import configure_logging
from core.redis import create_redis
from core.settings import Settings, get_settings

log = logging.getLogger("zhangban.app")

APP_NAME = "zhangban"


def create_app(settings: Settings | None = None, *, name: str = APP_NAME) -> Sanic:
    """A configured application. ``settings`` defaults to the environment's."""
    settings = settings or get_settings()
    settings.check()
    configure_logging(settings.log_level)

    app = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = settings.request_max_bytes
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.OAS_UI_DEFAULT = "redoc"
    app.config.OAS_UI_SWAGGER = True
    app.config.OAS_AUTODOC = False
    app.config.CORS = False
    app.config.HEALTH = False
    app.ctx.settings = settings
    Extend(app)
    app.ext.openapi.describe(
        "Zhangban 掌办 API",
        version="1.0",
        description=(
            "掌上办 government-services backend. Every non-2xx answer has the body "
            '`{"error": {"code", "message", "details"}}`: `code` is a stable English code, '
            "`message` Chinese text to show as is."
        ),
    )

    install_middleware(app)
    install_error_handlers(app)
    app.blueprint(health_bp)
    app.blueprint(public_bp)

    @app.before_server_start
    async def open_resources(app: Sanic) -> None:
        await init_db(settings)
        app.ctx.redis = create_redis(settings)
        app.ctx.catalog_cache = GenerationalCache(
            app.ctx.redis, "catalog", ttl_s=settings.cache_ttl_s, local_s=settings.local_cache_s
        )
        log.info("worker ready", extra={"profile": settings.profile, "dialect": settings.dialect})

    @app.after_server_stop
    async def close_resources(app: Sanic) -> None:
        redis = getattr(app.ctx, "redis", None)
        if redis is not None:
            await redis.aclose()
        await close_db()

    return app
