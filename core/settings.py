"""The one settings object: the only place that reads the environment.

Every variable carries the ``ZB_`` prefix. Two profiles exist:

* ``embedded`` (default): SQLite under ``var/``, an in-process Redis stand-in, a local object
  folder and the ``sandbox/`` peers, so one command shows the whole flow on a laptop.
* ``production``: PostgreSQL, Redis and MinIO. It refuses to start while any secret still has its
  default value or any required setting is missing, and names each one.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Default secrets are only good for the embedded profile; production refuses them.
DEFAULT_SECRET = "embedded-only-change-me"


class ConfigurationError(RuntimeError):
    """Raised at start-up when the settings cannot run the chosen profile."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))


class Settings(BaseSettings):
    """Typed configuration. The README's configuration table mirrors these fields."""

    model_config = SettingsConfigDict(env_prefix="ZB_", extra="ignore", frozen=True)

    profile: Literal["embedded", "production"] = Field(
        "embedded", description="embedded (SQLite, in-process Redis, sandbox) or production"
    )
    var_dir: Path = Field(Path("var"), description="folder for the embedded database and objects")
    database_url: str = Field(
        "", description="Tortoise URL, e.g. postgres://u:p@host:5432/zhangban?maxsize=20"
    )
    redis_url: str = Field("", description="redis://host:6379/0; empty on embedded = in-process")
    host: str = Field("127.0.0.1", description="address the server binds")
    port: int = Field(8000, description="port the server binds")
    workers: int = Field(1, description="server worker processes")
    secret_key: str = Field(DEFAULT_SECRET, description="server secret for signing cursors")
    public_base_url: str = Field(
        "", description="base URL phones use to reach this server (default http://host:port)"
    )
    request_max_bytes: int = Field(1_048_576, description="largest accepted request body")
    log_level: str = Field("INFO", description="logging level")
    access_log: bool = Field(True, description="one JSON log line per request")
    cache_ttl_s: int = Field(3600, description="lifetime of cached guides and searches in Redis")
    local_cache_s: float = Field(
        1.0, description="how long a worker trusts its in-memory catalogue cache before re-checking"
    )
    page_size_default: int = Field(20, description="list page size when none is asked for")
    page_size_max: int = Field(100, description="largest page size a client may ask for")

    @property
    def is_embedded(self) -> bool:
        return self.profile == "embedded"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.var_dir / 'zhangban.sqlite3').as_posix()}"

    @property
    def dialect(self) -> Literal["sqlite", "postgres"]:
        url = self.effective_database_url
        return "sqlite" if url.startswith("sqlite") else "postgres"

    @property
    def effective_public_base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"

    def problems(self) -> list[str]:
        """Everything that keeps this configuration from running its profile, one line each."""
        found: list[str] = []
        if self.profile == "production":
            if not self.database_url:
                found.append("ZB_DATABASE_URL is required in production (PostgreSQL URL)")
            elif not self.database_url.startswith(("postgres://", "asyncpg://", "psycopg://")):
                found.append("ZB_DATABASE_URL must point at PostgreSQL in production")
            if not self.redis_url:
                found.append("ZB_REDIS_URL is required in production")
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                found.append("ZB_SECRET_KEY must be set to a secret of at least 32 characters")
            if not self.public_base_url:
                found.append("ZB_PUBLIC_BASE_URL is required in production")
        if self.page_size_default > self.page_size_max:
            found.append("ZB_PAGE_SIZE_DEFAULT must not exceed ZB_PAGE_SIZE_MAX")
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigurationError(problems)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
