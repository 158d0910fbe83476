"""Assembling the peers: mounted inside the embedded server, or served on their own.

The embedded profile mounts them in the application itself (``mount_sandbox``), so one process
shows the whole flow; tests start them as a separate process (``python -m sandbox``), so the
adapters cross a real socket to a peer they share nothing with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from sandbox.alipay import AlipaySandbox, alipay_blueprint, alipay_peer
from sandbox.realname import RealnameSandbox, realname_blueprint
from sandbox.registry import RegistrySandbox, registry_blueprint
from sandbox.sms import AliyunSmsSandbox, sms_blueprint
from sandbox.wechat import SubscribeTemplate, WeChatSandbox, wechat_blueprint
from sandbox.wechatpay import WeChatPaySandbox, wechatpay_blueprint


@dataclass(frozen=True)
class SandboxPeers:
    """The state of every mounted peer, for code that drives them in-process (demo, tests)."""

    wechat: WeChatSandbox
    realname: RealnameSandbox
    registry: RegistrySandbox
    wechatpay: WeChatPaySandbox
    alipay: AlipaySandbox
    sms: AliyunSmsSandbox


@dataclass(frozen=True)
class MessagingSetup:
    """What the messaging peers are told of the deployment, as the platforms' consoles would
    hold it: the mini-program's subscribe templates (公共模板库 choices), and the SMS account with
    its registered signatures and templates. Empty by default: a test or the embedded server
    registers the deployment's own (``_control`` routes or this)."""

    subscribe_templates: Mapping[str, SubscribeTemplate] | None = None
    sms_access_key_id: str = "sandbox-sms-key"
    sms_access_key_secret: str = "sandbox-sms-secret"
    sms_signs: tuple[str, ...] = ()
    sms_templates: Mapping[str, tuple[str, ...]] | None = None
    sms_report_url: str | None = None

    @classmethod
    def from_document(cls, data: Mapping[str, Any], **account: Any) -> MessagingSetup:
        """From its JSON form (``python -m sandbox --messaging FILE``): ``{"subscribe_templates":
        {id: {"keys": [...], "long_term": bool}}, "sms_templates": {code: [variable, ...]},
        "sms_report_url": url}``; ``account`` the SMS account's fields."""
        return cls(
            subscribe_templates={
                str(template_id): SubscribeTemplate(
                    keys=tuple(t["keys"]), long_term=bool(t.get("long_term", False))
                )
                for template_id, t in dict(data.get("subscribe_templates") or {}).items()
            },
            sms_templates={
                str(code): tuple(names)
                for code, names in dict(data.get("sms_templates") or {}).items()
            },
            sms_report_url=data.get("sms_report_url"),
            **account,
        )


def mount_sandbox(
    app: Sanic,
    *,
    appid: str,
    secret: str,
    keys_dir: Path,
    wechatpay_mch_id: str,
    callback_speedup: float = 1.0,
    messaging: MessagingSetup | None = None,
) -> SandboxPeers:
    """Register the peers' blueprints on ``app``, each with fresh state, and return the state.

    The payment peers read (or first generate) their keys in ``keys_dir``, the folder the
    merchant side reads its halves from, and resend callbacks ``callback_speedup`` times faster
    than the platforms do."""
    messaging = messaging or MessagingSetup()
    peers = SandboxPeers(
        wechat=WeChatSandbox(
            appid=appid, secret=secret, subscribe_templates=messaging.subscribe_templates
        ),
        realname=RealnameSandbox(),
        registry=RegistrySandbox(),
        wechatpay=WeChatPaySandbox(
            keys_dir=keys_dir,
            appid=appid,
            mch_id=wechatpay_mch_id,
            callback_speedup=callback_speedup,
        ),
        alipay=alipay_peer(keys_dir=keys_dir, callback_speedup=callback_speedup),
        sms=AliyunSmsSandbox(
            access_key_id=messaging.sms_access_key_id,
            access_key_secret=messaging.sms_access_key_secret,
            signs=messaging.sms_signs,
            templates=messaging.sms_templates or {},
            report_url=messaging.sms_report_url,
        ),
    )
    app.blueprint(wechat_blueprint(peers.wechat))
    app.blueprint(realname_blueprint(peers.realname))
    app.blueprint(registry_blueprint(peers.registry))
    app.blueprint(wechatpay_blueprint(peers.wechatpay))
    app.blueprint(alipay_blueprint(peers.alipay))
    app.blueprint(sms_blueprint(peers.sms))
    return peers


def create_sandbox_app(
    appid: str,
    secret: str,
    *,
    keys_dir: Path,
    wechatpay_mch_id: str,
    callback_speedup: float = 1.0,
    name: str = "zhangban_sandbox",
    messaging: MessagingSetup | None = None,
) -> Sanic:
    """An application serving only the peers (state in ``app.ctx.sandbox``)."""
    app = Sanic(name, configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.HEALTH = False
    app.ctx.sandbox = mount_sandbox(
        app,
        appid=appid,
        secret=secret,
        keys_dir=keys_dir,
        wechatpay_mch_id=wechatpay_mch_id,
        callback_speedup=callback_speedup,
        messaging=messaging,
    )

    @app.get("/sandbox/healthz", name="sandbox_healthz")
    async def healthz(request: Request) -> HTTPResponse:
        """Lets a test wait until the separate process answers."""
        return json({"status": "ok"})

    return app
