"""Drive the real checkpoint app through a scripted scenario, in its own process (Kivy's Window is a
process singleton, so each UI test runs one of these).

    python driver.py SCENARIO.json RESULTS.json -- <arguments of `checkpass checkpoint`>

The app is started through the real entry point (`provisioning.cli.main(["checkpoint", ...])`);
the scenario runs on Kivy's clock, inside the app's own event loop, like a user would: it waits
for screens, types into inputs, presses buttons, points the (file) camera at another code, reads
the hub's SMS outbox file for the login code, records widget texts and saves screenshots. The
pytest side asserts on RESULTS.json. A step that times out ends the run with ok=false.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

STEP_TIMEOUT_S = 20.0
TICK_S = 0.05


class Scenario:
    def __init__(self, steps: list[dict[str, Any]], results_path: Path) -> None:
        self.steps = steps
        self.results_path = results_path
        self.index = 0
        self.step_started = time.monotonic()
        self.results: dict[str, Any] = {"ok": False, "error": None, "records": {}, "shots": {}, "log": []}
        self.finished = False
        self.points: dict[str, tuple[float, float]] = {}  # window positions remembered by "where"
        self.work_started = 0  # background calls started (app.busy went up) since "count_work"
        self.double: dict[str, Any] | None = None  # a double tap under way

    # -- helpers ---------------------------------------------------------------------------------------
    @property
    def app(self) -> Any:
        from kivy.app import App

        return App.get_running_app()

    def widget(self, screen: str, wid: str) -> Any:
        return self.app.root.get_screen(screen).ids[wid]

    def finish(self, ok: bool, error: str | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        self.results["ok"] = ok
        self.results["error"] = error
        app = self.app
        self.results["sounds_played"] = list(app.sounds.played) if app else []
        from checkpoint_app.ui.taps import REPEAT_S, SETTLE_S

        self.results["guards"] = {"repeat_s": REPEAT_S, "settle_s": SETTLE_S}
        self.results_path.write_text(json.dumps(self.results, ensure_ascii=False, indent=2), encoding="utf-8")
        if app is not None:
            app.stop()

    # -- the loop ------------------------------------------------------------------------------------
    def tick(self, _dt: float) -> bool:
        if self.finished:
            return False
        if self.app is None or self.app.root is None:
            self.step_started = time.monotonic()  # a slow start-up is not the first step's time
            return True
        if self.index >= len(self.steps):
            self.finish(True)
            return False
        step = self.steps[self.index]
        try:
            done = self.run(step)
        except Exception:
            self.finish(False, f"step {self.index} {step}: {traceback.format_exc()}")
            return False
        elapsed = time.monotonic() - self.step_started
        if done:
            self.results["log"].append({"step": self.index, "do": step["do"], "s": round(elapsed, 3)})
            self.index += 1
            self.step_started = time.monotonic()
        elif elapsed > step.get("timeout", STEP_TIMEOUT_S):
            detail = self.describe()
            self.finish(False, f"step {self.index} timed out after {elapsed:.1f}s: {step}; {detail}")
            return False
        return True

    def _busy_changed(self, _app: Any, busy: bool) -> None:
        if busy:
            self.work_started += 1

    def target(self, step: dict[str, Any]) -> Any:
        """The widget a step names: `id` on `screen`, or on the open popup with "popup": true."""
        if step.get("popup"):
            popup = open_popup()
            if popup is None:
                raise AssertionError("no popup is open")
            return popup.ids[step["id"]]
        if "text" in step:  # a button without an id of its screen (the top bar's language switch)
            from kivy.uix.button import Button

            screen = self.app.root.get_screen(step["screen"])
            return next(w for w in screen.walk() if isinstance(w, Button) and w.text == step["text"])
        return self.widget(step["screen"], step["id"])

    def point(self, step: dict[str, Any]) -> tuple[float, float]:
        return self.points[step["at"]] if "at" in step else _centre(self.target(step))

    def describe(self) -> str:
        app = self.app
        screen = app.root.current
        texts = {}
        for wid, widget in app.root.get_screen(screen).ids.items():
            if hasattr(widget, "text"):
                texts[wid] = widget.text
        return f"current screen {screen!r}, texts {texts}"

    def run(self, step: dict[str, Any]) -> bool:  # noqa: PLR0911 - one branch per verb
        verb = step["do"]
        app = self.app
        if verb == "wait_screen":
            return app.root.current == step["name"] and app.root.transition.is_active is False
        if verb == "wait_text":
            text = self.widget(step["screen"], step["id"]).text
            if "equals" in step:
                return text == step["equals"]
            return step["contains"] in text
        if verb == "type":
            self.widget(step["screen"], step["id"]).text = step["text"]
            return True
        if verb == "press":
            button = self.target(step)
            if button.disabled:
                return False  # wait until it is enabled (e.g. busy with a network call)
            button.trigger_action(duration=0)
            return True
        if verb == "camera":
            # The officer points the camera at another code: a screen showing the camera now
            # reads from the new file (the next screen that opens the camera does anyway).
            app.camera_spec = step["spec"]
            screen = app.root.current_screen
            if getattr(screen, "scanner", None) is not None:
                screen.start_camera()
            return True
        if verb == "sms_code":
            from hub.sms import latest_code

            code = latest_code(step["file"], step["mobile"])
            if code is None:
                return False
            self.widget(step["screen"], step["id"]).text = code
            return True
        if verb == "record":
            popup = open_popup() if step.get("popup") else None
            owner = popup if popup is not None else app.root.get_screen(step["screen"])
            self.results["records"][step["as"]] = (
                {wid: getattr(owner.ids[wid], "text", None) for wid in step["ids"]}
                | {"_screen": app.root.current}
                | ({"_title": popup.title} if popup is not None else {})
            )
            return True
        if verb == "record_disabled":
            # Whether buttons may be pressed now (e.g. 查詢 while the field holds an untrusted photo read).
            screen = app.root.get_screen(step["screen"])
            self.results["records"][step["as"]] = {wid: bool(screen.ids[wid].disabled) for wid in step["ids"]}
            return True
        if verb == "record_status":
            status = app.service.sync_status()
            self.results["records"][step["as"]] = {
                "queued": status.queued,
                "parked": status.parked,
                "online": status.online,
                "last_sync_at": status.last_sync_at,
                "trust_age_s": status.trust_age_s,
            }
            return True
        if verb == "record_scanner":
            screen = app.root.get_screen(step["screen"])
            scanner = screen.scanner
            self.results["records"][step["as"]] = (
                None if scanner is None else scanner.stats.as_dict() | {"dropped": scanner.dropped}
            )
            return True
        if verb == "settle":
            # Let the window draw a few frames (a screenshot straight after a change shows the old one).
            return time.monotonic() - self.step_started >= step.get("seconds", 0.4)
        if verb == "shot":
            from kivy.core.window import Window

            target = Path(step["dir"]) / f"{step['name']}.png"
            saved = Window.screenshot(name=str(target))
            if saved:
                Path(saved).replace(target)
                self.results["shots"][step["name"]] = str(target)
            return True
        if verb == "lang":
            app.lang = step["value"]
            return True
        if verb == "glyph_check":
            self.results["records"][step["as"]] = glyph_check(step["text"], step.get("control", ""))
            return True
        if verb == "layout_check":
            self.results["records"][step["as"]] = layout_problems(app.root.current_screen, step["min_mm"])
            return True
        if verb == "screen_texts":
            self.results["records"][step["as"]] = screen_texts(app.root.current_screen)
            return True
        if verb == "wait_idle":
            # A background call (network) has come back and its message is on screen.
            return not app.busy and time.monotonic() - self.step_started >= 0.1
        if verb == "go":
            app.go(step["name"])
            return True
        if verb == "show_outcome":
            # A verdict screen for the layout checks without a camera round (the outcome is the
            # core's own, made from a real pass by the service).
            app.show_outcome(app.service.check_pass(step["text"]))
            return True
        if verb == "where":
            # Remember where a widget is on screen (e.g. 繼續掃描), to tap there on the next screen.
            self.points[step["as"]] = _centre(self.target(step))
            return True
        if verb == "tap":
            # A finger, not trigger_action: the touch goes through the window, the screen manager
            # and whatever is on top (a popup), as a real one does.
            tap(self.point(step))
            return True
        if verb == "double_tap":
            # Two taps at one spot, `gap` seconds apart (a double tap is 0.1-0.3 s), whatever the
            # first one did to the screen in between.
            # On a loaded machine the app's frames stall and the second tap comes later than
            # `gap`: the gap really made (from the end of the first tap's handling, which is
            # where the app's guards start) is recorded under "as" for the test to judge.
            if self.double is None:
                self.double = {"at": self.point(step), "first": time.monotonic()}
                tap(self.double["at"])
                self.double["handled"] = time.monotonic()
                return False
            if time.monotonic() - self.double["first"] < step.get("gap", 0.25):
                return False
            if "as" in step:
                self.results["records"][step["as"]] = round(time.monotonic() - self.double["handled"], 3)
            tap(self.double["at"])
            self.double = None
            return True
        if verb == "key":
            from kivy.core.window import Window

            # As the SDL2 window does: on_keyboard unless an on_key_down handler took the key.
            if not Window.dispatch("on_key_down", step["key"], 0, "", []):
                Window.dispatch("on_keyboard", step["key"], 0, "", [])
            Window.dispatch("on_key_up", step["key"], 0)
            return True
        if verb == "count_work":
            if not self.results.get("_counting"):
                app.bind(busy=self._busy_changed)
                self.results["_counting"] = True
            self.work_started = 0
            return True
        if verb == "record_work":
            self.results["records"][step["as"]] = self.work_started
            return True
        if verb == "record_app":
            popup = open_popup()
            self.results["records"][step["as"]] = {
                "screen": app.root.current,
                "officer": app.service.officer() is not None,
                "enrolled": app.service.is_enrolled(),
                "lang": app.lang,
                "popup": None if popup is None else type(popup).__name__,
            }
            return True
        if verb == "roles":
            self.results["records"][step["as"]] = role_boxes(app.root.current_screen, open_popup())
            return True
        if verb == "wait_popup":
            return (open_popup() is not None) == step.get("open", True)
        if verb == "say":
            # Put one of the screen's own messages (the longest, say) on its message line, to
            # check that it fits at this size without the network round that brings it.
            screen = app.root.get_screen(step["screen"])
            screen.message = app.tr(step["key"], **step.get("values", {}))
            return True
        if verb == "wait_status":
            status = app.service.sync_status()
            return all(getattr(status, key) == value for key, value in step["expect"].items())
        raise ValueError(f"unknown step {verb!r}")


def _centre(widget: Any) -> tuple[float, float]:
    return widget.to_window(*widget.center)


def tap(point: tuple[float, float]) -> None:
    """A touch down and up at a window position, dispatched as the window's input provider would."""
    from kivy.tests.common import UnitTestTouch

    touch = UnitTestTouch(*point)
    touch.touch_down()
    touch.touch_up()


def open_popup() -> Any:
    """The modal view (popup) open on top of the screens, if any."""
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    return next((child for child in Window.children if isinstance(child, ModalView)), None)


def role_boxes(screen: Any, popup: Any) -> list[dict[str, Any]]:
    """Window boxes of the buttons with a role ('main', 'destructive') on the screen and the popup."""
    found = []
    for owner, where in ((screen, screen.name), (popup, "popup")):
        if owner is None:
            continue
        for widget in owner.walk():
            role = getattr(widget, "role", "")
            if role and _shown(widget):
                name = next(
                    (key for key, value in owner.ids.items() if value is widget.proxy_ref), widget.text
                )
                found.append({"where": where, "id": name, "role": role, "box": _window_box(widget)})
    return found


def _window_box(widget: Any) -> tuple[float, float, float, float]:
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return x0, y0, x1, y1


def _scroll_parent(widget: Any) -> Any:
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        if isinstance(parent, ScrollView):
            return parent
        parent = parent.parent
    return None


def _shown(widget: Any) -> bool:
    node = widget
    while node is not None and node is not node.parent:
        if getattr(node, "opacity", 1) <= 0:
            return False
        node = node.parent
    return widget.width > 0 and widget.height > 0


def layout_problems(screen: Any, min_mm: float) -> dict[str, Any]:
    """Every button inside the window (or inside a scroll view that is) and at least `min_mm` on
    each side; every label's text fits its widget (nothing cut, nothing shortened with "...").
    Sizes in mm use Kivy's own dpi (the test sets it to the emulated device's)."""
    from kivy.core.text import Label as CoreLabel
    from kivy.core.window import Window
    from kivy.metrics import Metrics
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.textinput import TextInput

    problems: list[str] = []
    min_px = min_mm / 25.4 * Metrics.dpi
    width, height = Window.size
    buttons = labels = 0

    def inside(widget: Any, name: str) -> None:
        area = _scroll_parent(widget)
        x0, y0, x1, y1 = _window_box(area if area is not None else widget)
        if x0 < -1 or y0 < -1 or x1 > width + 1 or y1 > height + 1:
            problems.append(f"{name} outside the window: {(x0, y0, x1, y1)} in {width}x{height}")
        if area is not None:  # reachable by scrolling: within the scrolled content's width
            if widget.to_window(widget.right, 0)[0] > x1 + 1 or widget.to_window(widget.x, 0)[0] < x0 - 1:
                problems.append(f"{name} sticks out of its scroll view sideways")

    for widget in screen.walk():
        if not _shown(widget):
            continue
        kind = type(widget).__name__
        text = getattr(widget, "text", "")
        text = text if isinstance(text, str) else ""
        name = f"{kind}({text[:24]!r})"
        if isinstance(widget, Button):
            buttons += 1
            inside(widget, name)
            if widget.width < min_px - 0.5 or widget.height < min_px - 0.5:
                problems.append(f"{name} is {widget.width:.0f}x{widget.height:.0f} px < {min_px:.0f} px")
        if isinstance(widget, TextInput):
            inside(widget, name)
        if isinstance(widget, Label) and text.strip():
            labels += 1
            inside(widget, name)
            if kind == "Message":
                # A status or error line is read without scrolling: wholly in view.
                area = _scroll_parent(widget)
                vx0, vy0, vx1, vy1 = _window_box(area) if area is not None else (0, 0, width, height)
                x0, y0, x1, y1 = _window_box(widget)
                if y0 < vy0 - 1 or y1 > vy1 + 1 or y0 < -1 or y1 > height + 1:
                    problems.append(
                        f"{name} not wholly in view: {(x0, y0, x1, y1)} in {(vx0, vy0, vx1, vy1)}"
                    )
            widget.texture_update()
            tw, th = widget.texture_size
            if tw > widget.width + 1 or th > widget.height + 1:
                problems.append(f"{name} clipped: text {tw}x{th} in {widget.width:.0f}x{widget.height:.0f}")
            if widget.shorten or widget.text_size[1] is not None:
                # Shortened with "..." or cut to a fixed box: compare with the text laid out freely.
                free = CoreLabel(
                    text=text,
                    font_size=widget.font_size,
                    font_name=widget.font_name,
                    bold=widget.bold,
                    text_size=(widget.text_size[0], None),
                    halign=widget.halign,
                    padding=widget.padding,
                    line_height=widget.line_height,
                )
                free.refresh()
                fw, fh = free.texture.size
                if fw > widget.width + 1 or fh > widget.height + 1:
                    problems.append(
                        f"{name} cut: needs {fw}x{fh}, has {widget.width:.0f}x{widget.height:.0f}"
                    )
    return {"problems": problems, "buttons": buttons, "labels": labels, "window": [width, height]}


def screen_texts(screen: Any) -> list[str]:
    """Every text the screen shows in its own words (labels, buttons, input hints)."""
    from kivy.uix.textinput import TextInput

    texts = []
    for widget in screen.walk():
        if not _shown(widget):
            continue
        # What the officer typed is theirs, not the app's words.
        for attr in ("hint_text",) if isinstance(widget, TextInput) else ("text",):
            value = getattr(widget, attr, None)
            if isinstance(value, str) and value.strip():
                texts.append(value)
    return texts


def glyph_check(text: str, control: str) -> dict[str, Any]:
    """Render each character with the app's default font (as every Label does) and compare it with
    the font's missing-glyph box. `control` holds characters expected to be missing (proves the
    comparison can fail)."""
    from kivy.core.text import Label as CoreLabel

    def render(char: str) -> tuple[tuple[int, int], bytes]:
        label = CoreLabel(text=char, font_size=40)
        label.refresh()
        return tuple(label.texture.size), bytes(label.texture.pixels)

    def inked(pixels: bytes) -> bool:
        return any(pixels[3::4])  # some alpha: something was drawn

    tofu = render("\ue000")  # a private-use code point: no font we ship maps it
    missing = sorted(
        c for c in set(text) if not c.isspace() and (render(c) == tofu or not inked(render(c)[1]))
    )
    return {
        "checked": len({c for c in text if not c.isspace()}),
        "missing": missing,
        "tofu_is_inked": inked(tofu[1]),
        "control_missing": sorted(c for c in set(control) if render(c) == tofu),
    }


def main(argv: list[str]) -> int:
    scenario_path, results_path = Path(argv[0]), Path(argv[1])
    app_args = argv[argv.index("--") + 1 :]
    steps = json.loads(scenario_path.read_text(encoding="utf-8"))
    scenario = Scenario(steps, results_path)
    os.environ.setdefault("KIVY_NO_ARGS", "1")

    from kivy.clock import Clock

    Clock.schedule_interval(scenario.tick, TICK_S)
    from provisioning.cli import main as checkpass

    try:
        code = checkpass(["checkpoint", *app_args])
    finally:
        if not scenario.finished:
            scenario.results["error"] = scenario.results["error"] or "the app ended before the scenario did"
            results_path.write_text(
                json.dumps(scenario.results, ensure_ascii=False, indent=2), encoding="utf-8"
            )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
