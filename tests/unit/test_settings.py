"""Settings: profiles, the production checks and reading ``ZB_`` variables."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.settings import DEFAULT_SECRET, ConfigurationError, Settings

GOOD_SECRET = "s" * 32
FIELD_KEY = base64.b64encode(b"fedcba9876543210").decode()
#: A production configuration with nothing missing (only sandbox identity providers exist yet,
#: so ``allow_sandbox_providers`` is part of a complete configuration for now).
PRODUCTION: dict[str, Any] = {
    "profile": "production",
    "database_url": "postgres://zb:pw@db:5432/zhangban?maxsize=20",
    "redis_url": "redis://redis:6379/0",
    "secret_key": GOOD_SECRET,
    "public_base_url": "https://zhangban.example.gov.cn",
    "wechat_appid": "wx0123456789abcdef",
    "wechat_secret": "w" * 32,
    "jwt_keys": "k2:" + "j" * 40,
    "jwt_current_kid": "k2",
    "field_keys": f"2:{FIELD_KEY}",
    "field_key_current": 2,
    "lookup_key": "l" * 32,
    "allow_sandbox_providers": True,
    # The S3 storage backend is the production default, so its connection is part of it too.
    "s3_endpoint": "minio:9000",
    "s3_public_endpoint": "https://files.zhangban.example.gov.cn",
    "s3_access_key": "zhangban-server",
    "s3_secret_key": "m" * 40,
    "sms_access_key_secret": "s" * 30,
    "sms_report_token": "r" * 24,
}
#: The S3 settings production requires while the storage backend is S3 (its default there).
S3_REQUIRED = {
    "s3_endpoint": "ZB_S3_ENDPOINT",
    "s3_public_endpoint": "ZB_S3_PUBLIC_ENDPOINT",
    "s3_access_key": "ZB_S3_ACCESS_KEY",
    "s3_secret_key": "ZB_S3_SECRET_KEY",
}
#: Each setting production requires, and the variable its problem must name when it is left out.
REQUIRED = {
    "database_url": "ZB_DATABASE_URL",
    "redis_url": "ZB_REDIS_URL",
    "secret_key": "ZB_SECRET_KEY",
    "public_base_url": "ZB_PUBLIC_BASE_URL",
    "wechat_appid": "ZB_WECHAT_APPID",
    "wechat_secret": "ZB_WECHAT_SECRET",
    "jwt_keys": "ZB_JWT_KEYS",
    "field_keys": "ZB_FIELD_KEYS",
    "lookup_key": "ZB_LOOKUP_KEY",
    "allow_sandbox_providers": "ZB_ALLOW_SANDBOX_PROVIDERS",
    "sms_access_key_secret": "ZB_SMS_ACCESS_KEY_SECRET",
    "sms_report_token": "ZB_SMS_REPORT_TOKEN",
    **S3_REQUIRED,
}


def production(**changes: Any) -> Settings:
    return Settings(**{**PRODUCTION, **changes})


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``ZB_`` variable of the machine running the tests leaks into a Settings object."""
    for name in list(os.environ):
        if name.upper().startswith("ZB_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_embedded_profile_on_sqlite_under_var() -> None:
    s = Settings()
    assert s.profile == "embedded"
    assert s.is_embedded
    assert s.var_dir == Path("var")
    assert s.database_url == ""
    assert s.effective_database_url == "sqlite://var/zhangban.sqlite3"
    assert s.dialect == "sqlite"
    assert s.redis_url == ""
    assert s.secret_key == DEFAULT_SECRET
    assert s.effective_public_base_url == "http://127.0.0.1:8000"
    assert s.problems() == []
    s.check()  # does not raise


def test_embedded_database_follows_var_dir(tmp_path: Path) -> None:
    s = Settings(var_dir=tmp_path)
    assert s.effective_database_url == f"sqlite://{(tmp_path / 'zhangban.sqlite3').as_posix()}"
    assert s.dialect == "sqlite"


def test_production_reports_every_missing_setting_by_name() -> None:
    s = Settings(profile="production")
    assert not s.is_embedded
    problems = s.problems()
    for name in REQUIRED.values():
        assert any(name in p for p in problems), (name, problems)


def test_production_check_raises_listing_them_all() -> None:
    s = Settings(profile="production")
    with pytest.raises(ConfigurationError) as caught:
        s.check()
    assert caught.value.problems == s.problems()
    text = str(caught.value)
    for problem in s.problems():
        assert problem in text
    for name in REQUIRED.values():
        assert name in text


@pytest.mark.parametrize("field", REQUIRED)
def test_each_setting_left_out_is_the_one_problem_named(field: str) -> None:
    config = {k: v for k, v in PRODUCTION.items() if k != field}
    if field == "jwt_keys":
        config.pop("jwt_current_kid")  # the default kid goes with the default keys
    if field == "field_keys":
        config.pop("field_key_current")
    s = Settings(**config)
    problems = s.problems()
    assert len(problems) == 1, problems
    assert REQUIRED[field] in problems[0]
    with pytest.raises(ConfigurationError) as caught:
        s.check()
    assert caught.value.problems == problems


@pytest.mark.parametrize("field", S3_REQUIRED)
def test_each_s3_setting_left_out_is_the_one_problem_named(field: str) -> None:
    config = {k: v for k, v in PRODUCTION.items() if k != field}
    s = Settings(**config)
    assert s.storage_backend is None
    assert s.effective_storage_backend == "s3"  # the production default
    problems = s.problems()
    assert problems == [f"{S3_REQUIRED[field]} is required in production"]
    with pytest.raises(ConfigurationError) as caught:
        s.check()
    assert caught.value.problems == problems


@pytest.mark.parametrize("field", S3_REQUIRED)
def test_each_empty_s3_setting_is_the_one_problem_named(field: str) -> None:
    problems = production(storage_backend="s3", **{field: ""}).problems()
    assert problems == [f"{S3_REQUIRED[field]} is required in production"]


def test_production_without_any_s3_setting_names_all_four() -> None:
    config = {k: v for k, v in PRODUCTION.items() if k not in S3_REQUIRED}
    problems = Settings(**config).problems()
    assert problems == [f"{name} is required in production" for name in S3_REQUIRED.values()]


def test_production_with_local_storage_needs_no_s3_settings() -> None:
    config = {k: v for k, v in PRODUCTION.items() if k not in S3_REQUIRED}
    s = Settings(**config, storage_backend="local")
    assert s.effective_storage_backend == "local"
    assert s.problems() == []
    s.check()  # does not raise


def test_storage_backend_defaults_to_local_on_embedded_and_s3_in_production() -> None:
    assert Settings().effective_storage_backend == "local"
    assert Settings().problems() == []  # embedded never needs the S3 settings
    assert production().effective_storage_backend == "s3"
    assert Settings(storage_backend="s3").effective_storage_backend == "s3"


def test_production_refuses_the_mounted_sandbox() -> None:
    assert production().sandbox_mounted is False  # off by default in production
    problems = production(sandbox_enabled=True).problems()
    assert len(problems) == 1
    assert "ZB_SANDBOX_ENABLED" in problems[0]


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"wechat_appid": "wx-sandbox-appid"}, "ZB_WECHAT_APPID"),
        ({"jwt_keys": "k2:short"}, "ZB_JWT_KEYS"),
        ({"jwt_current_kid": "k9"}, "ZB_JWT_CURRENT_KID"),
        ({"field_keys": "2:not-base64!"}, "ZB_FIELD_KEYS"),
        ({"field_key_current": 3}, "ZB_FIELD_KEY_CURRENT"),
        ({"lookup_key": "l" * 31}, "ZB_LOOKUP_KEY"),
    ],
)
def test_production_refuses_bad_identity_settings(changes: dict[str, Any], name: str) -> None:
    problems = production(**changes).problems()
    assert len(problems) == 1, problems
    assert name in problems[0]


def test_complete_production_config_passes() -> None:
    s = production()
    assert s.effective_storage_backend == "s3"
    assert s.problems() == []
    s.check()
    assert s.dialect == "postgres"
    assert s.effective_database_url == PRODUCTION["database_url"]
    assert s.effective_public_base_url == PRODUCTION["public_base_url"]


@pytest.mark.parametrize(
    "secret",
    [DEFAULT_SECRET, "x" * 31, ""],
    ids=["default", "31-chars", "empty"],
)
def test_production_refuses_default_or_short_secret(secret: str) -> None:
    s = production(secret_key=secret)
    problems = s.problems()
    assert len(problems) == 1
    assert "ZB_SECRET_KEY" in problems[0]
    with pytest.raises(ConfigurationError, match="ZB_SECRET_KEY"):
        s.check()


def test_production_accepts_a_32_character_secret() -> None:
    assert production(secret_key="k" * 32).problems() == []


@pytest.mark.parametrize(
    "url", ["sqlite://var/zhangban.sqlite3", "mysql://u:p@db/zb", "redis://db:6379/0"]
)
def test_production_refuses_a_database_that_is_not_postgresql(url: str) -> None:
    problems = production(database_url=url).problems()
    assert len(problems) == 1
    assert "ZB_DATABASE_URL" in problems[0]
    assert "PostgreSQL" in problems[0]


@pytest.mark.parametrize(
    "url", ["postgres://u:p@db/zb", "asyncpg://u:p@db/zb", "psycopg://u:p@db/zb"]
)
def test_production_accepts_postgresql_url_schemes(url: str) -> None:
    assert production(database_url=url).problems() == []


def test_embedded_ignores_the_production_requirements() -> None:
    assert Settings(profile="embedded", secret_key="short").problems() == []


@pytest.mark.parametrize("profile", ["embedded", "production"])
def test_page_size_default_above_maximum_is_a_problem_in_any_profile(profile: str) -> None:
    base: dict[str, Any] = PRODUCTION if profile == "production" else {}
    s = Settings(**{**base, "page_size_default": 101, "page_size_max": 100})
    problems = s.problems()
    assert len(problems) == 1
    assert "ZB_PAGE_SIZE_DEFAULT" in problems[0]
    assert "ZB_PAGE_SIZE_MAX" in problems[0]


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(profile="staging")


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.port = 9000  # type: ignore[misc]


def test_prefixed_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZB_PORT", "9001")
    monkeypatch.setenv("ZB_HOST", "0.0.0.0")
    monkeypatch.setenv("ZB_WORKERS", "4")
    monkeypatch.setenv("ZB_ACCESS_LOG", "false")
    monkeypatch.setenv("ZB_LOCAL_CACHE_S", "0.25")
    monkeypatch.setenv("ZB_DATABASE_URL", "postgres://u:p@db:5432/zb")
    monkeypatch.setenv("ZB_PROFILE", "production")
    s = Settings()
    assert s.port == 9001
    assert s.host == "0.0.0.0"
    assert s.workers == 4
    assert s.access_log is False
    assert s.local_cache_s == 0.25
    assert s.profile == "production"
    assert s.dialect == "postgres"
    assert s.effective_public_base_url == "http://0.0.0.0:9001"


def test_production_problems_come_from_the_environment_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZB_PROFILE", "production")
    monkeypatch.setenv("ZB_REDIS_URL", "redis://r:6379/0")
    problems = Settings().problems()
    assert not any("ZB_REDIS_URL" in p for p in problems)
    assert any("ZB_DATABASE_URL" in p for p in problems)


def test_unprefixed_environment_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9002")
    monkeypatch.setenv("PROFILE", "production")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/zb")
    monkeypatch.setenv("SECRET_KEY", "z" * 40)
    s = Settings()
    assert s.port == 8000
    assert s.profile == "embedded"
    assert s.database_url == ""
    assert s.secret_key == DEFAULT_SECRET


def test_explicit_keyword_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZB_PORT", "9001")
    assert Settings(port=7000).port == 7000


def test_badly_typed_environment_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZB_PORT", "eighty")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("url", "dialect"),
    [
        ("sqlite://var/zhangban.sqlite3", "sqlite"),
        ("sqlite:///tmp/abs.sqlite3", "sqlite"),
        ("sqlite://:memory:", "sqlite"),
        ("postgres://u:p@localhost:5432/zb", "postgres"),
        ("postgres://u:p@localhost:5432/zb?maxsize=20", "postgres"),
        ("asyncpg://u:p@localhost/zb", "postgres"),
        ("psycopg://u:p@localhost/zb", "postgres"),
    ],
)
def test_dialect_of_database_url(url: str, dialect: str) -> None:
    assert Settings(database_url=url).dialect == dialect
