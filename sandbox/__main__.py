"""``python -m sandbox --port P --appid A --secret S``: the peers as a process of their own.

Tests start it this way so that the code under test reaches the peers over a real socket, as it
will reach the real platforms. The appid and secret default to the settings' (``ZB_WECHAT_*``);
the payment peers' key folder, merchant id and callback speedup too (``ZB_SANDBOX_KEYS_DIR``,
``ZB_WECHATPAY_MCH_ID``, ``ZB_SANDBOX_CALLBACK_SPEEDUP``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.logging import configure_logging
from core.settings import get_settings
from sandbox.app import MessagingSetup, create_sandbox_app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8100, help="port to bind (8100)")
    parser.add_argument("--appid", default=settings.wechat_appid, help="mini-program AppID")
    parser.add_argument("--secret", default=settings.wechat_secret, help="mini-program AppSecret")
    parser.add_argument(
        "--keys-dir",
        type=Path,
        default=settings.effective_sandbox_keys_dir,
        help="the sandbox payment keys' folder, shared with the server (ZB_SANDBOX_KEYS_DIR)",
    )
    parser.add_argument(
        "--mch-id", default=settings.wechatpay_mch_id, help="WeChat Pay merchant id (mchid)"
    )
    parser.add_argument(
        "--callback-speedup",
        type=float,
        default=settings.sandbox_callback_speedup,
        help="divide the payment platforms' callback resend schedule by this",
    )
    parser.add_argument(
        "--messaging",
        type=Path,
        help="JSON file of the deployment's subscribe and SMS templates and SMS receipt URL, "
        "as the platforms' consoles hold them (sandbox.app.MessagingSetup.from_document)",
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level (WARNING)")
    args = parser.parse_args(argv)

    configure_logging(args.log_level)
    app = create_sandbox_app(
        args.appid,
        args.secret,
        keys_dir=args.keys_dir,
        wechatpay_mch_id=args.mch_id,
        callback_speedup=args.callback_speedup,
        # The SMS account is the settings' (``ZB_SMS_*``); the templates those of --messaging
        # (a reset of a peer returns to them), or registered by whoever uses the peer.
        messaging=MessagingSetup.from_document(
            json.loads(args.messaging.read_text(encoding="utf-8")) if args.messaging else {},
            sms_access_key_id=settings.sms_access_key_id,
            sms_access_key_secret=settings.sms_access_key_secret,
            sms_signs=(settings.sms_sign_name,),
        ),
    )
    app.run(
        host=args.host,
        port=args.port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
