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
        self.results_path.write_text(json.dumps(self.results, ensure_ascii=False, indent=2), encoding="utf-8")
        if app is not None:
            app.stop()

    # -- the loop ------------------------------------------------------------------------------------
    def tick(self, _dt: float) -> bool:
        if self.finished:
            return False
        if self.app is None or self.app.root is None:
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
            button = self.widget(step["screen"], step["id"])
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
            screen = app.root.get_screen(step["screen"])
            self.results["records"][step["as"]] = {
                wid: getattr(screen.ids[wid], "text", None) for wid in step["ids"]
            } | {"_screen": app.root.current}
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
        if verb == "wait_status":
            status = app.service.sync_status()
            return all(getattr(status, key) == value for key, value in step["expect"].items())
        raise ValueError(f"unknown step {verb!r}")


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
