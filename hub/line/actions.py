"""The rich-menu items of a bound caller, over the services. Filled in by the menu work (docs/line.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.line import messages as m
from hub.line.binding import Caller


def run(db: Session, caller: Caller, action: str, data: dict[str, str]) -> Any:
    from hub.line.conversation import Outcome

    return Outcome([m.text("無法辨識的操作，請使用下方選單。")])
