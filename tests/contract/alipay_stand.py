"""The Alipay channel pointed at its sandbox peer, with the peer's buyer and test controls: what
the payment port's contract suite needs from every channel (the WeChat Pay stand has the same
interface).

``async with alipay_stand(sandbox_url, http, keys_dir) as stand:`` gives ``stand.channel``, an
``AlipayChannel`` built through ``payments.providers.factory.CHANNELS["alipay"]`` with settings
that point at the peer of ``sandbox_url`` (``http://127.0.0.1:<port>/sandbox``) and read the
merchant's keys from ``keys_dir`` (the folder that peer was started with), and:

* ``await stand.pay(out_trade_no)``: the buyer pays (a precreated QR trade is scanned first); the
  peer then sends its signed notification to the trade's ``notify_url``;
* ``await stand.settle_refund(out_refund_no, state)``: a refund kept processing (fault
  ``refund_processing=True``) settles as ``"succeeded"`` or ``"failed"`` (``RefundState`` or its
  value);
* ``await stand.set_faults(**faults)``: ``duplicate`` (int), ``out_of_order``, ``delay_s``
  (float), ``drop``, ``bad_signature``, ``wrong_app_id``, ``wrong_seller_id``,
  ``wrong_total_amount``, ``response_bad_signature``, ``refund_processing``; ``await
  stand.flush()`` sends the notifications held back by ``out_of_order``, newest first;
* ``await stand.reset()``: no trades, no faults, no notifications in flight.

The peer is reset when the block starts and when it ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from core.settings import Settings
from payments.providers.base import PaymentChannel, RefundState
from payments.providers.factory import CHANNELS

_SETTLED = {RefundState.succeeded.value: "success", RefundState.failed.value: "failed"}


def stand_settings(sandbox_url: str, keys_dir: Path) -> Settings:
    """Settings of a server whose Alipay channel talks to the peer of ``sandbox_url``; the app
    and seller are the settings' defaults, which the peer process (started without ``ZB_``
    variables) uses too."""
    fields = Settings.model_fields
    return Settings(
        sandbox_base_url=sandbox_url,
        sandbox_keys_dir=keys_dir,
        alipay_gateway="",
        alipay_app_id=fields["alipay_app_id"].default,
        alipay_seller_id=fields["alipay_seller_id"].default,
    )


@dataclass
class AlipayStand:
    channel: PaymentChannel
    http: httpx.AsyncClient
    #: ``<sandbox_url>/alipay``
    peer_url: str

    async def control(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"{self.peer_url}/_control/{action}", json=body or {})
        assert response.status_code == 200, f"{action}: {response.status_code} {response.text}"
        answer: dict[str, Any] = response.json()
        return answer

    async def pay(self, out_trade_no: str) -> None:
        await self.control("pay", {"out_trade_no": out_trade_no})

    async def settle_refund(self, out_refund_no: str, state: RefundState | str) -> None:
        value = state.value if isinstance(state, RefundState) else state
        if value not in _SETTLED:
            raise ValueError("state must be succeeded or failed")
        await self.control(
            "refund-settle", {"out_request_no": out_refund_no, "state": _SETTLED[value]}
        )

    async def set_faults(self, **faults: Any) -> None:
        await self.control("faults", faults)

    async def flush(self) -> None:
        await self.control("flush")

    async def stats(self) -> dict[str, Any]:
        response = await self.http.get(f"{self.peer_url}/_control/stats")
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def reset(self) -> None:
        await self.control("reset")


@asynccontextmanager
async def alipay_stand(
    sandbox_url: str, http: httpx.AsyncClient, keys_dir: Path
) -> AsyncIterator[AlipayStand]:
    settings = stand_settings(sandbox_url, keys_dir)
    stand = AlipayStand(
        channel=CHANNELS["alipay"](settings, http),
        http=http,
        peer_url=f"{sandbox_url.rstrip('/')}/alipay",
    )
    await stand.reset()
    try:
        yield stand
    finally:
        await stand.reset()
