"""``python -m sandbox --port P --appid A --secret S``: the peers as a process of their own.

Tests start it this way so that the code under test reaches the peers over a real socket, as it
will reach the real platforms. The appid and secret default to the settings' (``ZB_WECHAT_*``).
"""

from __future__ import annotations

import argparse

from core.logging import configure_logging
from core.settings import get_settings
from sandbox.app import create_sandbox_app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8100, help="port to bind (8100)")
    parser.add_argument("--appid", default=settings.wechat_appid, help="mini-program AppID")
    parser.add_argument("--secret", default=settings.wechat_secret, help="mini-program AppSecret")
    parser.add_argument("--log-level", default="WARNING", help="logging level (WARNING)")
    args = parser.parse_args(argv)

    configure_logging(args.log_level)
    app = create_sandbox_app(args.appid, args.secret)
    app.run(
        host=args.host,
        port=args.port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
