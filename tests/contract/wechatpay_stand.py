"""The WeChat Pay stand of the payment-channel contract suite: the real adapter, built through
the registry, pointed at the WeChat Pay peer of a running sandbox process, and the peer's control
API as the payer, the bank and the test see it.

``keys_dir`` must be the folder the sandbox process keeps its keys in (``sandbox_process`` passes
it as ``--keys-dir``); the appid and mchid are asked of the peer itself, so the merchant side
always names the app and merchant the peer serves.
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

#: ``settle_refund`` takes the platform's word or ours.
REFUND_OUTCOMES = {
    "SUCCESS": "SUCCESS",
    "ABNORMAL": "ABNORMAL",
    "CLOSED": "CLOSED",
    RefundState.succeeded: "SUCCESS",
    RefundState.failed: "CLOSED",
}


@dataclass
class WeChatPayStand:
    channel: PaymentChannel
    settings: Settings
    http: httpx.AsyncClient
    #: ``<sandbox>/wechatpay``
    peer_url: str

    async def _control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"{self.peer_url}/_control/{path}", json=body or {})
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return dict(response.json())

    async def pay(self, out_trade_no: str) -> str:
        """The payer pays the order; the peer then sends its signed notification to the order's
        notify_url on the documented schedule. Returns the transaction id."""
        answer = await self._control("pay", {"out_trade_no": out_trade_no})
        return str(answer["transaction_id"])

    async def settle_refund(self, out_refund_no: str, state: str | RefundState) -> None:
        """The bank answers a processing refund: ``SUCCESS``, ``ABNORMAL`` or ``CLOSED`` (or
        ``RefundState.succeeded`` / ``failed``, the latter as CLOSED); the refund notification
        follows when the refund named a notify_url."""
        await self._control(
            "refund-settle", {"out_refund_no": out_refund_no, "status": REFUND_OUTCOMES[state]}
        )

    async def set_faults(self, **faults: Any) -> None:
        """Replace the notification faults: ``duplicate`` (int), ``out_of_order``, ``delay_s``,
        ``drop``, ``bad_signature``, ``wrong_mchid``, ``wrong_appid``, ``wrong_amount``; no
        argument clears them (and releases held out-of-order notifications)."""
        await self._control("faults", faults)

    async def reset(self) -> None:
        """Forget every order, refund, notification, fault and clock offset."""
        await self._control("reset")

    # beyond the common stand interface

    async def advance_clock(self, seconds: float) -> None:
        """Move the peer's business clock (expiries, refund intervals, bill readiness)."""
        await self._control("advance-clock", {"seconds": seconds})

    async def bill_differences(self, **differences: Any) -> None:
        """The next bill leaves out ``missing`` [out_trade_no], adds ``extra``
        [{out_trade_no, amount_fen}], changes ``amounts`` {out_trade_no: fen}."""
        await self._control("bill-differences", differences)

    async def notifications(self) -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.peer_url}/_control/notifications")
        return list(response.json()["notifications"])


@asynccontextmanager
async def wechatpay_stand(
    sandbox_url: str, http: httpx.AsyncClient, keys_dir: Path
) -> AsyncIterator[WeChatPayStand]:
    peer_url = f"{sandbox_url.rstrip('/')}/wechatpay"
    merchant = (await http.get(f"{peer_url}/_control/merchant")).json()
    settings = Settings(
        sandbox_enabled=False,
        sandbox_base_url=sandbox_url,
        sandbox_keys_dir=keys_dir,
        wechat_appid=merchant["appid"],
        wechatpay_mch_id=merchant["mchid"],
    )
    stand = WeChatPayStand(
        channel=CHANNELS["wechatpay"](settings, http),
        settings=settings,
        http=http,
        peer_url=peer_url,
    )
    await stand.reset()
    try:
        yield stand
    finally:
        await stand.reset()
