"""The app's console: Kivy's handler on the root logger must not turn every sync into HTTP chatter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

# Runs in a fresh interpreter: Kivy's logging set-up happens once per process, at import.
CHILD = textwrap.dedent(
    """
    import http.server, logging, sys, threading
    from pathlib import Path

    import httpx

    from checkpoint_app import cli

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    cli.prepare_kivy(Path(sys.argv[1]), (540, 960))
    if sys.argv[2] == "undo":  # the state before the fix: library loggers inherit the root's NOTSET
        for name in cli.HTTP_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)

    from kivy.logger import Logger

    with httpx.Client() as client:
        assert client.get(f"http://127.0.0.1:{server.server_port}/trust/bundle").text == "ok"
    logging.getLogger("httpx").warning("http-warning-still-shown")
    Logger.warning("Probe: kivy console handler is live")
    server.shutdown()
    """
)


def run_child(tmp_path: Path, mode: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["PYTHONPATH"] = str(REPO)
    env.pop("KIVY_HOME", None)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout + result.stderr


def test_sync_requests_do_not_flood_the_console(tmp_path):
    output = run_child(tmp_path, "keep")
    assert "kivy console handler is live" in output  # the console is really Kivy's
    assert "http-warning-still-shown" in output  # HTTP trouble still reaches it
    assert "connect_tcp" not in output and "receive_response_headers" not in output
    assert "HTTP Request" not in output


def test_without_the_levels_kivy_prints_http_debug_records(tmp_path):
    """Shows what the levels prevent, so the test above cannot pass for a different reason."""
    output = run_child(tmp_path, "undo")
    assert "connect_tcp" in output and "HTTP Request" in output
