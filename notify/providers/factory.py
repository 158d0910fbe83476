"""The enabled outward channels, by name, from settings (the provider template's registry)."""

from __future__ import annotations

import httpx

from core.settings import Settings
from notify.providers.aliyun_sms import AliyunSms
from notify.providers.base import Channel
from notify.providers.wechat import WeChatSubscribe
from platforms.wechat import WeChatClient


def notify_channels(
    settings: Settings, *, http: httpx.AsyncClient, wechat: WeChatClient
) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    for name in settings.enabled_notify_channels:
        if name == "wechat":
            channels[name] = WeChatSubscribe(
                wechat, miniprogram_state=settings.notify_miniprogram_state
            )
        elif name == "sms":
            channels[name] = AliyunSms(
                http,
                endpoint=settings.effective_sms_endpoint,
                access_key_id=settings.sms_access_key_id,
                access_key_secret=settings.sms_access_key_secret,
                sign_name=settings.sms_sign_name,
            )
        else:  # settings refuse to start with another name
            raise ValueError(f"unknown notify channel {name!r}")
    return channels
