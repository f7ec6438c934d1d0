"""The audit log as a transparency log (docs/audit-log.md), on SQLite and PostgreSQL.

A database administrator tampers with the tables directly (triggers dropped first, as one would), and
`audit verify` must name the first event that was altered, removed, inserted or reordered, or where the
tail was cut. Then the retention purge, one event's proof, the published heads and the CLI.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crypto.merkle import verify_consistency, verify_tree_head
from hub.models.audit import AuditEvent, AuditLeaf, AuditLogPurge, AuditTreeHead
from hub.services import audit
from hub.services.errors import NotFound
from hub.services.retention import purge_expired
from hub.services.transparency_check import Report, verify_export, verify_proof
from hub.services.transparency_log import (
    export_lines,
    head_of_json,
    inclusion_proof,
    log_public_key,
    sign_head,
)
from provisioning.cli import main

# ---- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def log_db(db: Session, keys_dir: Path) -> Session:
    return db


def _write(db: Session, n: int, label: str = "read") -> list[int]:
    for i in range(n):
        audit.record(
            db, f"test.{label}", target=f"employee:{i}", client_ip="10.0.0.1", page=i, masked="陳*明"
        )
    db.commit()
    newest = db.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(n)).all()
    return sorted(newest)


def _sign(db: Session) -> AuditTreeHead | None:
    head = sign_head(db)
    db.commit()
    return head


def _ids(db: Session) -> list[int]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _verify(db: Session, settings) -> Report:
    db.expire_all()
    lines = list(export_lines(db))
    db.rollback()
    return verify_export(lines, log_public_key(settings.keys_dir))


@contextmanager
def _as_dba(db: Session) -> Iterator[Session]:
    """The append-only triggers switched off, as an administrator with the owner's rights would; on
    PostgreSQL they are switched on again after (the tests share one schema)."""
    pg = db.get_bind().dialect.name == "postgresql"
    if pg:
        db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        db.execute(text("ALTER TABLE audit_log_leaves DISABLE TRIGGER USER"))
    else:
        for name in ("audit_events_no_update", "audit_events_no_delete", "audit_log_leaves_no_update"):
            db.execute(text(f"DROP TRIGGER {name}"))
    db.commit()
    try:
        yield db
        db.commit()
    finally:
        db.rollback()
        if pg:
            db.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
            db.execute(text("ALTER TABLE audit_log_leaves ENABLE TRIGGER USER"))
            db.commit()


def _copy_fields(db: Session, source_id: int, target_id: int, **override: object) -> None:
    row = db.execute(
        text(
            "SELECT at, actor_user_id, actor_role, action, target, details, client_ip "
            "FROM audit_events WHERE id = :i"
        ),
        {"i": source_id},
    ).one()
    values = dict(row._mapping) | override
    if isinstance(values["details"], dict):
        values["details"] = json.dumps(values["details"])
    db.execute(
        text(
            "UPDATE audit_events SET at = :at, actor_user_id = :actor_user_id, actor_role = :actor_role, "
            "action = :action, target = :target, details = :details, client_ip = :client_ip WHERE id = :t"
        ),
        {**values, "t": target_id},
    )


def _signed_log(db: Session) -> list[int]:
    """Twelve events under three signed heads (sizes 5, 9, 12)."""
    _write(db, 5)
    _sign(db)
    _write(db, 4)
    _sign(db)
    _write(db, 3)
    _sign(db)
    ids = _ids(db)
    assert len(ids) == 12
    return ids


# ---- an honest log ---------------------------------------------------------------------------------


def test_an_untouched_log_verifies_and_events_after_the_last_head_wait_for_the_next(log_db, settings):
    ids = _signed_log(log_db)
    report = _verify(log_db, settings)
    assert report.ok, report.findings
    assert (report.events, report.heads, report.signed_size, report.unsigned) == (12, 3, 12, 0)
    _write(log_db, 2)
    report = _verify(log_db, settings)
    assert report.ok and report.unsigned == 2
    assert _sign(log_db).tree_size == 14
    assert _sign(log_db) is None  # nothing new: the last head still holds
    assert _verify(log_db, settings).ok
    leaves = log_db.scalars(select(AuditLeaf.event_id).order_by(AuditLeaf.leaf_index)).all()
    assert leaves[:12] == ids  # leaves in order of id


def test_each_head_is_consistent_with_the_one_before(log_db, settings):
    _signed_log(log_db)
    key = log_public_key(settings.keys_dir)
    heads = log_db.scalars(select(AuditTreeHead).order_by(AuditTreeHead.tree_size)).all()
    from hub.services.transparency_log import head_json

    parsed = [head_of_json(head_json(h)) for h in heads]
    for (before, _, _), (after, previous, proof) in zip(parsed, parsed[1:], strict=False):
        assert verify_tree_head(after, key) and previous == before.tree_size
        assert verify_consistency(before.tree_size, after.tree_size, before.root_hash, after.root_hash, proof)


# ---- a database administrator at work -------------------------------------------------------------


def test_an_updated_row_is_named(log_db, settings):
    ids = _signed_log(log_db)
    with _as_dba(log_db) as dba:
        dba.execute(text("UPDATE audit_events SET target = 'employee:999' WHERE id = :i"), {"i": ids[6]})
    first = _verify(log_db, settings).first
    assert first is not None and (first.kind, first.event_id, first.leaf) == ("altered", ids[6], 6)


def test_a_deleted_row_is_named(log_db, settings):
    ids = _signed_log(log_db)
    with _as_dba(log_db) as dba:
        dba.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": ids[3]})
    first = _verify(log_db, settings).first
    assert first is not None and (first.kind, first.event_id, first.leaf) == ("removed", ids[3], 3)


def test_a_deleted_row_with_the_rest_renumbered_is_named(log_db, settings):
    ids = _signed_log(log_db)
    with _as_dba(log_db) as dba:
        dba.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": ids[4]})
        for old in ids[5:]:  # no gap left behind
            dba.execute(
                text("UPDATE audit_events SET id = :new WHERE id = :old"), {"new": old - 1, "old": old}
            )
    assert _ids(log_db) == [*ids[:4], *(i - 1 for i in ids[5:])]
    first = _verify(log_db, settings).first
    assert first is not None and (first.kind, first.event_id, first.leaf) == ("removed", ids[4], 4)


def test_an_inserted_row_is_named(log_db, settings):
    ids = _signed_log(log_db)
    with _as_dba(log_db) as dba:
        for old in reversed(ids[7:]):  # make room at id ids[7]
            dba.execute(
                text("UPDATE audit_events SET id = :new WHERE id = :old"), {"new": old + 1, "old": old}
            )
        dba.execute(
            text(
                "INSERT INTO audit_events (id, at, action, target, details) "
                "VALUES (:i, :at, 'login', 'user:1', '{}')"
            ),
            {"i": ids[7], "at": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
        )
    first = _verify(log_db, settings).first
    assert first is not None and (first.kind, first.event_id, first.leaf) == ("inserted", ids[7], 7)


def test_two_swapped_rows_are_named(log_db, settings):
    ids = _signed_log(log_db)
    with _as_dba(log_db) as dba:
        spare = ids[-1] + 100
        dba.execute(
            text("INSERT INTO audit_events (id, at, action, details) VALUES (:i, :at, 'x', '{}')"),
            {"i": spare, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
        )
        _copy_fields(dba, ids[2], spare)
        _copy_fields(dba, ids[8], ids[2])
        _copy_fields(dba, spare, ids[8])
        dba.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": spare})
    first = _verify(log_db, settings).first
    assert first is not None and (first.kind, first.event_id, first.leaf) == ("reordered", ids[2], 2)
    assert f"id {ids[8]}" in first.message


def test_a_cut_tail_is_named(log_db, settings):
    ids = _signed_log(log_db)
    with _as_dba(log_db) as dba:
        dba.execute(text("DELETE FROM audit_events WHERE id >= :i"), {"i": ids[10]})
    first = _verify(log_db, settings).first
    assert first is not None and (first.kind, first.event_id, first.leaf) == ("truncated", ids[10], 10)


def test_rewriting_the_leaf_table_too_is_still_caught_and_bounded_by_the_heads(log_db, settings):
    """The administrator also recomputes the stored leaf hash: only the signed heads are left to tell,
    so the change is bounded to the events the first failing head added (leaves 5..8 here)."""
    from crypto.merkle import leaf_hash
    from hub.services.transparency_log import event_bytes

    ids = _signed_log(log_db)
    with _as_dba(log_db) as dba:
        dba.execute(text("UPDATE audit_events SET target = 'employee:999' WHERE id = :i"), {"i": ids[6]})
        dba.commit()
        dba.expire_all()
        forged = leaf_hash(event_bytes(dba.get(AuditEvent, ids[6])))
        dba.execute(
            text("UPDATE audit_log_leaves SET leaf_hash = :h WHERE event_id = :i"), {"h": forged, "i": ids[6]}
        )
    first = _verify(log_db, settings).first
    assert first is not None and first.kind == "changed"
    assert (first.leaf, first.event_id) == (5, ids[5]) and "5..8" in first.message


def test_a_forged_head_is_refused(log_db, settings):
    _signed_log(log_db)
    log_db.execute(text("UPDATE audit_log_heads SET root_hash = :r WHERE tree_size = 9"), {"r": b"\x07" * 32})
    log_db.commit()
    first = _verify(log_db, settings).first
    assert first is not None and first.kind == "head" and "size 9" in first.message


def test_the_append_only_triggers_still_refuse_what_no_purge_covers(log_db):
    ids = _signed_log(log_db)
    for statement in (
        f"DELETE FROM audit_events WHERE id = {ids[0]}",
        "DELETE FROM audit_log_leaves WHERE leaf_index = 0",
        "UPDATE audit_log_leaves SET event_id = 0",
    ):
        with pytest.raises(DBAPIError):
            log_db.execute(text(statement))
            log_db.commit()
        log_db.rollback()


# ---- retention ---------------------------------------------------------------------------------------


def test_the_purge_deletes_a_signed_prefix_and_what_remains_still_verifies(log_db, settings):
    old = _write(log_db, 6)
    _sign(log_db)
    time.sleep(0.01)
    middle = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    young = _write(log_db, 4)
    _sign(log_db)

    purge_expired(log_db, now=middle + dt.timedelta(days=settings.retention_days))
    log_db.commit()
    assert _ids(log_db)[:4] == young  # the six older events went, the younger stayed
    assert not set(old) & set(_ids(log_db))
    purge = log_db.scalars(select(AuditLogPurge)).one()
    assert purge.tree_size == 6
    report = _verify(log_db, settings)
    assert report.ok, report.findings
    assert report.purged == 6 and report.unsigned == 2  # the purge's own two audit events wait for a head
    actions = log_db.scalars(select(AuditEvent.action).where(AuditEvent.id > young[-1])).all()
    assert "audit_log.purged" in actions and "retention.purge" in actions
    _sign(log_db)
    assert _verify(log_db, settings).ok
    kept = verify_proof(inclusion_proof(log_db, young[1]), log_public_key(settings.keys_dir))
    assert kept.ok and kept.leaf_index == 7  # proved through the purged prefix's frontier
    with pytest.raises(NotFound):
        inclusion_proof(log_db, old[0])  # a purged event is gone, proof and all

    # A purge covers only what it signed: the first kept event still cannot be deleted ...
    with pytest.raises(DBAPIError):
        log_db.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": young[0]})
        log_db.commit()
    log_db.rollback()
    # ... and deleting it behind the triggers' back is named.
    with _as_dba(log_db) as dba:
        dba.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": young[0]})
    first = _verify(log_db, settings).first
    assert first is not None and (first.kind, first.leaf, first.event_id) == ("removed", 6, young[0])


def test_heads_kept_from_before_a_purge_are_still_checked_against_each_other(log_db, settings):
    """The hub deletes the heads a purge leaves behind; an auditor who kept them can still check each
    against the one before (consistency proofs), and a rewritten one is named."""
    from hub.services.transparency_log import published

    for _ in range(3):
        _write(log_db, 3)
        _sign(log_db)
    kept = published(log_db, since=0)["heads"]
    log_db.rollback()
    purge_expired(log_db, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.retention_days))
    log_db.commit()
    assert log_db.scalar(select(func.min(AuditTreeHead.tree_size))) == 9
    key = log_public_key(settings.keys_dir)
    lines = list(export_lines(log_db))
    log_db.rollback()
    report = verify_export(lines, key, archived_heads=kept)
    assert report.ok and report.purged == 9 and report.heads == 3
    unsigned = {**kept[1], "root_hash": "05" * 32}
    report = verify_export(lines, key, archived_heads=[kept[0], unsigned, kept[2]])
    assert report.first is not None and report.first.kind == "head" and "not signed" in report.first.message
    # The hub itself signs another history for size 6 (with its real key): it does not extend head 3.
    from crypto.merkle import sign_tree_head
    from hub.services.transparency_log import log_key

    other = sign_tree_head(6, b"\x05" * 32, kept[1]["timestamp"], log_key(settings))
    rewritten = {
        **kept[1],
        "root_hash": other.root_hash.hex(),
        "signature": base64.b64encode(other.signature).decode(),
    }
    report = verify_export(lines, key, archived_heads=[kept[0], rewritten, kept[2]])
    assert report.first is not None and "rewrote history" in report.first.message


def test_a_purge_record_the_log_did_not_sign_is_refused(log_db, settings):
    _write(log_db, 3)
    _sign(log_db)
    _write(log_db, 3)
    _sign(log_db)
    head = log_db.get(AuditTreeHead, 3)
    log_db.add(
        AuditLogPurge(tree_size=3, timestamp=1, kid=head.kid, signature=b"\x01" * 64, frontier=head.frontier)
    )
    log_db.commit()
    first = _verify(log_db, settings).first
    assert first is not None and first.kind == "purge"


def test_nothing_is_purged_that_no_head_covers(log_db, settings):
    _write(log_db, 3)  # never signed
    purge_expired(log_db, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.retention_days + 1))
    log_db.commit()
    assert len(_ids(log_db)) == 4  # the three, and the purge's own event
    assert log_db.scalar(select(func.count()).select_from(AuditLogPurge)) == 0


# ---- one event's proof -------------------------------------------------------------------------------


def test_an_inclusion_proof_verifies_offline_and_fails_when_changed(log_db, settings):
    ids = _signed_log(log_db)
    key = log_public_key(settings.keys_dir)
    proof = inclusion_proof(log_db, ids[7])
    result = verify_proof(proof, key)
    assert result.ok and result.leaf_index == 7 and result.entry["target"] == "employee:2"
    assert len(proof["path"]) <= 4 and len(json.dumps(proof)) < 1500
    altered = {**proof, "entry": proof["entry"].replace("employee:2", "employee:3")}
    assert not verify_proof(altered, key).ok
    moved = {**proof, "leaf_index": 6}
    assert not verify_proof(moved, key).ok
    forged_head = {**proof, "head": {**proof["head"], "tree_size": 13}}
    assert not verify_proof(forged_head, key).ok
    from crypto.keys import KeyPair

    assert not verify_proof(proof, KeyPair.generate().public_key).ok


def test_an_event_not_yet_signed_has_no_proof_yet(log_db):
    from hub.services.errors import Unavailable

    _signed_log(log_db)
    (late,) = _write(log_db, 1)
    with pytest.raises(Unavailable):
        inclusion_proof(log_db, late)
    with pytest.raises(NotFound):
        inclusion_proof(log_db, late + 1000)


# ---- published heads and the job --------------------------------------------------------------------


def test_the_heads_are_published_for_anyone(log_db, settings, client):
    _signed_log(log_db)
    r = client.get("/api/v1/trust/audit-log")
    assert r.status_code == 200
    doc = r.json()
    key = log_public_key(settings.keys_dir)
    latest, _, _ = head_of_json(doc["latest"])
    assert latest.tree_size == 12 and verify_tree_head(latest, key)
    assert doc["heads"] == []
    heads = client.get("/api/v1/trust/audit-log?since=6").json()["heads"]
    assert [h["tree_size"] for h in heads] == [9, 12]
    assert client.get("/api/v1/trust/audit-log?since=-1").status_code == 422
    # Heads an auditor kept are checked together with the export's.
    lines = list(export_lines(log_db))
    log_db.rollback()
    assert verify_export(lines, key, archived_heads=heads).ok
    forked = {**heads[0], "root_hash": "00" * 32}
    report = verify_export(lines, key, archived_heads=[forked])
    assert report.first is not None and report.first.kind == "head"


def test_a_hub_that_signed_no_head_yet_publishes_an_empty_log(client):
    r = client.get("/api/v1/trust/audit-log?since=0")
    assert r.status_code == 200
    assert r.json() == {"public_key": None, "kid": None, "latest": None, "purge": None, "heads": []}
    assert client.get(f"/api/v1/trust/audit-log?since={2**40}").status_code == 422


def test_the_job_signs_heads_at_its_interval(log_db, app):
    from hub.jobs.runner import audit_log_job, run_if_due, scheduled_jobs

    _write(log_db, 3)
    job = audit_log_job(60)
    assert run_if_due(app.state.sessionmaker, job)
    assert not run_if_due(app.state.sessionmaker, job)  # not due again yet
    log_db.expire_all()
    assert log_db.scalar(select(func.max(AuditTreeHead.tree_size))) == 3
    names = [
        j.name
        for j in scheduled_jobs(app.state.context.settings.model_copy(update={"audit_log_head_seconds": 5}))
    ]
    assert "audit_log.heads" in names


# ---- the CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def hub_env(settings, keys_dir, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_KEYS_DIR": str(settings.keys_dir),
        "HUB_KEY_PASSPHRASE": settings.passphrase(),
        "HUB_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HUB_SMS_GATEWAY": "file",
        "HUB_SMS_FILE_PATH": str(tmp_path / "sms.jsonl"),
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_the_cli_exports_verifies_and_proves(log_db, hub_env, settings, capsys):
    ids = _write(log_db, 7)
    assert main(["audit", "head"]) == 0
    assert "size 7" in capsys.readouterr().out
    assert main(["audit", "head"]) == 0  # through the job's lock, forced: nothing new to sign
    assert "no event since the last head" in capsys.readouterr().out
    key = str(settings.keys_dir / "audit-log.pub")
    assert main(["audit", "export", "--out", "log.jsonl"]) == 0
    assert main(["audit", "verify", "log.jsonl", "--key", key]) == 0
    assert "OK" in capsys.readouterr().out

    assert main(["audit", "prove", str(ids[4]), "--out", "proof.json"]) == 0
    assert main(["audit", "verify", "proof.json", "--key", key]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "leaf 4" in out and "(UTC+8)" in out and "employee:4" in out

    with _as_dba(log_db) as dba:
        dba.execute(text("UPDATE audit_events SET action = 'test.nothing' WHERE id = :i"), {"i": ids[2]})
    assert main(["audit", "export", "--out", "log.jsonl"]) == 0
    capsys.readouterr()
    assert main(["audit", "verify", "log.jsonl", "--key", key]) == 1
    out = capsys.readouterr().out
    assert f"FAILED (altered): event id {ids[2]} (leaf 2)" in out

    (hub_env / "other.pub").write_text("not base64 at all!")
    assert main(["audit", "verify", "log.jsonl", "--key", "other.pub"]) == 2
    (hub_env / "junk.jsonl").write_text('{"format": "something else"}\n')
    assert main(["audit", "verify", "junk.jsonl", "--key", key]) == 2
    assert main(["audit", "prove", str(ids[-1] + 1000), "--out", "p.json"]) == 1


def test_an_event_that_commits_late_is_not_skipped(log_db, app):
    """PostgreSQL draws an id at insert, not at commit: an event with a lower id may commit after one
    with a higher id. The head waits for it instead of signing past it (it would never be a leaf)."""
    import threading

    if log_db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: an open write holds every other off")
    _write(log_db, 1)
    _sign(log_db)  # the log key is made and opened: the job below waits for nothing else
    slow = app.state.sessionmaker()
    job = None
    try:
        audit.record(slow, "test.late", target="employee:1")
        audit.write_pending(slow)  # id drawn, not committed
        late = slow.scalars(select(AuditEvent.id).where(AuditEvent.action == "test.late")).one()
        (early,) = _write(log_db, 1)
        assert early > late
        signed: list[AuditTreeHead | None] = []
        job = threading.Thread(target=lambda: signed.append(_sign_in_own_session(app)))
        job.start()
        time.sleep(1.0)
        waited = job.is_alive()  # waiting for the open insert
        slow.commit()
    finally:
        slow.close()  # an open transaction would hold the schema's teardown for ever
        if job is not None:
            job.join(10)
    assert waited
    assert signed and signed[0] is not None and signed[0].tree_size == 3
    log_db.expire_all()
    leaves = log_db.scalars(select(AuditLeaf.event_id).order_by(AuditLeaf.leaf_index)).all()
    assert leaves[1:] == [late, early]


def _sign_in_own_session(app) -> AuditTreeHead | None:
    with app.state.sessionmaker() as db:
        head = sign_head(db)
        db.commit()
        return head
