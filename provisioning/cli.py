"""The `checkpass` command: one entry point, each part registers its own subcommands.

Parts register lazily so that the core (keys, bundle, pass) works without the hub or
checkpoint extras installed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that expose `register(subparsers) -> None`; missing extras only hide their commands.
_PARTS = ("provisioning.commands", "hub.cli", "checkpoint_app.cli")


class UsageError(Exception):
    """A user error: printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="checkpass", description="Checkpass traffic-control passes")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _PARTS:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            ours = ("crypto", "provisioning", "hub", "checkpoint_app")
            if exc.name == name or (exc.name or "").split(".")[0] not in ours:
                continue  # the part or its extra is not installed: its commands are simply absent
            raise  # a broken import inside our own code is a bug, not a missing extra
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"checkpass: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
