"""`checkpass hub ...`: init (database, keys, first super admins), serve, purge, demo."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from hub.core.config import Settings


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
    serve.set_defaults(func=cmd_serve)

    purge = commands.add_parser("purge", help="delete visits and scans older than the retention period")
    purge.set_defaults(func=cmd_purge)

    demo = commands.add_parser("demo", help="an SQLite hub with demo data in ./var/demo, then serve it")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--dir", type=Path, default=Path("var/demo"), help="where the demo hub lives")
    demo.add_argument("--no-serve", action="store_true", help="set up and print, but do not serve")
    demo.set_defaults(func=cmd_demo)


def _usage(message: str) -> Exception:
    from provisioning.cli import UsageError

    return UsageError(message)


def _settings_with_passphrase(settings: Settings | None = None) -> Settings:
    settings = settings or Settings()
    if settings.passphrase() is None:
        if not sys.stdin.isatty():
            raise _usage("no key passphrase: set HUB_KEY_PASSPHRASE or CHECKPASS_PASSPHRASE")
        settings = settings.model_copy(update={"key_passphrase": getpass.getpass("Key passphrase: ")})
    return settings


def cmd_init(args: argparse.Namespace) -> int:
    from hub.context import HubContext, make_sessionmaker
    from hub.core.phone import InvalidMobile, normalize_mobile
    from hub.core.protection import load_or_create_secret
    from hub.db import make_engine
    from hub.errors import HubError
    from hub.migrations import upgrade_to_head
    from hub.services.bootstrap import create_super_admin, ensure_keys

    try:
        mobiles = [normalize_mobile(m) for m in args.mobiles]
    except InvalidMobile as exc:
        raise _usage(f"--super-admin: {exc}") from None
    settings = _settings_with_passphrase()
    load_or_create_secret(settings, create=True)
    try:
        keys_created = ensure_keys(settings)
    except HubError as exc:
        raise _usage(str(exc.detail)) from None
    except Exception as exc:  # wrong passphrase or a damaged key store
        print(f"checkpass: cannot open the key store in {settings.keys_dir}: {exc}", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    sessions = make_sessionmaker(engine, HubContext.from_settings(settings))
    from sqlalchemy import func, select

    from hub.models.identity import Role, User

    with sessions() as db:
        if not mobiles and not db.scalar(select(func.count()).where(User.role == Role.SUPER_ADMIN.value)):
            raise _usage("a new hub needs at least one --super-admin MOBILE")
        created = []
        for mobile in mobiles:
            try:
                _user, new = create_super_admin(db, mobile)
            except HubError as exc:
                print(f"checkpass: {exc.detail}", file=sys.stderr)
                return 1
            if new:
                created.append(mobile)
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


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hub.main import create_app

    settings = _settings_with_passphrase()
    try:
        app = create_app(settings)
    except FileNotFoundError as exc:  # no hub secret yet
        raise _usage(f"{exc}") from None
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
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
    with make_sessionmaker(engine, context)() as db:
        result = purge_expired(db)
    engine.dispose()
    print(
        f"purged records older than {result.cutoff:%Y-%m-%d %H:%M} UTC: "
        f"{result.visits} visits, {result.scans} scans, {result.otp_codes} codes, {result.tokens} sessions"
    )
    return 0


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
    load_or_create_secret(settings, create=True)
    ensure_keys(settings)
    app = create_app(settings)
    with app.state.sessionmaker() as db:
        info = seed_demo(db, settings)
    pass_dir = directory / "passes"
    pass_dir.mkdir(exist_ok=True)
    for index, demo_pass in enumerate(info.passes, start=1):
        (pass_dir / f"pass-{index}-{demo_pass.pass_id[:8]}.png").write_bytes(pass_qr_png(demo_pass.text))
        (pass_dir / f"pass-{index}-{demo_pass.pass_id[:8]}.txt").write_text(demo_pass.text + "\n")

    url = f"http://{args.host}:{args.port}"
    print("Checkpass demo hub")
    print(f"  API docs:      {url}/docs")
    print(f"  health:        {url}/healthz")
    print(
        f"  admin login:   POST {url}/api/v1/auth/login  "
        f"mobile {info.admin_mobile}  password {info.admin_password}"
    )
    print(f"  enterprise admin (SMS login): {info.enterprise_admin_mobile}")
    print(f"  station admin (SMS login):    {info.station_admin_mobile}")
    print(f"  duty officers: {', '.join(info.officer_mobiles)}")
    print(f"  venue code:    {info.venue_code}")
    print(f"  pass images:   {pass_dir.resolve()} ({len(info.passes)} passes, PNG + TP1 text)")
    print(f"  SMS outbox:    {settings.sms_file_path} (codes sent by the hub land here)")
    print(f"  key passphrase: {settings.passphrase()}  (keys in {settings.keys_dir})")
    sys.stdout.flush()
    if args.no_serve:
        app.state.engine.dispose()
        return 0
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
