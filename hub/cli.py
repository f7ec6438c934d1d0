"""`checkpass hub ...`: init (database, keys, first super admins), serve, purge, demo, and the hub's
side of the offline-root ceremony (see hub.services.trust):

    checkpass hub bundle request --out REQ [--valid-days N]   unsigned bundle to sign offline
    checkpass hub bundle import FILE                          serve a bundle the offline root signed
    checkpass hub bundle status                               how long the served bundle is valid
    checkpass hub bundle export --out FILE                    trust data for `checkpass pass verify`
    checkpass hub keys rotate [--out REQ]                     new issuer key (pending if root offline)

and the audit log as a transparency log (hub.services.transparency_log, docs/audit-log.md):

    checkpass audit head                                      sign a tree head now (the app does it too)
    checkpass audit export --out FILE                         events, leaf table and signed heads
    checkpass audit prove EVENT_ID --out FILE                 one event's inclusion proof
    checkpass audit verify FILE --key PUB [--heads FILE]...   check an export or a proof, offline

Exit codes: 0 done, 1 refused (the reason is printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from hub.core.clock import taipei_label
from hub.core.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub.services.errors import DomainError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("hub", help="the Checkpass hub service")
    commands = parser.add_subparsers(dest="hub_command", metavar="HUB_COMMAND")
    commands.required = True

    init = commands.add_parser("init", help="create the database, keys and the first super admin(s)")
    init.add_argument(
        "--super-admin",
        dest="mobiles",
        action="append",
        default=[],
        metavar="MOBILE",
        help="mobile of a super admin (repeat for several); an initial password goes by SMS",
    )
    init.set_defaults(func=cmd_init)

    serve = commands.add_parser("serve", help="run the hub (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes on this machine (uvicorn restarts one that dies); see docs/deploy.md",
    )
    serve.set_defaults(func=cmd_serve)

    purge = commands.add_parser("purge", help="delete visits and scans older than the retention period")
    purge.set_defaults(func=cmd_purge)

    demo = commands.add_parser("demo", help="an SQLite hub with demo data in ./var/demo, then serve it")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--dir", type=Path, default=Path("var/demo"), help="where the demo hub lives")
    demo.add_argument("--no-serve", action="store_true", help="set up and print, but do not serve")
    demo.set_defaults(func=cmd_demo)

    bundle = commands.add_parser("bundle", help="trust bundle of a hub whose root key is offline")
    bundle_commands = bundle.add_subparsers(dest="bundle_command", metavar="BUNDLE_COMMAND")
    bundle_commands.required = True
    request = bundle_commands.add_parser("request", help="write the unsigned bundle to sign offline")
    request.add_argument("--out", type=Path, required=True, help="file to carry to the offline machine")
    request.add_argument(
        "--valid-days", type=int, help="validity to ask for (default HUB_TRUST_BUNDLE_VALID_DAYS)"
    )
    request.set_defaults(func=cmd_bundle_request)
    imp = bundle_commands.add_parser("import", help="serve a bundle signed offline (`checkpass bundle sign`)")
    imp.add_argument("file", type=Path, help="the signed bundle (export file or bare COSE bundle)")
    imp.set_defaults(func=cmd_bundle_import)
    status = bundle_commands.add_parser("status", help="how long the served bundle stays valid")
    status.set_defaults(func=cmd_bundle_status)
    export = bundle_commands.add_parser(
        "export", help="write the served bundle and status lists for `checkpass pass verify --bundle`"
    )
    export.add_argument("--out", type=Path, required=True, help="output file (the trust export)")
    export.set_defaults(func=cmd_bundle_export)

    keys = commands.add_parser("keys", help="the hub's issuer keys")
    keys_commands = keys.add_subparsers(dest="keys_command", metavar="KEYS_COMMAND")
    keys_commands.required = True
    rotate = keys_commands.add_parser(
        "rotate", help="new issuer key (waits for a bundle if the root is offline)"
    )
    rotate.add_argument("--out", type=Path, help="where to write the bundle request (offline root)")
    rotate.set_defaults(func=cmd_keys_rotate)

    # LINE official accounts: setup-menus, chat (hub.line.cli)
    from hub.line.cli import register as register_line

    register_line(commands)

    _register_audit(subparsers)


def _register_audit(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="the audit log as a transparency log (docs/audit-log.md)")
    commands = parser.add_subparsers(dest="audit_command", metavar="AUDIT_COMMAND")
    commands.required = True
    head = commands.add_parser("head", help="sign a tree head over the events written since the last one")
    head.set_defaults(func=cmd_audit_head)
    export = commands.add_parser("export", help="write the audit log, its leaf table and signed heads")
    export.add_argument("--out", type=Path, required=True, help="output file (JSON Lines)")
    export.set_defaults(func=cmd_audit_export)
    prove = commands.add_parser("prove", help="write one event's inclusion proof in the latest signed head")
    prove.add_argument("event_id", type=int, help="the audit event's id")
    prove.add_argument("--out", type=Path, required=True, help="output file (JSON)")
    prove.set_defaults(func=cmd_audit_prove)
    verify = commands.add_parser(
        "verify", help="check an export or a proof offline against the log's public key and signed heads"
    )
    verify.add_argument("file", type=Path, help="an `audit export` file or an `audit prove` file")
    verify.add_argument(
        "--key", type=Path, required=True, help="the log's public key (KEYS_DIR/audit-log.pub, kept apart)"
    )
    verify.add_argument(
        "--heads",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="heads kept from GET /api/v1/trust/audit-log (repeat for several)",
    )
    verify.set_defaults(func=cmd_audit_verify)


def _usage(message: str) -> Exception:
    from provisioning.cli import UsageError

    return UsageError(message)


def _settings_with_passphrase(settings: Settings | None = None) -> Settings:
    settings = settings or Settings()
    if settings.passphrase() is None:
        if not sys.stdin.isatty():
            raise _usage("no key passphrase: set HUB_KEY_PASSPHRASE or CHECKPASS_PASSPHRASE")
        try:
            typed = getpass.getpass("Key passphrase: ")
        except EOFError:  # Ctrl-D at the prompt: nothing typed, not a crash
            raise _usage("no key passphrase given") from None
        # model_copy does not validate, so the SecretStr the settings hold must be built here.
        settings = settings.model_copy(update={"key_passphrase": SecretStr(typed)})
    return settings


def cmd_init(args: argparse.Namespace) -> int:
    from hub.context import HubContext, make_sessionmaker
    from hub.core.phone import InvalidMobile, normalize_mobile
    from hub.core.protection import load_or_create_secret
    from hub.db import make_engine
    from hub.migrations import upgrade_to_head
    from hub.services.bootstrap import create_super_admin, ensure_keys
    from hub.services.errors import DomainError

    try:
        mobiles = [normalize_mobile(m) for m in args.mobiles]
    except InvalidMobile as exc:
        raise _usage(f"--super-admin: {exc}") from None
    settings = _settings_with_passphrase()
    load_or_create_secret(settings, create=True)
    try:
        keys_created = _ensure_hub_keys(settings, ensure_keys)
    except DomainError as exc:
        return _refused(exc)
    except Exception as exc:  # wrong passphrase or a damaged key store
        print(f"checkpass: cannot open the key store in {settings.keys_dir}: {exc}", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine, HubContext.from_settings(settings))
    from sqlalchemy import func, select

    from hub.models.identity import Role, User
    from hub.services.unit_of_work import unit_of_work

    created = []
    try:
        with unit_of_work(sessions) as db:
            if not mobiles and not db.scalar(select(func.count()).where(User.role == Role.SUPER_ADMIN.value)):
                raise _usage("a new hub needs at least one --super-admin MOBILE")
            for mobile in mobiles:
                _user, new = create_super_admin(db, mobile)
                if new:
                    created.append(mobile)
    except DomainError as exc:
        return _refused(exc)
    engine.dispose()
    from crypto.identity import mask_mobile

    print(f"database: {engine.url.render_as_string(hide_password=True)} (schema up to date)")
    print(f"keys: {settings.keys_dir} ({'created' if keys_created else 'existing'})")
    for mobile in created:
        print(
            f"super admin {mask_mobile(mobile)}: initial password sent by SMS "
            f"({settings.sms_gateway} gateway)"
        )
    return 0


def _ensure_hub_keys(settings: Settings, ensure_keys: Any) -> bool:
    """Keys for `hub init`. With an offline root the keys directory was copied from the offline
    machine without root.key: check that the issuer key opens, and never create a root here."""
    keys_dir = Path(settings.keys_dir)
    if settings.root_offline or ((keys_dir / "root.pub").exists() and not (keys_dir / "root.key").exists()):
        from hub.core.keystore import open_keystore

        store = open_keystore(settings)
        store.root_public_key()
        store.active_issuer()  # proves the passphrase opens the issuer key
        store.mark_managed_by_hub()
        return False
    return bool(ensure_keys(settings))


@contextlib.contextmanager
def _hub_session(settings: Settings) -> Iterator[Session]:
    from hub.context import HubContext, make_sessionmaker
    from hub.db import make_engine
    from hub.migrations import upgrade_to_head

    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    try:
        context = HubContext.from_settings(settings)
    except FileNotFoundError as exc:
        raise _usage(f"{exc}") from None
    from hub.services.unit_of_work import unit_of_work

    try:
        with unit_of_work(make_sessionmaker(engine, context)) as db:
            yield db
    finally:
        engine.dispose()


def exit_code_of(exc: DomainError) -> int:
    """The CLI's one mapping of a domain refusal to an exit code: 2 for input the command should not
    have been given (like a usage error), 1 for any other refusal."""
    from hub.services.errors import Invalid, Rejected

    return 2 if isinstance(exc, Invalid) and not isinstance(exc, Rejected) else 1


def _refused(exc: Exception) -> int:
    """Print a refusal (a DomainError, or a key store that will not open) and return the exit code."""
    from hub.services.errors import DomainError

    if isinstance(exc, DomainError):
        print(f"checkpass: {exc.reason}: {exc.detail}", file=sys.stderr)
        return exit_code_of(exc)
    print(f"checkpass: {exc}", file=sys.stderr)  # wrong passphrase, damaged file
    return 1


def _write_request(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise _usage(f"--out: cannot write {path}: {exc.strerror}") from None


CEREMONY = (
    "next: carry {req} to the offline machine and run\n"
    "  checkpass bundle sign --keys ROOT_KEYS_DIR --request {req} --out trust.cbor\n"
    "then bring trust.cbor back and run `checkpass hub bundle import trust.cbor` "
    "(or PUT it to /api/v1/trust/bundle)"
)


def cmd_bundle_request(args: argparse.Namespace) -> int:
    from crypto.errors import CryptoError
    from hub.services.errors import DomainError
    from provisioning.export import read_request
    from provisioning.keystore import KeyStoreError

    if args.valid_days is not None and not 1 <= args.valid_days <= 366:
        raise _usage("--valid-days must be 1..366")
    from hub.services import trust

    try:  # around the unit of work, so that a refusal rolls it back
        with _hub_session(_settings_with_passphrase()) as db:
            data = trust.bundle_request(db, args.valid_days)
    except (DomainError, CryptoError, KeyStoreError) as exc:
        return _refused(exc)
    _write_request(args.out, data)
    request = read_request(data)
    print(f"wrote {args.out}: {len(request.issuer_keys)} issuer key(s) for the root to sign")
    for info in request.issuer_keys:
        print(f"  {info.kid.hex()}  {info.state:<11}  status counter {info.status_counter}")
    print(CEREMONY.format(req=args.out))
    return 0


def cmd_bundle_import(args: argparse.Namespace) -> int:
    from crypto.errors import CryptoError
    from hub.services.errors import DomainError
    from provisioning.keystore import KeyStoreError

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise _usage(f"cannot read {args.file}: {exc.strerror}") from None
    from hub.services import trust

    try:  # around the unit of work, so that a refusal rolls it back
        with _hub_session(_settings_with_passphrase()) as db:
            result = trust.import_bundle(db, data, via="cli")
    except (DomainError, CryptoError, KeyStoreError) as exc:
        return _refused(exc)
    if not result.imported:
        print(f"this bundle (issued {taipei_label(result.issued_at)}) is already the one served")
        return 0
    print(
        f"serving the bundle issued {taipei_label(result.issued_at)}, "
        f"valid until {taipei_label(result.valid_until)}"
    )
    if result.activated_kid:
        print(f"issuer key {result.activated_kid} is now the active key; the previous one is retired")
    return 0


def cmd_bundle_status(args: argparse.Namespace) -> int:
    from crypto.errors import CryptoError
    from hub.services import trust
    from hub.services.errors import DomainError
    from provisioning.keystore import KeyStoreError

    try:  # around the unit of work, so that a refusal rolls it back
        with _hub_session(_settings_with_passphrase()) as db:
            health = trust.trust_health(db)
    except (DomainError, CryptoError, KeyStoreError) as exc:
        return _refused(exc)
    print(f"root: {health.root}; bundle: {health.state}")
    if health.valid_until is not None and health.expires_in_s is not None:
        print(
            f"valid until {taipei_label(health.valid_until)} ({health.expires_in_s / 86_400:.1f} days left)"
        )
    print(
        f"active issuer key: {health.active_kid}{'' if health.active_key_listed else ' (NOT in the bundle)'}"
    )
    if health.pending_kid:
        print(f"pending issuer key: {health.pending_kid} (waits for an imported bundle)")
    if health.action:
        print(f"action: {health.action}")
    return 0 if health.healthy else 1


def cmd_bundle_export(args: argparse.Namespace) -> int:
    """The file GET /api/v1/trust/export serves, written from the hub's database and keys directory."""
    from crypto.errors import CryptoError
    from hub.services.errors import DomainError
    from hub.services.trust_export import trust_export
    from provisioning.keystore import KeyStoreError

    try:  # around the unit of work, so that a refusal rolls it back
        with _hub_session(_settings_with_passphrase()) as db:
            data = trust_export(db)
    except (DomainError, CryptoError, KeyStoreError) as exc:
        return _refused(exc)
    try:
        args.out.write_bytes(data)
    except OSError as exc:
        raise _usage(f"--out: cannot write {args.out}: {exc.strerror}") from None
    print(f"wrote {args.out} ({len(data)} bytes); check a pass offline with")
    print(f"  checkpass pass verify --bundle {args.out} --root-key KEYS_DIR/root.pub 'TP1:...'")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from crypto.errors import CryptoError
    from hub.services import trust
    from hub.services.errors import DomainError
    from provisioning.keystore import KeyStoreError

    try:  # around the unit of work, so that a refusal rolls it back
        with _hub_session(_settings_with_passphrase()) as db:
            rotation = trust.rotate_issuer(db, via="cli")
    except (DomainError, CryptoError, KeyStoreError) as exc:
        return _refused(exc)
    if not rotation.pending:
        print(f"issuer key {rotation.new_kid} is active; the trust bundle is re-signed on the next fetch")
        return 0
    out: Path = args.out or Path("bundle-request.cbor")
    assert rotation.request is not None
    _write_request(out, rotation.request)
    print(
        f"issuer key {rotation.new_kid} prepared. The root key is offline, so the hub keeps signing with "
        "the current key until a bundle listing the new one is imported: A NEW BUNDLE IS NEEDED."
    )
    print(CEREMONY.format(req=out))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """One process, or `--workers N` processes under uvicorn's supervisor (docs/deploy.md)."""
    import uvicorn

    from hub.main import create_app

    if args.workers < 1:
        raise _usage("--workers must be at least 1")
    settings = _settings_with_passphrase()
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        # The hub reads X-Forwarded-For and X-Forwarded-Proto itself, from HUB_TRUSTED_PROXIES only
        # (hub.middleware.TrustedProxies): uvicorn's own reading would believe 127.0.0.1 whatever the
        # setting says, and the two would disagree about who the client is.
        "proxy_headers": False,
    }
    if args.workers == 1:
        try:
            app = create_app(settings)
        except FileNotFoundError as exc:  # no hub secret yet
            raise _usage(f"{exc}") from None
        uvicorn.run(app, **options)
        return 0
    from hub import metrics
    from hub.context import HubContext
    from hub.db import make_engine
    from hub.migrations import upgrade_to_head

    try:
        HubContext.from_settings(settings)  # the hub secret must exist before N workers look for it
    except FileNotFoundError as exc:
        raise _usage(f"{exc}") from None
    # Migrate once here: N workers racing Alembic on one database would fail all but one.
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    engine.dispose()
    # Workers are fresh interpreters that read their settings from the environment.
    passphrase = settings.passphrase()
    if passphrase is not None:
        os.environ["HUB_KEY_PASSPHRASE"] = passphrase
    metrics.setup_multiprocess(settings.metrics_dir)
    uvicorn.run("hub.main:create_worker_app", factory=True, workers=args.workers, **options)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from hub.context import HubContext, make_sessionmaker
    from hub.db import make_engine
    from hub.migrations import upgrade_to_head
    from hub.services.retention import purge_expired

    settings = Settings()
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    try:
        context = HubContext.from_settings(settings)
    except FileNotFoundError as exc:
        raise _usage(f"{exc}") from None
    from hub.services.unit_of_work import unit_of_work

    with unit_of_work(make_sessionmaker(engine, context)) as db:
        result = purge_expired(db)
    engine.dispose()
    print(
        f"purged records older than {taipei_label(result.cutoff)}: "
        f"{result.visits} visits, {result.scans} scans, {result.scan_batches} scan batches, "
        f"{result.otp_codes} codes, {result.tokens} sessions, "
        f"{result.line_events} LINE events, {result.line_conversations} LINE chat steps, "
        f"{result.line_support_messages} LINE support messages"
    )
    return 0


def cmd_audit_head(args: argparse.Namespace) -> int:
    """Through the job runner, under the job's lock: a running hub's scheduler and this command never
    sign two heads over the same events at once."""
    from crypto.errors import CryptoError
    from hub.context import HubContext, make_sessionmaker
    from hub.db import make_engine
    from hub.jobs.runner import audit_log_job, run_if_due
    from hub.migrations import upgrade_to_head
    from hub.services.errors import DomainError
    from hub.services.transparency_log import latest_head

    settings = _settings_with_passphrase()
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        try:
            sessions = make_sessionmaker(engine, HubContext.from_settings(settings))
        except FileNotFoundError as exc:
            raise _usage(f"{exc}") from None
        with sessions() as db:
            before = latest_head(db)
            before_size = before.tree_size if before is not None else 0
        try:
            ran = run_if_due(sessions, audit_log_job(max(1, settings.audit_log_head_seconds)), force=True)
        except (DomainError, CryptoError) as exc:
            return _refused(exc)
        if not ran:
            print("checkpass: another hub worker is signing a head right now; try again", file=sys.stderr)
            return 1
        with sessions() as db:
            after = latest_head(db)
            size = after.tree_size if after is not None else 0
    finally:
        engine.dispose()
    print(f"signed the head of size {size}" if size != before_size else "no event since the last head")
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    from hub.services.errors import DomainError
    from hub.services.transparency_log import export_log

    try:
        out = args.out.open("wb")
    except OSError as exc:
        raise _usage(f"--out: cannot write {args.out}: {exc.strerror}") from None
    try:
        with out, _hub_session(Settings()) as db:
            count = export_log(db, out)
    except DomainError as exc:
        return _refused(exc)
    print(f"wrote {args.out} ({count} events); check it offline with")
    print(f"  checkpass audit verify {args.out} --key KEYS_DIR/audit-log.pub")
    return 0


def cmd_audit_prove(args: argparse.Namespace) -> int:
    import json

    from hub.services.errors import DomainError
    from hub.services.transparency_log import inclusion_proof

    try:
        with _hub_session(Settings()) as db:
            proof = inclusion_proof(db, args.event_id)
    except DomainError as exc:
        return _refused(exc)
    data = json.dumps(proof, ensure_ascii=False, indent=1).encode()
    try:
        args.out.write_bytes(data)
    except OSError as exc:
        raise _usage(f"--out: cannot write {args.out}: {exc.strerror}") from None
    print(
        f"wrote {args.out} ({len(data)} bytes, {len(proof['path'])} hashes): event {args.event_id} is leaf "
        f"{proof['leaf_index']} of the signed tree of size {proof['head']['tree_size']}"
    )
    return 0


def _read_public_key(path: Path) -> bytes:
    import base64

    try:
        raw = base64.b64decode(path.read_bytes().strip(), validate=True)
    except OSError as exc:
        raise _usage(f"--key: cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise _usage(f"--key: {path} is not a base64 public key") from None
    if len(raw) != 32:
        raise _usage(f"--key: {path} does not hold a 32-byte Ed25519 public key")
    return raw


def _read_archived_heads(paths: list[Path]) -> list[dict[str, Any]]:
    import json

    heads: list[dict[str, Any]] = []
    for path in paths:
        try:
            doc = json.loads(path.read_bytes())
        except OSError as exc:
            raise _usage(f"--heads: cannot read {path}: {exc.strerror}") from None
        except ValueError:
            raise _usage(f"--heads: {path} is not JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("heads", []), list):
            raise _usage(f"--heads: {path} is not a GET /api/v1/trust/audit-log answer")
        heads.extend(doc.get("heads", []))
        if doc.get("latest"):
            heads.append(doc["latest"])
    return heads


def _taipei(instant: object) -> str:
    import datetime as dt

    try:
        return taipei_label(dt.datetime.fromisoformat(str(instant).replace("Z", "+00:00")))
    except ValueError:
        return str(instant)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Offline: exit 0 when everything verifies, 1 when something was tampered with (the first one is
    named), 2 when the file or key cannot be read."""
    import json

    from hub.services.transparency_check import UnreadableLog, verify_export, verify_proof

    public_key = _read_public_key(args.key)
    archived = _read_archived_heads(args.heads)
    try:
        source = args.file.open("rb")
    except OSError as exc:
        raise _usage(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        with source:
            is_proof = b'"checkpass-audit-proof-v1"' in source.read(256)
            source.seek(0)
            if is_proof:
                try:
                    doc = json.loads(source.read())
                except ValueError:
                    raise _usage(f"{args.file} is not JSON") from None
                result = verify_proof(doc, public_key)
                print(("OK: " if result.ok else "FAILED: ") + result.message)
                if isinstance(result.entry, dict):
                    entry = result.entry
                    print(f"  {_taipei(entry.get('at'))}  {entry.get('action')}  {entry.get('target') or ''}")
                if result.head is not None:
                    print(f"  signed head: size {result.head.tree_size}, root {result.head.root_hash.hex()}")
                return 0 if result.ok else 1
            report = verify_export(source, public_key, archived_heads=archived)
    except UnreadableLog as exc:
        raise _usage(f"{args.file}: {exc}") from None
    for note in report.notes:
        print(f"note: {note}")
    print(
        f"{report.events} events, {report.heads} signed heads up to size {report.signed_size}, "
        f"{report.purged} leaves purged under a signed record, {report.unsigned} events not yet in a head"
    )
    if report.ok:
        print("OK: every event is the one the log signed")
        return 0
    first = report.first
    assert first is not None
    print(f"FAILED ({first.kind}): {first.message}")
    for more in report.findings[1:]:
        print(f"also ({more.kind}): {more.message}")
    return 1


def demo_settings(directory: Path, port: int) -> Settings:
    directory = directory.resolve()
    return Settings(
        database_url=f"sqlite:///{directory / 'hub.db'}",
        keys_dir=directory / "keys",
        key_passphrase=os.environ.get("CHECKPASS_PASSPHRASE", "checkpass-demo"),
        sms_gateway="file",
        sms_file_path=directory / "sms.jsonl",
        base_url=f"http://127.0.0.1:{port}",
        _env_file=None,  # type: ignore[call-arg]
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from crypto.passes import pass_qr_png
    from hub.core.protection import load_or_create_secret
    from hub.demo import seed_demo
    from hub.main import create_app
    from hub.services.bootstrap import ensure_keys

    directory: Path = args.dir
    directory.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(directory, args.port)
    # LINE: an in-process LINE stand-in on the next port, both channels and rich menus (hub.line.demo)
    try:
        from hub.line.demo import demo_lines, start_standin
    except ModuleNotFoundError as exc:  # a product install: the stand-in is test equipment (testkit/)
        raise _usage(f"the demo needs the LINE stand-in: pip install -e ./testkit ({exc})") from None

    # LINE's side is kept in the demo's folder too: after a restart each user has the menu they had
    settings, _standin = start_standin(settings, args.host, args.port + 1, directory / "line-standin.json")
    load_or_create_secret(settings, create=True)
    ensure_keys(settings)
    app = create_app(settings)
    with app.state.sessionmaker() as db:
        info = seed_demo(db, settings)
    pass_dir = directory / "passes"
    pass_dir.mkdir(exist_ok=True)
    # The folder holds exactly today's valid passes: files of passes revoked or replaced since an
    # earlier run go, so no two files share a number and none shows a pass that no longer holds.
    wanted: set[str] = set()
    for index, demo_pass in enumerate(info.passes, start=1):
        stem = f"pass-{index}-{demo_pass.pass_id[:8]}"
        (pass_dir / f"{stem}.png").write_bytes(pass_qr_png(demo_pass.text))
        (pass_dir / f"{stem}.txt").write_text(demo_pass.text + "\n")
        wanted |= {f"{stem}.png", f"{stem}.txt"}
    for stale in pass_dir.glob("pass-*"):
        if stale.name not in wanted:
            stale.unlink()

    url = f"http://{args.host}:{args.port}"
    print("Checkpass demo hub")
    print(f"  API docs:      {url}/docs")
    print(f"  health:        {url}/healthz")
    password = info.admin_password or "(changed since the first run; the demo does not know it)"
    print(f"  admin login:   POST {url}/api/v1/auth/login  mobile {info.admin_mobile}  password {password}")
    print(f"  web console:   {url}/console/  (the admin login above)")
    print(f"  enterprise admin (SMS login): {info.enterprise_admin_mobile}")
    print(f"  station admin (SMS login):    {info.station_admin_mobile}")
    print(f"  duty officers: {', '.join(info.officer_mobiles)}")
    print(f"  venue code:    {info.venue_code}  (check-in page {url}/v/{info.venue_code})")
    # Where its poster is: the enterprise admin's console, or 下載列印實聯碼 in the enterprise's LINE account
    poster = f"{url}/console/enterprises/{info.enterprise_id}/venues.pdf"
    print(f"  venue poster:  {poster}  (after the enterprise admin's console login)")
    revoked = f"; revoked, not re-issued: {', '.join(info.revoked)}" if info.revoked else ""
    print(f"  pass images:   {pass_dir.resolve()} ({len(info.passes)} valid passes, PNG + TP1 text{revoked})")
    print(f"  SMS outbox:    {settings.sms_file_path} (codes sent by the hub land here)")
    print(f"  key passphrase: {settings.passphrase()}  (keys in {settings.keys_dir})")
    print("\n".join(demo_lines(settings, url)))
    sys.stdout.flush()
    if args.no_serve:
        app.state.engine.dispose()
        return 0
    import uvicorn

    # As `serve`: the forwarded headers are the hub's to read (HUB_TRUSTED_PROXIES), never uvicorn's.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=False)
    return 0
