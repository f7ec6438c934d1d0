"""A stand-in for the LINE platform built from LINE's OpenAPI specs (vendored in `specs/`, Apache-2.0)."""

from checkpass_testkit.line_standin.server import Call, StandIn

__all__ = ["Call", "StandIn"]
