"""Fake EVERY8D and Mitake servers: real HTTP on 127.0.0.1 (random port), in a thread.

They check what a gateway sends the way the providers document it (path, method, form fields, the
09xxxxxxxx number form) and answer in the provider's reply format. What they got is kept in
``server.requests``; a request that breaks the documented shape is answered HTTP 400 and described in
``server.problems``, so a test sees it.

    with fake_every8d(uid="acct", password="pw") as server:
        gateway = Every8dGateway(server.base_url, "acct", "pw", timeout=2)
        server.mode = "ok"        # ok | error | refused | http500 | slow | garbage | error_big5
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_LOCAL_MOBILE = re.compile(r"^09\d{8}$")


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    content_type: str


@dataclass
class FakeProvider:
    kind: str
    account: str
    password: str
    mode: str = "ok"
    delay: float = 3.0  # how long "slow" waits before answering
    credit: int = 100
    requests: list[ReceivedRequest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    base_url: str = ""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_000_000_001))

    def reply(self, request: ReceivedRequest) -> tuple[int, bytes]:
        problems = self._check(request)
        if problems:
            self.problems.extend(problems)
            return 400, ("; ".join(problems)).encode()
        if self.mode == "http500":
            return 500, b"Internal Server Error"
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "garbage":
            return 200, b"<html><body>Service Unavailable</body></html>"
        if self.kind == "every8d":
            return 200, self._every8d_reply(request).encode("utf-8")
        body = self._mitake_reply(request)
        return 200, body.encode("big5" if self.mode == "error_big5" else "utf-8")

    # --- EVERY8D: POST /API21/HTTP/sendSMS.ashx, form UID PWD SB MSG DEST ST -------------------------
    def _every8d_reply(self, request: ReceivedRequest) -> str:
        form = request.form
        if self.mode == "error" or form["UID"] != self.account or form["PWD"] != self.password:
            # The code table is not public; -300 stands for "account/password wrong" in this fake.
            return "-300,帳號或密碼錯誤"
        if self.mode == "refused":
            return f"{self.credit:.1f},0,0,1," + "00000000-0000-0000-0000-000000000000"
        self.credit -= 1
        return f"{self.credit:.1f},1,1,0,{next(self._ids):08x}-0000-4000-8000-000000000000"

    # --- Mitake: POST /api/mtk/SmSend?CharsetURL=UTF-8, form username password dstaddr smbody ----------
    def _mitake_reply(self, request: ReceivedRequest) -> str:
        form = request.form
        if (
            self.mode in ("error", "error_big5")
            or form["username"] != self.account
            or form["password"] != self.password
        ):
            return "[1]\r\nstatuscode=e\r\nError=帳號、密碼錯誤\r\n"
        if self.mode == "refused":
            return "[1]\r\nmsgid=#000000000\r\nstatuscode=v\r\nError=無效的手機號碼\r\n"
        self.credit -= 1
        return f"[1]\r\nmsgid={next(self._ids)}\r\nstatuscode=1\r\nAccountPoint={self.credit}\r\n"

    def _check(self, request: ReceivedRequest) -> list[str]:
        problems: list[str] = []
        if request.method != "POST":
            problems.append(f"method {request.method}, expected POST")
        if "application/x-www-form-urlencoded" not in request.content_type:
            problems.append(f"content type {request.content_type!r}, expected a form")
        if self.kind == "every8d":
            if request.path != "/API21/HTTP/sendSMS.ashx":
                problems.append(f"path {request.path}")
            required = ("UID", "PWD", "SB", "MSG", "DEST", "ST")
            number, body = request.form.get("DEST", ""), request.form.get("MSG", "")
        else:
            if request.path != "/api/mtk/SmSend":
                problems.append(f"path {request.path}")
            if request.query.get("CharsetURL") != "UTF-8":
                problems.append("CharsetURL=UTF-8 missing from the query")
            required = ("username", "password", "dstaddr", "smbody")
            number, body = request.form.get("dstaddr", ""), request.form.get("smbody", "")
            if "\n" in body or "\r" in body:
                problems.append("smbody holds a newline; Mitake wants 0x06")
        missing = [name for name in required if name not in request.form]
        if missing:
            problems.append(f"missing form fields {missing}")
        if not _LOCAL_MOBILE.match(number):
            problems.append("recipient not in 09xxxxxxxx form")
        if not body:
            problems.append("empty message body")
        return problems


def _handler_for(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True, encoding="utf-8").items()}
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            request = ReceivedRequest(
                self.command, parts.path, query, form, self.headers.get("Content-Type", "")
            )
            provider.requests.append(request)
            status, body = provider.reply(request)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        do_POST = _handle
        do_GET = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the form holds numbers

    return Handler


@contextmanager
def _serve(provider: FakeProvider) -> Iterator[FakeProvider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(provider))
    server.daemon_threads = True
    server.block_on_close = False  # a "slow" handler must not hold up the test's exit
    provider.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-{provider.kind}", daemon=True
    )
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def fake_every8d(uid: str = "every8d-account", password: str = "every8d-secret") -> Iterator[FakeProvider]:
    with _serve(FakeProvider("every8d", uid, password)) as provider:
        yield provider


@contextmanager
def fake_mitake(username: str = "mitake-account", password: str = "mitake-secret") -> Iterator[FakeProvider]:
    with _serve(FakeProvider("mitake", username, password)) as provider:
        yield provider
