"""The one settings object: the only place that reads the environment.

Every variable carries the ``ZB_`` prefix. Two profiles exist:

* ``embedded`` (default): SQLite under ``var/``, an in-process Redis stand-in, a local object
  folder and the ``sandbox/`` peers, so one command shows the whole flow on a laptop.
* ``production``: PostgreSQL, Redis and MinIO. It refuses to start while any secret still has its
  default value or any required setting is missing, and names each one.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.keys import parse_field_keys, parse_jwt_keys

#: Default secrets are only good for the embedded profile; production refuses them.
DEFAULT_SECRET = "embedded-only-default-secret-change-me-in-production"
#: The embedded profile's field-encryption key (base64 of 16 bytes); production refuses it.
DEFAULT_FIELD_KEY = "MDEyMzQ1Njc4OWFiY2RlZg=="


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

    # --- identity (issue: WeChat login, real name, tokens) ---------------------------------
    wechat_appid: str = Field("wx-sandbox-appid", description="mini-program AppID")
    wechat_secret: str = Field(DEFAULT_SECRET, description="mini-program AppSecret")
    wechat_api_base: str = Field(
        "",
        description="WeChat API base; default: the mounted sandbox on embedded, "
        "https://api.weixin.qq.com in production",
    )
    sandbox_enabled: bool | None = Field(
        None,
        description="mount the sandbox/ peers (WeChat…) in this server; default: on for embedded",
    )
    sandbox_base_url: str = Field(
        "", description="base URL of the sandbox peers (default: mounted in this server)"
    )
    jwt_keys: str = Field(
        "k1:" + DEFAULT_SECRET,
        description="token signing keys as kid:secret[,kid:secret…]; old kids keep verifying",
    )
    jwt_current_kid: str = Field("k1", description="kid that signs new tokens")
    access_ttl_s: int = Field(900, description="citizen access-token lifetime")
    refresh_ttl_s: int = Field(30 * 86400, description="citizen refresh-token lifetime")
    staff_access_ttl_s: int = Field(600, description="staff access-token lifetime")
    staff_refresh_ttl_s: int = Field(12 * 3600, description="staff refresh-token lifetime")
    revocation_check_s: float = Field(
        1.0,
        description="how often a worker re-reads revoked sessions from Redis, and how long it "
        "reuses a staff account's standing (seconds)",
    )
    field_keys: str = Field(
        "1:" + DEFAULT_FIELD_KEY,
        description="SM4 keys for personal data at rest as version:base64(16 bytes)[,…]",
    )
    field_key_current: int = Field(1, description="key version that encrypts new writes")
    lookup_key: str = Field(DEFAULT_SECRET, description="key of the SM3 lookup hashes")
    realname_provider: Literal["sandbox"] = Field(
        "sandbox", description="L1 identity check provider (only the sandbox exists yet)"
    )
    company_registry_provider: Literal["sandbox"] = Field(
        "sandbox", description="company registry provider (only the sandbox exists yet)"
    )
    allow_sandbox_providers: bool = Field(
        False, description="production only: accept sandbox providers (staging, never live)"
    )
    realname_daily_limit: int = Field(5, description="real-name attempts per user per day")
    login_limit_per_min: int = Field(20, description="logins per openid or per IP per minute")
    phone_bind_daily_limit: int = Field(10, description="phone bindings per user per day")

    # --- object storage (issue: materials) ---------------------------------------------------
    storage_backend: Literal["local", "s3"] | None = Field(
        None, description="local folder or S3/MinIO; default: local on embedded, s3 in production"
    )
    s3_endpoint: str = Field("", description="host:port the server uses to reach S3/MinIO")
    s3_public_endpoint: str = Field(
        "", description="URL phones upload to and download from (signs presigned URLs)"
    )
    s3_access_key: str = Field("", description="S3 access key")
    s3_secret_key: str = Field("", description="S3 secret key")
    s3_bucket: str = Field("zhangban-materials", description="bucket for every object")
    s3_region: str = Field("us-east-1", description="bucket region (set so the SDK never asks)")
    s3_secure: bool = Field(False, description="TLS between this server and S3")
    s3_sse: bool = Field(False, description="server-side encryption (SSE-S3) of stored objects")
    upload_expires_s: int = Field(600, description="lifetime of an upload policy")
    download_expires_s: int = Field(300, description="lifetime of a presigned download link")
    upload_max_photo_bytes: int = Field(10 * 1024 * 1024, description="default photo size limit")
    upload_max_pdf_bytes: int = Field(20 * 1024 * 1024, description="default PDF size limit")
    image_max_pixels: int = Field(
        60_000_000, description="largest image decoded (a 12-megapixel photo is 12 million)"
    )
    image_max_side: int = Field(4096, description="long side of a stored image after scaling")
    pdf_max_pages: int = Field(50, description="most pages a PDF material may have")
    upload_orphan_hours: int = Field(24, description="unattached uploads are deleted after this")
    watermark_font: str = Field(
        "", description="TTF/TTC with Chinese glyphs for watermarks (default: search the system)"
    )

    # --- outbox worker and scheduled jobs (issue: outbox and worker) -------------------------
    worker_in_process: bool | None = Field(
        None, description="run one outbox worker inside the server; default: on for embedded"
    )
    worker_poll_s: float = Field(0.5, description="how often an idle worker looks for new events")
    worker_batch_size: int = Field(10, description="events a worker claims at a time")
    worker_concurrency: int = Field(
        1, ge=1, le=256, description="events of a claimed batch a worker delivers at once"
    )
    worker_lease_s: float = Field(
        60.0,
        description="a claim (and a job lock) lasts this long unless its worker renews it; "
        "a killed worker's events are taken over after it",
    )
    worker_handler_timeout_s: float = Field(
        30.0, description="a handler running longer than this counts as failed"
    )
    worker_max_attempts: int = Field(
        10, description="delivery attempts before an event is dead (until replayed)"
    )
    worker_backoff_base_s: float = Field(
        5.0, description="retry wait after the first failure; doubles each time (full jitter)"
    )
    worker_backoff_max_s: float = Field(3600.0, description="longest retry wait")
    worker_extra_handlers: str = Field(
        "",
        description="module:function[,…] called with the worker registry at start, for "
        "deployment hooks and tests",
    )
    cleanup_interval_s: int = Field(
        3600, description="how often the worker runs the upload and token clean-up"
    )
    case_yellow_card_days: int = Field(
        2, ge=0, description="yellow card when this many working days or fewer remain"
    )
    public_status_limit_per_min: int = Field(
        30, ge=1, description="public case-status look-ups per IP address per minute"
    )

    # --- payments (issue: payments) ----------------------------------------------------------
    payment_channels: str = Field(
        "wechatpay,alipay", description="enabled payment channels, comma-separated"
    )
    payment_notify_base_url: str = Field(
        "",
        description="base URL the payment platforms call back (…/callbacks/<channel>); "
        "default: ZB_PUBLIC_BASE_URL",
    )
    sandbox_keys_dir: Path | None = Field(
        None,
        description="folder where the sandbox peers and this server keep the sandbox's payment "
        "keys (generated on first start); default: var_dir/sandbox-keys",
    )
    sandbox_callback_speedup: float = Field(
        1.0,
        gt=0,
        description="sandbox payment peers: divide the platforms' callback resend schedule by this",
    )
    wechatpay_api_base: str = Field(
        "",
        description="WeChat Pay API base; default: the sandbox peer, or "
        "https://api.mch.weixin.qq.com in production",
    )
    wechatpay_mch_id: str = Field("1900000109", description="WeChat Pay merchant id (mchid)")
    wechatpay_merchant_serial: str = Field(
        "", description="serial number of the merchant API certificate (sandbox: derived)"
    )
    wechatpay_merchant_key_file: Path | None = Field(
        None, description="PEM of the merchant API private key (sandbox: generated)"
    )
    wechatpay_apiv3_key: str = Field(
        "", description="APIv3 key, 32 characters (sandbox: generated with the keys)"
    )
    wechatpay_platform_key_file: Path | None = Field(
        None, description="PEM of the WeChat Pay platform public key (sandbox: generated)"
    )
    wechatpay_platform_key_id: str = Field(
        "", description="its id, as Wechatpay-Serial names it (PUB_KEY_ID_…; sandbox: derived)"
    )
    alipay_gateway: str = Field(
        "",
        description="Alipay gateway; default: the sandbox peer, or "
        "https://openapi.alipay.com/gateway.do in production",
    )
    alipay_app_id: str = Field("2021000000000001", description="Alipay app id")
    alipay_seller_id: str = Field("2088000000000001", description="Alipay seller (partner) id")
    alipay_app_private_key_file: Path | None = Field(
        None, description="PEM of the app's RSA2 private key (sandbox: generated)"
    )
    alipay_public_key_file: Path | None = Field(
        None, description="PEM of Alipay's RSA2 public key (sandbox: generated)"
    )

    # --- progress messages (issue: progress push) ---------------------------------------------
    notify_templates: str = Field(
        "",
        description="the deployment's subscribe and SMS templates per message type, a JSON "
        "object shaped like notify.catalogue.DEFAULT_CATALOGUE; empty: the sandbox's",
    )
    notify_channels: str = Field(
        "wechat,sms", description="enabled outward message channels (the inbox is always on)"
    )
    notify_miniprogram_state: Literal["developer", "trial", "formal"] = Field(
        "formal", description="which mini-program version a subscribe message opens"
    )
    notify_quiet_hours: str = Field(
        "22:00-08:00",
        description="local hours in which a non-urgent SMS waits for the morning (HH:MM-HH:MM)",
    )
    notify_staff_batch_s: int = Field(
        180, ge=1, description="staff queue messages: at most one per person per this window"
    )
    notify_max_attempts: int = Field(8, ge=1, description="sends of one message before it fails")
    notify_backoff_base_s: float = Field(
        5.0, ge=0, description="retry wait after a transient send failure; doubles (full jitter)"
    )
    notify_backoff_max_s: float = Field(1800.0, ge=0, description="longest retry wait of a send")
    notify_batch_size: int = Field(
        200, ge=1, le=2000, description="messages a worker takes from the ledger at a time"
    )
    notify_concurrency: int = Field(
        32, ge=1, le=1000, description="messages a worker sends at once"
    )
    notify_lease_s: float = Field(
        60.0,
        gt=0,
        description="how long a taken message is the worker's; longer than a channel's timeout",
    )
    notify_alert_failures_per_hour: int = Field(
        20, ge=1, description="failures of one message type in an hour that raise an alert"
    )
    sms_endpoint: str = Field(
        "",
        description="SMS provider endpoint (Alibaba Cloud dysmsapi); default: the sandbox "
        "peer, or https://dysmsapi.aliyuncs.com/ in production",
    )
    sms_access_key_id: str = Field("sandbox-sms-key", description="SMS provider AccessKey id")
    sms_access_key_secret: str = Field(DEFAULT_SECRET, description="SMS provider AccessKey secret")
    sms_sign_name: str = Field("掌办", description="the registered SMS signature (签名)")
    sms_report_token: str = Field(
        DEFAULT_SECRET,
        description="secret path segment of the SMS delivery-receipt URL (…/callbacks/sms/<token>)",
    )

    @property
    def enabled_notify_channels(self) -> tuple[str, ...]:
        return tuple(filter(None, (c.strip() for c in self.notify_channels.split(","))))

    @property
    def effective_sms_endpoint(self) -> str:
        if self.sms_endpoint:
            return self.sms_endpoint
        if self.sandbox_mounted or self.sandbox_base_url:
            return f"{self.effective_sandbox_base_url}/sms/"
        return "https://dysmsapi.aliyuncs.com/"

    @property
    def effective_storage_backend(self) -> Literal["local", "s3"]:
        if self.storage_backend:
            return self.storage_backend
        return "local" if self.is_embedded else "s3"

    @property
    def enabled_payment_channels(self) -> tuple[str, ...]:
        return tuple(filter(None, (c.strip() for c in self.payment_channels.split(","))))

    @property
    def effective_sandbox_keys_dir(self) -> Path:
        return self.sandbox_keys_dir or self.var_dir / "sandbox-keys"

    @property
    def payments_use_sandbox(self) -> bool:
        """The payment channels talk to the sandbox peers (mounted here or at
        ``ZB_SANDBOX_BASE_URL``), with the sandbox's generated keys unless files are named."""
        return self.sandbox_mounted or bool(self.sandbox_base_url)

    @property
    def effective_wechatpay_api_base(self) -> str:
        if self.wechatpay_api_base:
            return self.wechatpay_api_base.rstrip("/")
        if self.payments_use_sandbox:
            return f"{self.effective_sandbox_base_url}/wechatpay"
        return "https://api.mch.weixin.qq.com"

    @property
    def effective_alipay_gateway(self) -> str:
        if self.alipay_gateway:
            return self.alipay_gateway
        if self.payments_use_sandbox:
            return f"{self.effective_sandbox_base_url}/alipay/gateway.do"
        return "https://openapi.alipay.com/gateway.do"

    @property
    def sandbox_mounted(self) -> bool:
        return self.is_embedded if self.sandbox_enabled is None else self.sandbox_enabled

    @property
    def effective_sandbox_base_url(self) -> str:
        """Where the sandbox peers answer: this server itself when they are mounted here."""
        return (self.sandbox_base_url or f"http://127.0.0.1:{self.port}/sandbox").rstrip("/")

    @property
    def effective_wechat_api_base(self) -> str:
        if self.wechat_api_base:
            return self.wechat_api_base.rstrip("/")
        if self.sandbox_mounted or self.sandbox_base_url:
            return f"{self.effective_sandbox_base_url}/wechat"
        return "https://api.weixin.qq.com"

    @property
    def worker_runs_in_process(self) -> bool:
        return self.is_embedded if self.worker_in_process is None else self.worker_in_process

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
            if self.wechat_secret == DEFAULT_SECRET or self.wechat_appid == "wx-sandbox-appid":
                found.append("ZB_WECHAT_APPID and ZB_WECHAT_SECRET must be set")
            if DEFAULT_SECRET in self.jwt_keys:
                found.append("ZB_JWT_KEYS must be set (kid:secret, secrets of 32+ characters)")
            if DEFAULT_FIELD_KEY in self.field_keys:
                found.append("ZB_FIELD_KEYS must be set (version:base64 of 16 random bytes)")
            if self.lookup_key == DEFAULT_SECRET or len(self.lookup_key) < 32:
                found.append("ZB_LOOKUP_KEY must be set to a secret of at least 32 characters")
            if self.sandbox_mounted:
                found.append("ZB_SANDBOX_ENABLED must be false in production")
            if self.effective_storage_backend == "s3":
                for name in ("s3_endpoint", "s3_public_endpoint", "s3_access_key", "s3_secret_key"):
                    if not getattr(self, name):
                        found.append(f"ZB_{name.upper()} is required in production")
            if not self.allow_sandbox_providers:
                found.append(
                    "ZB_REALNAME_PROVIDER / ZB_COMPANY_REGISTRY_PROVIDER: only sandbox providers "
                    "exist yet; set ZB_ALLOW_SANDBOX_PROVIDERS=true for a staging deployment"
                )
        found.extend(self._key_problems())
        if self.page_size_default > self.page_size_max:
            found.append("ZB_PAGE_SIZE_DEFAULT must not exceed ZB_PAGE_SIZE_MAX")
        found.extend(self._worker_problems())
        found.extend(self._notify_problems())
        return found

    def _notify_problems(self) -> list[str]:
        found: list[str] = []
        if not re.fullmatch(
            r"([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]", self.notify_quiet_hours
        ):
            found.append("ZB_NOTIFY_QUIET_HOURS must be HH:MM-HH:MM")
        unknown = set(self.enabled_notify_channels) - {"wechat", "sms"}
        if unknown:
            found.append(f"ZB_NOTIFY_CHANNELS: unknown channels {sorted(unknown)}")
        if self.profile == "production" and "sms" in self.enabled_notify_channels:
            if self.sms_access_key_secret == DEFAULT_SECRET:
                found.append("ZB_SMS_ACCESS_KEY_SECRET must be set (or drop sms from channels)")
            if self.sms_report_token == DEFAULT_SECRET or len(self.sms_report_token) < 16:
                found.append("ZB_SMS_REPORT_TOKEN must be set to a secret of 16+ characters")
        return found

    def _worker_problems(self) -> list[str]:
        found: list[str] = []
        if self.worker_max_attempts < 1:
            found.append("ZB_WORKER_MAX_ATTEMPTS must be at least 1")
        if self.worker_batch_size < 1:
            found.append("ZB_WORKER_BATCH_SIZE must be at least 1")
        for name in ("worker_poll_s", "worker_lease_s", "worker_handler_timeout_s"):
            if getattr(self, name) <= 0:
                found.append(f"ZB_{name.upper()} must be positive")
        if self.worker_backoff_base_s < 0 or self.worker_backoff_max_s < self.worker_backoff_base_s:
            found.append("ZB_WORKER_BACKOFF_BASE_S must be between 0 and ZB_WORKER_BACKOFF_MAX_S")
        if self.cleanup_interval_s < 1:
            found.append("ZB_CLEANUP_INTERVAL_S must be at least 1")
        for entry in filter(None, (e.strip() for e in self.worker_extra_handlers.split(","))):
            module, _, function = entry.partition(":")
            if not module or not function:
                found.append(f"ZB_WORKER_EXTRA_HANDLERS: {entry!r} is not module:function")
        return found

    def _key_problems(self) -> list[str]:
        found: list[str] = []

        try:
            jwt = parse_jwt_keys(self.jwt_keys)
            if self.jwt_current_kid not in jwt:
                found.append("ZB_JWT_CURRENT_KID must name one of ZB_JWT_KEYS")
        except ValueError as exc:
            found.append(f"ZB_JWT_KEYS: {exc}")
        try:
            field = parse_field_keys(self.field_keys)
            if self.field_key_current not in field:
                found.append("ZB_FIELD_KEY_CURRENT must name one of ZB_FIELD_KEYS")
        except ValueError as exc:
            found.append(f"ZB_FIELD_KEYS: {exc}")
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigurationError(problems)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
