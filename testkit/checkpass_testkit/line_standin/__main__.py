"""The stand-in on its own:
`python -m checkpass_testkit.line_standin --port 8081 --channel enterprise=TOKEN --channel police=TOKEN`."""

from __future__ import annotations

import argparse
import time

from checkpass_testkit.line_standin.server import StandIn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the LINE platform stand-in on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--channel", action="append", default=[], help="name=access-token, repeatable")
    parser.add_argument("--login-channel-id", default="1234567890")
    args = parser.parse_args(argv)
    channels = dict(item.split("=", 1) for item in args.channel) or {"enterprise": "enterprise-token"}
    standin = StandIn(channels, login_channel_id=args.login_channel_id)
    print(f"LINE stand-in at {standin.start(args.host, args.port)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
