"""Gateways for development, tests and the demo: nothing leaves the machine.

``ConsoleGateway`` prints each text to stderr with the mobile masked; the text itself (the one-time code)
is shown because a developer has to type it in. ``FileGateway`` appends one JSON line per text to a file,
so tests and ``make demo`` can read the code back with :func:`latest_code`. That file stands in for the
recipient's handset and so keeps the number in E.164; it is created 0600 and is never a log.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from hub.sms.gateway import SmsError, SmsReceipt, check_e164, check_text, masked

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


class ConsoleGateway:
    def __init__(self, stream: TextIO | None = None, show_text: bool = True) -> None:
        # Resolved at send time by default so a redirected sys.stderr (pytest's capture) is honoured.
        self._stream = stream
        self._show_text = show_text

    def send(self, mobile_e164: str, text: str) -> SmsReceipt:
        check_e164(mobile_e164)
        check_text(text)
        shown = text if self._show_text else f"({len(text)} characters hidden)"
        stream = self._stream if self._stream is not None else sys.stderr
        print(f"[sms console] to {masked(mobile_e164)}: {shown}", file=stream, flush=True)
        return SmsReceipt(provider="console", message_id=uuid.uuid4().hex, accepted=True, detail="printed")


class FileGateway:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def send(self, mobile_e164: str, text: str) -> SmsReceipt:
        check_e164(mobile_e164)
        check_text(text)
        record = {"to": mobile_e164, "text": text, "at": datetime.now(UTC).isoformat(timespec="milliseconds")}
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SmsError(f"cannot open the SMS outbox file {self.path}: {exc.strerror}") from exc
        try:
            # O_APPEND puts each write at the end; the lock keeps lines from two processes from interleaving
            # should a write come back short, and fsync makes a reader in another process see it at once.
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(line)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError as exc:
            raise SmsError(f"cannot write the SMS outbox file {self.path}: {exc.strerror}") from exc
        finally:
            os.close(fd)  # closing releases the lock
        return SmsReceipt(provider="file", message_id=uuid.uuid4().hex, accepted=True, detail="written")


def read_messages(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Every message in a FileGateway outbox, oldest first; an absent file is an empty outbox."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    messages: list[dict[str, str]] = []
    lines = raw.split(b"\n")
    # The last piece is empty when the file ends in a newline, or a line still being written: skip it.
    for number, line in enumerate(lines[:-1], start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise SmsError(f"SMS outbox {path}: line {number} is not JSON") from exc
        if not isinstance(record, dict) or not {"to", "text", "at"} <= record.keys():
            raise SmsError(f"SMS outbox {path}: line {number} lacks to/text/at")
        messages.append(record)
    return messages


def latest_code(path: str | os.PathLike[str], mobile_e164: str) -> str | None:
    """The 6-digit code in the newest text to ``mobile_e164``, or None if there is none."""
    for record in reversed(read_messages(path)):
        if record["to"] == mobile_e164:
            found = _CODE.search(record["text"])
            if found:
                return found.group(1)
    return None
