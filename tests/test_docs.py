"""The docs name every setting and every command, so an operator never meets one the docs hide.

A setting or a `checkpass` subcommand added without its line in docs/configuration.md or docs/cli.md fails
here, as datasette's own docs tests do for its settings.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from hub.core.config import Settings
from provisioning.cli import build_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for action in parser._actions:  # argparse keeps its subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                path = (*prefix, name)
                found.append(" ".join(path))
                found += _commands(sub, path)
    return found


def _documented(page: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", (DOCS / page).read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name):
    assert f"HUB_{name.upper()}" in _documented("configuration.md"), (
        f"HUB_{name.upper()} has no row in docs/configuration.md"
    )


def test_the_settings_page_names_no_setting_that_is_gone():
    known = {f"HUB_{name.upper()}" for name in Settings.model_fields}
    stale = {word for word in _documented("configuration.md") if word.startswith("HUB_")} - known
    assert not stale, f"docs/configuration.md documents settings the hub no longer has: {sorted(stale)}"


@pytest.mark.parametrize("command", _commands(build_parser(), ("checkpass",)))
def test_every_command_is_documented(command):
    assert command in _documented("cli.md"), f"`{command}` has no line in docs/cli.md"


def test_the_command_list_is_read_from_the_parser():
    """The walk itself must see nested commands, or the test above checks nothing."""
    commands = _commands(build_parser(), ("checkpass",))
    assert "checkpass hub keys rotate" in commands and "checkpass pass verify" in commands


def test_every_docs_page_is_in_the_index():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and f"({p.name})" not in index]
    assert not missing, f"docs/README.md does not list {missing}"
