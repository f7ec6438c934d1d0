from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from checkpoint_app.service import CheckpointService
from checkpoint_app.store import MIGRATIONS, NewEvent, Store
from tests.checkpoint_app.cpworld import World


def event(**overrides: object) -> NewEvent:
    fields: dict[str, object] = dict(
        scanned_at=time.time(),
        hlc="0000000000001:00000",
        ok=True,
        reason="valid",
        pass_id="ab" * 16,
        officer_id="o1",
        issuer_kid="cd" * 8,
        serial=1,
        trust_age_s=5,
        stale=False,
        holder_name="王明",
    )
    fields.update(overrides)
    return NewEvent(**fields)  # type: ignore[arg-type]


def enrolled_store(path: Path) -> Store:
    store = Store(path)
    store.write_device_key(b"k" * 32)
    store.save_device("dev", "cp", "http://127.0.0.1:9", b"r" * 32, "00" * 8)
    return store


def test_durable_settings_and_private_files(tmp_path: Path) -> None:
    store = enrolled_store(tmp_path / "d")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert stat.S_IMODE(store.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700
    with pytest.raises(ValueError):
        store.write_device_key(b"short")
    store.close()


def test_migrations_run_once_and_refuse_a_newer_schema(tmp_path: Path) -> None:
    store = enrolled_store(tmp_path / "d")
    store.append_event(event())
    assert store.schema_version() == len(MIGRATIONS)
    store.close()
    again = Store(tmp_path / "d")  # re-open: nothing re-created, data kept
    assert again.counts()["queued"] == 1
    again.db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    again.close()
    with pytest.raises(RuntimeError, match="newer app"):
        Store(tmp_path / "d")


def test_outbox_states_and_retention(tmp_path: Path) -> None:
    store = enrolled_store(tmp_path / "d")
    old = time.time() - 40 * 86400
    ids = [store.append_event(event(scanned_at=old if i < 3 else time.time()))[0] for i in range(5)]
    store.mark_acknowledged([ids[0], ids[3]])
    store.park({ids[1]: "seq taken"})
    assert store.counts() == {"queued": 2, "sent": 2, "parked": 1}
    assert [r["event_id"] for r in store.queued_events(10)] == [ids[2], ids[4]]
    # Old acknowledged/parked rows go; an old queued row stays until the hub has it.
    assert store.purge_old() == 2
    assert store.event_ids() == [ids[2], ids[3], ids[4]]
    history = store.history(since=0)
    assert history[0].holder_name_masked == "王*" and history[0].reason_text_zh == "核准通行"
    store.close()


def test_history_is_this_shift_only(service: CheckpointService, world: World) -> None:
    service.store.append_event(event(scanned_at=world.now - 3 * 3600))  # before this officer's login
    mine = service.check_pass(world.make_pass()[0])
    assert [h.event_id for h in service.history()] == [mine.event_id]
