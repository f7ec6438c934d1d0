"""`checkpass keys|bundle|pass ...`: the key ceremony and pass tools, on a KeyStore directory.

    checkpass keys init    --dir DIR                      root + first issuer key
    checkpass keys rotate  --keys DIR                     new issuer key; the old one retires
    checkpass keys list    --keys DIR                     states and counters (no passphrase)
    checkpass keys compromise --keys DIR --kid HEX        refuse all that key ever signed
    checkpass bundle export --keys DIR --out FILE [--valid-days N]
    checkpass bundle sign  --keys DIR --request REQ --out FILE [--valid-days N]
                           root-sign a hub's bundle request (offline-root hubs, see hub.services.trust)
    checkpass pass issue   --keys DIR --name N --national-id ID --org NAME [--org-id UBN]
                           [--kind K] [--valid-days N] --out pass.png       (prints the TP1: text)
    checkpass pass verify  --bundle FILE [--json] [--root-key B64|FILE] [--now EPOCH]
                           [--accept-stale] [--show-name] (TEXT | - | --image pass.png)
    checkpass pass revoke  --keys DIR (--serial N [--kid HEX] | --pass-id HEX)

The export file (`bundle export`) is one CBOR file holding the root public key, the root-signed
trust bundle and every issuer key's signed status list (see provisioning.export). `pass verify`
trusts the root key inside it unless `--root-key` pins one; a mismatch is refused.

The passphrase comes from the environment variable CHECKPASS_PASSPHRASE when set (no prompt),
otherwise from a prompt. Exit codes: 0 ok / valid pass, 1 failed / rejected pass, 2 usage error.
National IDs are validated and never printed in clear; names are printed masked unless asked.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import nacl.utils

from crypto.errors import CryptoError
from crypto.identity import (
    MAX_PERSON_NAME_CHARS,
    is_valid_ubn,
    mask_name,
    mask_national_id,
    national_id_problem,
    normalize_national_id,
)
from crypto.local_time import taipei_text
from crypto.passes import PASS_ID_BYTES, PassClaims, encode_pass, pass_qr_png
from crypto.verify import Verdict, verify
from provisioning.cli import UsageError
from provisioning.export import build_export, bundle_from_request, read_export, read_request
from provisioning.keystore import KeyStore, KeyStoreError

PASSPHRASE_ENV = "CHECKPASS_PASSPHRASE"
MAX_VALID_DAYS = 366


class Failed(Exception):
    """An operation that could not be done (wrong passphrase, damaged files): exit code 1."""


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _passphrase(*, confirm: bool = False) -> str:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    try:
        first = getpass.getpass("Key passphrase: ")
        if confirm and getpass.getpass("Repeat passphrase: ") != first:
            raise UsageError("the passphrases do not match")
    except EOFError as exc:
        raise UsageError(f"no passphrase: set {PASSPHRASE_ENV} or run in a terminal") from exc
    if not first:
        raise UsageError("the passphrase must not be empty")
    return first


def _store(directory: str, *, must_exist: bool = True, hub_ok: bool = False) -> KeyStore:
    """The store in `directory`. Unless `hub_ok`, refuse a store a hub runs on: the hub allocates
    serials and keeps revocations in its database, so issuing here would hand out a serial the hub
    also uses (revoking one pass would revoke both) and an export would publish status lists without
    the hub's revocations."""
    path = Path(directory)
    if must_exist and not (path / "keystore.json").exists():
        raise UsageError(f"no key store in {path} (run `checkpass keys init --dir {path}`)")
    store = KeyStore(path, "")
    if not hub_ok and store.managed_by_hub():
        raise Failed(
            f"{path} is a hub's key store: the hub keeps serials and revocations in its database. "
            "Issue and revoke passes through the hub, rotate with `checkpass hub keys rotate`; "
            "to verify passes offline, export the hub's trust data with "
            "`checkpass hub bundle export --out FILE` (or GET /api/v1/trust/export)"
        )
    return KeyStore(path, _passphrase())


def _guarded(func: Any) -> Any:
    """Turn the library's errors into messages and exit code 1 (usage errors keep their code 2)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except UsageError:
            raise
        except (CryptoError, KeyStoreError, Failed, OSError) as exc:
            _say(f"checkpass: {exc}")
            return 1

    return run


def _kid(text: str) -> bytes:
    try:
        kid = bytes.fromhex(text)
    except ValueError as exc:
        raise UsageError(f"--kid must be hex, got {text!r}") from exc
    if len(kid) != 8:
        raise UsageError("--kid must be 8 bytes (16 hex digits)")
    return kid


def _fingerprint(public_key: bytes) -> str:
    from crypto.keys import kid_of

    return kid_of(public_key).hex()


# ---- keys -------------------------------------------------------------------------------------
def _keys_init(args: argparse.Namespace) -> int:
    path = Path(args.dir)
    if (path / "keystore.json").exists() or (path / "root.key").exists():
        raise UsageError(f"{path} already holds a key store")
    store = KeyStore(path, _passphrase(confirm=True))
    store.init()
    root_public = store.root_public_key()
    print(f"key store created in {path}")
    print(f"root public key:  {base64.b64encode(root_public).decode()}")
    print(f"root kid:         {_fingerprint(root_public)}   (compare this when pinning)")
    print(f"issuer kid:       {store.active_kid().hex()}")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    store = _store(args.keys)
    old = store.active_kid()
    new = store.rotate()
    print(f"issuer key {old.hex()} retired; new active issuer key {new.kid.hex()}")
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    path = Path(args.keys)
    if not (path / "keystore.json").exists():
        raise UsageError(f"no key store in {path}")
    store = KeyStore(path, "")  # listing reads public data only
    active = store.active_kid()
    for info in store.issuers():
        flag = "*" if info.kid == active else " "
        until = "" if info.not_after is None else f" until {_when(info.not_after)}"
        print(
            f"{flag} {info.kid.hex()} {info.state:<11} since {_when(info.not_before)}{until}"
            f", {store.issued_count(info.kid)} issued, status counter {info.status_counter}"
        )
    return 0


def _keys_compromise(args: argparse.Namespace) -> int:
    store = _store(args.keys)
    kid = _kid(args.kid)
    store.mark_compromised(kid)
    print(f"issuer key {kid.hex()} marked compromised; active issuer key {store.active_kid().hex()}")
    print("export and distribute a new bundle now: until then verifiers still trust it")
    return 0


# ---- bundle -----------------------------------------------------------------------------------
def _valid_days(value: int, what: str) -> int:
    if not 1 <= value <= MAX_VALID_DAYS:
        raise UsageError(f"{what} must be 1..{MAX_VALID_DAYS} days")
    return value


def _bundle_export(args: argparse.Namespace) -> int:
    days = _valid_days(args.valid_days, "--valid-days")
    store = _store(args.keys)
    bundle = store.trust_bundle(valid_days=days)
    status = [store.signed_status_list(info.kid) for info in bundle.issuer_keys]
    data = build_export(store.root(), bundle, status)
    out = Path(args.out)
    out.write_bytes(data)
    print(
        f"wrote {out} ({len(data)} bytes): {len(bundle.issuer_keys)} issuer key(s), "
        f"valid until {_when(bundle.valid_until)}"
    )
    return 0


def _bundle_sign(args: argparse.Namespace) -> int:
    """Root-sign what a hub with an offline root asked for (`checkpass hub bundle request`)."""
    try:
        request = read_request(Path(args.request).read_bytes())
    except OSError as exc:
        raise UsageError(f"--request: cannot read {args.request}: {exc.strerror}") from exc
    except CryptoError as exc:
        raise UsageError(f"--request: {exc}") from exc
    days = _valid_days(args.valid_days or request.valid_days, "--valid-days")
    # Signing reads only root.key and the request, so a single-machine hub's store may do it.
    store = _store(args.keys, hub_ok=True)
    bundle = bundle_from_request(request, store.root(), int(time.time()), days)
    # The request is unsigned: show what the root is about to vouch for, so the operator can compare
    # the kids with what the hub printed.
    print(f"bundle for hub {request.hub or '(unnamed)'}: {len(bundle.issuer_keys)} issuer key(s)")
    for info in bundle.issuer_keys:
        print(f"  {info.kid.hex()}  {info.state:<11}  status counter {info.status_counter}")
    data = build_export(store.root(), bundle, [])
    out = Path(args.out)
    out.write_bytes(data)
    print(
        f"wrote {out} ({len(data)} bytes), valid until "
        f"{_when(bundle.valid_until)}; "
        "import it on the hub with `checkpass hub bundle import`"
    )
    return 0


# ---- pass -------------------------------------------------------------------------------------
def _pass_issue(args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not name or len(name) > MAX_PERSON_NAME_CHARS:
        raise UsageError(f"--name must be 1..{MAX_PERSON_NAME_CHARS} characters")
    national_id = normalize_national_id(args.national_id)
    problem = national_id_problem(national_id, allow_old_resident=True)
    if problem is not None:
        # Its mask looks like a valid ID's: name the check that failed, never the ID itself.
        shown = (
            mask_national_id(national_id) if len(national_id) == 10 else f"({len(national_id)} characters)"
        )
        raise UsageError(f"--national-id {shown} is not a valid national ID: {problem.explain()}")
    org = args.org.strip()
    if not org or len(org) > 60:
        raise UsageError("--org must be 1..60 characters")
    org_id = (args.org_id or "").strip()
    if len(org_id) == 8 and org_id.isdigit() and not is_valid_ubn(org_id):
        raise UsageError(f"--org-id {org_id} is not a valid 統一編號")
    kind = args.kind.strip().lower()
    if not kind or len(kind) > 20:
        raise UsageError("--kind must be 1..20 characters")
    days = _valid_days(args.valid_days, "--valid-days")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out: directory {out.parent} does not exist")

    store = _store(args.keys)
    key = store.active_issuer()
    now = int(time.time())
    claims = PassClaims(
        pass_id=nacl.utils.random(PASS_ID_BYTES),
        issuer_kid=key.kid,
        serial=store.next_serial(key.kid),
        holder_name=name,
        masked_national_id=mask_national_id(national_id),
        org_id=org_id,
        org_name=org,
        kind=kind,
        issued_at=now,
        not_before=now,
        expires_at=now + days * 86_400,
    )
    text = encode_pass(claims, key)
    out.write_bytes(pass_qr_png(text))
    store.record_pass(claims)
    print(text)
    _say(
        f"issued pass {claims.pass_id.hex()} (issuer {key.kid.hex()}, serial {claims.serial}) for "
        f"{mask_name(name)} {claims.masked_national_id}, {org}; QR written to {out}"
    )
    return 0


def _verdict_json(verdict: Verdict, show_name: bool) -> dict[str, Any]:
    claims = verdict.claims
    return {
        "ok": verdict.ok,
        "reason": str(verdict.reason),
        "trust_age_s": verdict.trust_age_s,
        "stale": verdict.stale,
        "claims": None
        if claims is None
        else {
            "pass_id": claims.pass_id.hex(),
            "issuer_kid": claims.issuer_kid.hex(),
            "serial": claims.serial,
            "holder_name": claims.holder_name if show_name else mask_name(claims.holder_name),
            "masked_national_id": claims.masked_national_id,
            "org_id": claims.org_id,
            "org_name": claims.org_name,
            "kind": claims.kind,
            "issued_at": claims.issued_at,
            "not_before": claims.not_before,
            "expires_at": claims.expires_at,
        },
    }


def _read_root_key(value: str) -> bytes:
    path = Path(value)
    text = path.read_text().strip() if path.is_file() else value.strip()
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise UsageError("--root-key must be a base64 public key or a file holding one (root.pub)") from exc
    if len(key) != 32:
        raise UsageError("--root-key must be a 32-byte Ed25519 public key")
    return key


def _scan_image(path: str) -> str:
    try:
        import zxingcpp
        from PIL import Image
    except ImportError as exc:
        raise UsageError("--image needs zxing-cpp (pip install 'checkpass[checkpoint]')") from exc
    try:
        image = Image.open(path)
        image.load()
    except OSError as exc:
        raise UsageError(f"--image: cannot read {path}: {exc}") from exc
    # QR only: a pass is a QR code, and other formats' readers can see a stray 1D code in its pattern.
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    if not results:
        raise Failed(f"no QR code found in {path}")
    return results[0].text


def _pass_verify(args: argparse.Namespace) -> int:
    if args.image and args.text:
        raise UsageError("give the pass TEXT or --image, not both")
    if args.image:
        text = _scan_image(args.image)
    elif args.text == "-":
        text = sys.stdin.read()
    elif args.text:
        text = args.text
    else:
        raise UsageError("give the pass TEXT (quote it: it contains spaces), - for stdin, or --image")
    pinned = _read_root_key(args.root_key) if args.root_key else None
    try:
        data = Path(args.bundle).read_bytes()
    except OSError as exc:
        raise UsageError(f"--bundle: cannot read {args.bundle}: {exc.strerror}") from exc
    try:
        export = read_export(data, pinned_root=pinned)
    except CryptoError as exc:
        _say(f"checkpass: trust data refused: {exc}")
        return 1
    now = int(time.time()) if args.now is None else args.now
    verdict = verify(text, export.bundle, export.status, now, accept_stale=args.accept_stale)
    if args.json:
        print(json.dumps(_verdict_json(verdict, args.show_name), ensure_ascii=False))
    else:
        _print_verdict(verdict, args.show_name)
    return 0 if verdict.ok else 1


def _print_verdict(verdict: Verdict, show_name: bool) -> None:
    head = "VALID" if verdict.ok else f"REJECTED: {verdict.reason}"
    if verdict.stale:
        head += " (trust data stale)"
    print(head)
    if verdict.claims is not None:
        c = verdict.claims
        name = c.holder_name if show_name else mask_name(c.holder_name)
        print(f"  holder:      {name}  {c.masked_national_id}")
        print(f"  org:         {c.org_name}" + (f" ({c.org_id})" if c.org_id else ""))
        print(f"  kind:        {c.kind}")
        print(f"  valid:       {_when(c.not_before)} .. {_when(c.expires_at)}")
        print(f"  pass id:     {c.pass_id.hex()}  issuer {c.issuer_kid.hex()} serial {c.serial}")
    if verdict.trust_age_s is not None:
        print(f"  trust age:   {verdict.trust_age_s} s")


def _when(epoch: int) -> str:
    """A time for the operator: Taiwan time, said so (crypto/local_time.py)."""
    return taipei_text(epoch)


def _pass_revoke(args: argparse.Namespace) -> int:
    if (args.serial is None) == (args.pass_id is None):
        raise UsageError("give exactly one of --serial or --pass-id")
    if args.serial is not None and args.serial < 0:
        raise UsageError("--serial must not be negative")
    if args.kid and args.serial is None:
        raise UsageError("--kid goes with --serial")
    pass_id = None
    if args.pass_id is not None:
        try:
            pass_id = bytes.fromhex(args.pass_id)
        except ValueError as exc:
            raise UsageError("--pass-id must be hex") from exc
        if len(pass_id) != PASS_ID_BYTES:
            raise UsageError(f"--pass-id must be {PASS_ID_BYTES} bytes ({2 * PASS_ID_BYTES} hex digits)")
    store = _store(args.keys)
    if pass_id is not None:
        record = store.find_pass(pass_id)
        kid, serial = bytes.fromhex(record.kid), record.serial
    else:
        serial = args.serial
        if args.kid:
            kid = _kid(args.kid)
        else:
            issuers = store.issuers()
            if len(issuers) > 1:
                raise UsageError("the store has several issuer keys: give --kid (or use --pass-id)")
            kid = issuers[0].kid
    sl = store.revoke(kid, serial)
    print(f"revoked serial {serial} of issuer key {kid.hex()}; status list counter {sl.counter}")
    _say("export and distribute a new bundle so verifiers learn of it")
    return 0


# ---- registration -----------------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:
    keys = subparsers.add_parser("keys", help="root and issuer keys").add_subparsers(dest="keys_command")
    keys.required = True
    p = keys.add_parser("init", help="create a key store: root key + first issuer key")
    p.add_argument("--dir", required=True, help="directory for the key store (created)")
    p.set_defaults(func=_guarded(_keys_init))
    p = keys.add_parser("rotate", help="new issuer key; the old one retires")
    p.add_argument("--keys", required=True, help="key store directory")
    p.set_defaults(func=_guarded(_keys_rotate))
    p = keys.add_parser("list", help="issuer keys, states and status counters")
    p.add_argument("--keys", required=True, help="key store directory")
    p.set_defaults(func=_guarded(_keys_list))
    p = keys.add_parser("compromise", help="mark an issuer key compromised")
    p.add_argument("--keys", required=True, help="key store directory")
    p.add_argument("--kid", required=True, help="issuer key id (hex)")
    p.set_defaults(func=_guarded(_keys_compromise))

    bundle = subparsers.add_parser("bundle", help="trust data for verifiers").add_subparsers(
        dest="bundle_command"
    )
    bundle.required = True
    p = bundle.add_parser("export", help="write the signed trust bundle and status lists")
    p.add_argument("--keys", required=True, help="key store directory")
    p.add_argument("--out", required=True, help="output file")
    p.add_argument("--valid-days", type=int, default=7, help="how long verifiers trust it (default 7)")
    p.set_defaults(func=_guarded(_bundle_export))
    p = bundle.add_parser("sign", help="root-sign a hub's bundle request (hub with an offline root)")
    p.add_argument("--keys", required=True, help="key store directory holding the root key")
    p.add_argument("--request", required=True, help="file written by `checkpass hub bundle request`")
    p.add_argument("--out", required=True, help="output file (import it on the hub)")
    p.add_argument("--valid-days", type=int, help="how long verifiers trust it (default: what the hub asks)")
    p.set_defaults(func=_guarded(_bundle_sign))

    passes = subparsers.add_parser("pass", help="issue, verify and revoke passes").add_subparsers(
        dest="pass_command"
    )
    passes.required = True
    p = passes.add_parser("issue", help="sign a pass; prints its TP1: text, writes its QR")
    p.add_argument("--keys", required=True, help="key store directory")
    p.add_argument("--name", required=True, help="holder name")
    p.add_argument("--national-id", required=True, help="holder national ID (only its masked form is kept)")
    p.add_argument("--org", required=True, help="organisation name")
    p.add_argument("--org-id", default="", help="organisation id, e.g. 統一編號")
    p.add_argument("--kind", default="employee", help="pass kind (default employee)")
    p.add_argument("--valid-days", type=int, default=30, help="validity in days (default 30)")
    p.add_argument("--out", required=True, help="PNG file for the QR code")
    p.set_defaults(func=_guarded(_pass_issue))
    p = passes.add_parser("verify", help="verify a pass offline against an exported bundle")
    p.add_argument(
        "--bundle",
        required=True,
        help="trust export: from `checkpass bundle export`, `checkpass hub bundle export` "
        "or GET /api/v1/trust/export",
    )
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument("--root-key", help="pin the root public key (base64, or a root.pub file)")
    p.add_argument("--now", type=int, help="verify as of this epoch second (default: now)")
    p.add_argument("--accept-stale", action="store_true", help="accept trust data past its validity")
    p.add_argument("--show-name", action="store_true", help="print the holder name in clear")
    p.add_argument("--image", help="read the pass from a QR image instead of TEXT")
    p.add_argument("text", nargs="?", help="the TP1: text (quoted), or - to read stdin")
    p.set_defaults(func=_guarded(_pass_verify))
    p = passes.add_parser("revoke", help="revoke a pass by serial or pass id")
    p.add_argument("--keys", required=True, help="key store directory")
    p.add_argument("--serial", type=int, help="serial of the pass")
    p.add_argument("--kid", help="issuer key of the serial (needed once keys were rotated)")
    p.add_argument("--pass-id", help="pass id (hex), as printed by `pass issue`")
    p.set_defaults(func=_guarded(_pass_revoke))
