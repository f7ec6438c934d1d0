"""One tap, one action: a double tap (or a shaky glove) must not act twice.

Two places where a second tap of a double tap lands, and why each swallows it:

* the same button again, after the first tap's work came back quickly: a button ignores a touch
  within `REPEAT_S` of its last release (and is disabled while its work runs, in the kv rules);
* whatever the next screen has at that spot: for `SETTLE_S` after the screen changed, the screen
  manager takes no touches (Kivy's own transition blocks only while it animates, 0.12 s). This
  also covers a new verdict that comes up right after 繼續掃描: the officer sees it before any
  tap can dismiss it.

Both windows are longer than the gap between the taps of a double tap (100-300 ms) and shorter
than anyone needs to read a new screen and decide on a deliberate tap.
"""

from __future__ import annotations

import time
from typing import Any

from kivy.properties import StringProperty
from kivy.uix.button import Button
from kivy.uix.screenmanager import ScreenManager

REPEAT_S = 0.6
SETTLE_S = 0.5


class SteadyButton(Button):
    """A button whose second tap within REPEAT_S of the first is the same tap (ignored)."""

    # 'main' for a screen's main actions, 'destructive' for what cannot be undone by a tap (log
    # out): a destructive button never sits where another screen has a main one
    # (tests/checkpoint_app/ui/test_ui_taps.py measures it at every size).
    role = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._released_at = float("-inf")
        super().__init__(**kwargs)

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos) and time.monotonic() - self._released_at < REPEAT_S:
            return True  # taken, and nothing happens
        return super().on_touch_down(touch)

    def on_release(self) -> None:
        self._released_at = time.monotonic()


class SteadyScreenManager(ScreenManager):
    """A screen manager that takes no touch until a new screen has been up for SETTLE_S."""

    def __init__(self, **kwargs: Any) -> None:
        self._changed_at = float("-inf")
        super().__init__(**kwargs)
        self.bind(current=self._changed)

    def _changed(self, *_args: Any) -> None:
        self._changed_at = time.monotonic()

    def settling(self) -> bool:
        return time.monotonic() - self._changed_at < SETTLE_S

    def on_touch_down(self, touch: Any) -> bool:
        if self.settling():
            return True
        return super().on_touch_down(touch)
