"""The checkpoint marks an event sent only when the hub's answer to the batch that carried it says
accepted or duplicate for exactly that event. Between the device's sync (checkpoint_app/sync.py) and
the real hub sits a proxy that edits the hub's answers as a broken hub, an older hub or a middlebox
could: results left out, turned into rejections, given for events the batch did not carry, with an
almost-right event id, or with a status the device does not know. Every edited answer is recorded, and
the device's final states must follow from those answers alone.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from checkpoint_app.hlc import HybridClock
from checkpoint_app.store import NewEvent, Store
from checkpoint_app.sync import SyncEngine
from checkpoint_app.verifier import Verifier
from crypto.keys import kid_of
from hub.models.identity import Role
from tests.hub.test_devices_support import auth_headers, enrol_device

Answer = dict[str, Any]
Edit = Callable[[list[str], list[str], Answer], Answer]  # (sent ids, still queued ids, answer) -> answer


class AnswerEditingProxy:
    """Forwards every request to the hub app; a scan batch's answer goes through `edit` first."""

    def __init__(self, client: TestClient, edit: Edit, queued: Callable[[], list[str]]) -> None:
        self.client, self.edit, self.queued = client, edit, queued
        self.exchanges: list[tuple[list[str], Answer]] = []  # (event ids sent, answer the device got)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                response = proxy.client.request(self.command, self.path, content=body, headers=headers)
                content = response.content
                if self.path.endswith("/scans/batches") and response.status_code == 200:
                    sent = [e["event_id"] for e in json.loads(body)["events"]]
                    answer = proxy.edit(sent, proxy.queued(), response.json())
                    proxy.exchanges.append((sent, answer))
                    content = json.dumps(answer).encode()
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Device:
    """A checkpoint's store and sync engine, enrolled in the hub under test, talking through a proxy."""

    def __init__(self, folder: Path, client: TestClient, db: Any, edit: Edit, events: int) -> None:
        enrolled = enrol_device(client, auth_headers(db, Role.SUPER_ADMIN))
        self.store = Store(folder)
        self.store.write_device_key(enrolled.key.seed)
        self.proxy = AnswerEditingProxy(client, edit, lambda: self.store.event_ids("queued"))
        root = enrolled.root_public_key
        self.store.save_device(enrolled.device_id, "路檢平板", self.proxy.url, root, kid_of(root).hex())
        now = time.time()
        for i in range(events):
            self.store.append_event(
                NewEvent(
                    now - 60 + i,
                    f"{int(now * 1000):013d}:{i:04d}",
                    True,
                    "valid",
                    None,
                    "7",
                    None,
                    None,
                    60,
                    False,
                )
            )
        verifier = Verifier(self.store, accept_stale=True)
        self.sync = SyncEngine(self.store, verifier, HybridClock(None), hub_url=self.proxy.url, batch_size=3)

    def close(self) -> None:
        self.proxy.close()
        self.store.close()

    def expected_states(self) -> dict[str, str]:
        """What the answers the device got allow: sent only for an acknowledgement of an event that
        batch carried, parked for a rejection of one, queued otherwise."""
        states = {e: "queued" for e in self.store.event_ids()}
        for sent, answer in self.proxy.exchanges:
            for result in answer["results"]:
                event_id = result.get("event_id") if isinstance(result, dict) else None
                if event_id not in sent or states[event_id] != "queued":
                    continue
                if result.get("status") in ("accepted", "duplicate"):
                    states[event_id] = "sent"
                elif result.get("status") == "rejected":
                    states[event_id] = "parked"
        return states

    def states(self) -> dict[str, str]:
        return {e: s for s in ("queued", "sent", "parked") for e in self.store.event_ids(s)}


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: what is under test is the device's bookkeeping, not the hub's database."""
    path = tmp_path / "hub.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def device_with(
    tmp_path: Path, client: TestClient, db: Any, keys_dir: Path
) -> Iterator[Callable[..., Device]]:
    made: list[Device] = []

    def make(edit: Edit, events: int = 7) -> Device:
        device = Device(tmp_path / f"device{len(made)}", client, db, edit, events)
        made.append(device)
        return device

    yield make
    for device in made:
        device.close()


def _results(answer: Answer) -> list[dict[str, Any]]:
    return list(answer["results"])


def leave_out_every_other(sent: list[str], queued: list[str], answer: Answer) -> Answer:
    return {**answer, "results": _results(answer)[::2]}


def reject_the_first(sent: list[str], queued: list[str], answer: Answer) -> Answer:
    results = _results(answer)
    results[0] = {"event_id": results[0]["event_id"], "status": "rejected", "error": "bad_event"}
    return {**answer, "results": results}


def acknowledge_what_was_not_sent(sent: list[str], queued: list[str], answer: Answer) -> Answer:
    """The batch's own results dropped, replaced by acknowledgements of queued events it did not carry."""
    others = [e for e in queued if e not in sent]
    return {**answer, "results": [{"event_id": e, "status": "accepted"} for e in others]}


def almost_right_ids_and_unknown_statuses(sent: list[str], queued: list[str], answer: Answer) -> Answer:
    near = [e.upper() for e in sent] + [e + " " for e in sent] + [e[:-1] for e in sent]
    return {
        **answer,
        "results": [{"event_id": e, "status": "accepted"} for e in near]
        + [{"event_id": e, "status": s} for e, s in zip(sent, ("ok", "ACCEPTED", None), strict=False)]
        + ["accepted", None, {"status": "accepted"}],
    }


@pytest.mark.parametrize(
    "edit",
    [
        leave_out_every_other,
        reject_the_first,
        acknowledge_what_was_not_sent,
        almost_right_ids_and_unknown_statuses,
    ],
)
def test_only_events_the_answer_acknowledges_are_marked_sent(
    device_with: Callable[..., Device], edit: Edit
) -> None:
    device = device_with(edit)
    for _ in range(4):
        device.sync.sync_once()
    assert device.proxy.exchanges, "the device never uploaded"
    assert device.states() == device.expected_states()


def test_events_left_out_are_sent_again_and_acknowledged_as_duplicates(
    device_with: Callable[..., Device],
) -> None:
    rounds = {"n": 0}

    def first_round_partial(sent: list[str], queued: list[str], answer: Answer) -> Answer:
        rounds["n"] += 1
        return leave_out_every_other(sent, queued, answer) if rounds["n"] == 1 else answer

    device = device_with(first_round_partial, events=3)
    device.sync.sync_once()
    (first_sent, first_answer), (again_sent, again_answer) = device.proxy.exchanges
    # The hub stored all three; the answer named two; the third was sent again and is a duplicate.
    answered = {r["event_id"] for r in first_answer["results"]}
    (left_out,) = [e for e in first_sent if e not in answered]
    assert again_sent == [left_out]
    assert again_answer["results"] == [{"event_id": left_out, "status": "duplicate"}]
    assert set(device.states().values()) == {"sent"}
