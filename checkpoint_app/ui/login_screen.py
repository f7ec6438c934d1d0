"""Officer login: name + mobile -> SMS code from the hub -> a signed credential for the shift."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from checkpoint_app.ui import load_kv


class LoginScreen(Screen):
    message = StringProperty("")
    code_sent = BooleanProperty(False)
    wide = BooleanProperty(False)

    def on_pre_enter(self, *_args: Any) -> None:
        self.message = ""
        self.ids.scroll.scroll_y = 1  # from the top, whatever the last visit scrolled to

    def on_message(self, _instance: object, text: str) -> None:
        # The message is what the officer waits for: never below the fold. Scrolled once the
        # label has its new height (the next frame).
        if text:
            Clock.schedule_once(lambda _dt: self._show_message())

    def _show_message(self) -> None:
        """Scroll so that 登入 is at the bottom of the view, the message just above it in view.

        Not ScrollView.scroll_to(message): that stops as soon as the message shows and can leave
        登入 anywhere, up to where the scan screen has 登出."""
        scroll = self.ids.scroll
        content = scroll.children[0] if scroll.children else None
        if content is None or content.height <= scroll.height:
            return  # the whole form is in view
        bottom = self.ids.verify.y - content.y - dp(8)  # from the bottom of the form
        scroll.scroll_y = min(1.0, max(0.0, bottom / (content.height - scroll.height)))

    def send_code(self) -> None:
        app = App.get_running_app()
        name = self.ids.name.text.strip()
        mobile = self.ids.mobile.text.strip()
        if not name or not mobile:
            self.message = app.tr("login_need_name_mobile")
            return
        self.message = app.tr("working")
        app.run_background(
            lambda: app.service.start_officer_login(name, mobile), self._code_sent, self._failed
        )

    def _code_sent(self, lifetime_s: int) -> None:
        self.code_sent = True
        self.message = App.get_running_app().tr("login_code_sent", minutes=max(1, lifetime_s // 60))
        self.ids.code.focus = True

    def verify(self) -> None:
        app = App.get_running_app()
        mobile = self.ids.mobile.text.strip()
        code = self.ids.code.text.strip()
        if not code:
            self.message = app.tr("login_need_code")
            return
        self.message = app.tr("working")
        app.run_background(
            lambda: app.service.finish_officer_login(mobile, code), self._logged_in, self._failed
        )

    def _logged_in(self, _session: Any) -> None:
        app = App.get_running_app()
        # The form is cleared: the next officer on this device starts from nothing.
        for field in ("name", "mobile", "code"):
            self.ids[field].text = ""
        self.code_sent = False
        self.message = ""
        app.refresh_status()
        app.go_home()

    def _failed(self, exc: BaseException) -> None:
        self.message = App.get_running_app().error_text(exc)


load_kv(__file__)
