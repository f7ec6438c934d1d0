"""Known-answer vectors for the pass: build them, and recompute them from their JSON.

Layered like the EU DCC test data (dcc-quality-assurance / dgc-testdata): every case gives its
inputs (key seeds, claims, trust data, clock), the expected output of each stage (claims CBOR,
COSE_Sign1, Base45, QR text, QR version) and the expected verdict. Ed25519 is deterministic, so
fixed seeds give exact bytes.

    .venv/bin/python tests/crypto/kat.py          # regenerate tests/crypto/vectors/*.json
    .venv/bin/python tests/crypto/kat.py --check  # recompute and compare, no writing

The recomputation builds the COSE_Sign1 by hand (cbor2 + PyNaCl), not with crypto.encode_pass,
and then checks that crypto.encode_pass gives the same bytes: the vectors pin the wire format,
not merely agree with the code.

Two layouts are pinned (docs/wire-format.md): `vectors/*.json` is the layout encode_pass writes
today (format 2: untagged, 4-byte kid, packed names, validity in days); `vectors/format1/` holds
the vectors the first layout's encoder made, kept unchanged so that passes already printed are
proven to keep verifying. Only format-2 files are regenerated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import cbor2
import nacl.signing

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crypto.base45 import b45encode  # noqa: E402
from crypto.keys import KeyPair  # noqa: E402
from crypto.passes import PassClaims, claims_to_cbor, encode_pass, qr_version  # noqa: E402
from crypto.status import StatusList  # noqa: E402
from crypto.textpack import PHRASES  # noqa: E402
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle  # noqa: E402
from crypto.verify import Verdict, verify  # noqa: E402

VECTOR_DIR = Path(__file__).with_name("vectors")
FORMAT1_DIR = VECTOR_DIR / "format1"
CURRENT_FORMAT = 2
CLOCK = 1_764_000_000  # 2025-11-24T16:00:00Z
ROOT_SEED = "00" * 31 + "01"
ISSUER_SEED = "1f" * 32
OTHER_SEED = "2e" * 32
DAY = 86_400


def _kp(seed_hex: str) -> KeyPair:
    return KeyPair.from_seed(bytes.fromhex(seed_hex))


def _claims_json(**overrides: Any) -> dict[str, Any]:
    base = {
        "pass_id": "5a17c0de00112233445566778899aabb",
        "serial": 4711,
        "holder_name": "歐陽大明",
        "masked_national_id": "A12*5*6*9*",
        "org_id": "04595257",
        "org_name": "艾斯移動股份有限公司",
        "kind": "employee",
        "issued_at": CLOCK - DAY,
        "not_before": CLOCK - DAY,
        "expires_at": CLOCK + 29 * DAY,
    }
    base.update(overrides)
    return base


def _context(**overrides: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "root_seed": ROOT_SEED,
        "issuer_seed": ISSUER_SEED,  # whose kid the pass names
        "signer_seed": ISSUER_SEED,  # who actually signs (differs only in forgery cases)
        "alg": -8,
        "validation_clock": CLOCK,
        "accept_stale": False,
        "trust": {
            "issued_at": CLOCK - 3600,
            "valid_until": CLOCK + 7 * DAY,
            "keys": [
                {
                    "seed": ISSUER_SEED,
                    "state": "active",
                    "not_before": CLOCK - 30 * DAY,
                    "not_after": None,
                    "status_counter": 2,
                }
            ],
        },
        "status": {"size": 8192, "counter": 2, "revoked": [3, 9]},
    }
    ctx.update(overrides)
    return ctx


def _key(state: str, not_after: int | None, seed: str = ISSUER_SEED) -> dict[str, Any]:
    return {
        "seed": seed,
        "state": state,
        "not_before": CLOCK - 30 * DAY,
        "not_after": not_after,
        "status_counter": 2,
    }


def _trust(*keys: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    trust = {"issued_at": CLOCK - 3600, "valid_until": CLOCK + 7 * DAY, "keys": list(keys)}
    trust.update(overrides)
    return trust


CASES: dict[str, dict[str, Any]] = {
    "01_valid_employee": {
        "description": "Employee pass, 4-character Chinese name: valid; QR version 11 at ECC Q",
        "context": _context(),
        "input": _claims_json(),
        "verdict": "valid",
    },
    "02_valid_vehicle_nbf": {
        "description": "Vehicle pass (kind travels as code 1), nbf after iat, free-form org id",
        "context": _context(),
        "input": _claims_json(
            kind="vehicle", not_before=CLOCK - 3600, org_id="NTPC-TR-7", holder_name="王明"
        ),
        "verdict": "valid",
    },
    "03_revoked": {
        "description": "Serial 9 is set in the issuer key's status list",
        "context": _context(),
        "input": _claims_json(serial=9),
        "verdict": "revoked",
    },
    "04_expired": {
        "description": "exp is before the validation clock",
        "context": _context(),
        "input": _claims_json(issued_at=CLOCK - 31 * DAY, not_before=CLOCK - 31 * DAY, expires_at=CLOCK - 1),
        "verdict": "expired",
    },
    "05_not_yet_valid": {
        "description": "nbf is after the validation clock",
        "context": _context(),
        "input": _claims_json(not_before=CLOCK + 3600),
        "verdict": "not_yet_valid",
    },
    "06_retired_key_old_pass": {
        "description": "Issuer key retired after the pass was issued: still valid",
        "context": _context(trust=_trust(_key("retired", CLOCK - 3600))),
        "input": _claims_json(),
        "verdict": "valid",
    },
    "07_retired_key_new_pass": {
        "description": "Pass issued (iat) at or after the key's retirement: refused",
        "context": _context(trust=_trust(_key("retired", CLOCK - 2 * DAY))),
        "input": _claims_json(),
        "verdict": "key_retired",
    },
    "08_compromised_key": {
        "description": "Compromised issuer key: everything it signed is refused, whatever the iat",
        "context": _context(trust=_trust(_key("compromised", CLOCK - 3600))),
        "input": _claims_json(),
        "verdict": "key_compromised",
    },
    "09_unknown_key": {
        "description": "The bundle does not list the pass's issuer key",
        "context": _context(trust=_trust(_key("active", None, seed=OTHER_SEED))),
        "input": _claims_json(),
        "verdict": "unknown_key",
    },
    "10_bad_signature": {
        "description": "Names the trusted issuer's kid but is signed by another key",
        "context": _context(signer_seed=OTHER_SEED),
        "input": _claims_json(),
        "verdict": "bad_signature",
    },
    "11_trust_expired": {
        "description": "Trust bundle past valid_until and stale data not accepted",
        "context": _context(validation_clock=CLOCK + 8 * DAY),
        "input": _claims_json(),
        "verdict": "trust_expired",
    },
    "12_trust_stale_accepted": {
        "description": "Same as 11 under accept_stale: valid, flagged stale",
        "context": _context(validation_clock=CLOCK + 8 * DAY, accept_stale=True),
        "input": _claims_json(),
        "verdict": "valid",
        "stale": True,
    },
    "13_no_status_list": {
        "description": "No status list for the issuer key: cannot say it is not revoked",
        "context": _context(status=None),
        "input": _claims_json(),
        "verdict": "no_status",
    },
    "14_alg_ed25519": {
        "description": "alg -19 (Ed25519, RFC 9864) in the protected header is accepted on read",
        "context": _context(alg=-19),
        "input": _claims_json(),
        "verdict": "valid",
    },
    "15_long_org_name": {
        "description": "20-character organisation name without a packing phrase, 4-character holder: "
        "QR version 11 at ECC Q",
        "context": _context(),
        "input": _claims_json(org_name="環宇綠能儲運暨智慧製造控制系統研究發展處"),
        "verdict": "valid",
    },
    "16_rare_name_and_odd_validity": {
        "description": "A holder name outside the 13-bit table travels as UTF-16; validity that is not "
        "whole days travels as exp",
        "context": _context(),
        "input": _claims_json(holder_name="林堃", expires_at=CLOCK + 29 * DAY + 1234),
        "verdict": "valid",
    },
}


# ---- recomputation from JSON (independent of crypto.encode_pass) --------------------------------
def claims_of(case: dict[str, Any]) -> PassClaims:
    c = case["input"]
    issuer = _kp(case["context"]["issuer_seed"])
    return PassClaims(
        pass_id=bytes.fromhex(c["pass_id"]),
        issuer_kid=issuer.kid,
        serial=c["serial"],
        holder_name=c["holder_name"],
        masked_national_id=c["masked_national_id"],
        org_id=c["org_id"],
        org_name=c["org_name"],
        kind=c["kind"],
        issued_at=c["issued_at"],
        not_before=c["not_before"],
        expires_at=c["expires_at"],
    )


def _packed13(text: str) -> bytes | None:
    """13-bit packing as docs/wire-format.md spells it, written as a string of bits."""
    bits = ""
    i = 0
    while i < len(text):
        phrase = max((p for p in PHRASES if text.startswith(p, i)), key=len, default=None)
        if phrase is not None:
            code = 38 * 157 + 95 + PHRASES.index(phrase)
            i += len(phrase)
        else:
            char = text[i]
            i += 1
            if " " <= char <= "~":
                code = 38 * 157 + ord(char) - 0x20
            else:
                try:
                    lead, trail = char.encode("big5")
                except (UnicodeEncodeError, ValueError):
                    return None
                trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
                if not 0xA1 <= lead <= 0xC6 or trail not in trails:
                    return None
                code = (lead - 0xA1) * 157 + trails.index(trail)
                if bytes((lead, trail)).decode("big5") != char:
                    return None
        bits += format(code, "013b")
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def expected_claims_map(case: dict[str, Any]) -> dict[int, Any]:
    """The claims map as format 2 spells it (crypto/passes.py docstring), built by hand."""
    body = first_format_claims_map(case)
    c = case["input"]
    if (c["expires_at"] - c["not_before"]) % DAY == 0:
        del body[4]
        body[-9] = (c["expires_at"] - c["not_before"]) // DAY
    shown = body[-3]
    if len(shown) == 6 and all(ch.isdigit() or "A" <= ch <= "Z" for ch in shown):
        body[-3] = int(shown, 36)
    for plain_key, packed_key, field in ((-2, -7, "holder_name"), (-5, -8, "org_name")):
        packed = _packed13(c[field])
        plain = body[plain_key]
        plain_size = len(plain) if isinstance(plain, bytes) else len(plain.encode())
        if packed is not None and len(packed) <= plain_size:
            del body[plain_key]
            body[packed_key] = packed
    # Key order on the wire: the encoder writes cti, iat, exp or days, serial, holder, id, org id, org.
    order = [7, 6, 4, -9, -1, -2, -7, -3, -4, -5, -8, 5, -6]
    return {k: body[k] for k in order if k in body}


def first_format_claims_map(case: dict[str, Any]) -> dict[int, Any]:
    """The claims map as the first layout spelled it (vectors/format1/), built by hand."""
    c = case["input"]
    body: dict[int, Any] = {
        7: bytes.fromhex(c["pass_id"]),
        6: c["issued_at"],
        4: c["expires_at"],
        -1: c["serial"],
    }

    def packed(text: str) -> str | bytes:
        utf16 = text.encode("utf-16-be")
        return utf16 if len(utf16) < len(text.encode()) else text

    body[-2] = packed(c["holder_name"])
    m = c["masked_national_id"]
    seed_mask = (
        len(m) == 10 and all(m[i] == "*" for i in (3, 5, 7, 9)) and "*" not in m[0:3] + m[4] + m[6] + m[8]
    )
    body[-3] = "".join(m[i] for i in (0, 1, 2, 4, 6, 8)) if seed_mask else m
    body[-4] = int(c["org_id"]) if len(c["org_id"]) == 8 and c["org_id"].isdigit() else c["org_id"]
    body[-5] = packed(c["org_name"])
    if c["not_before"] != c["issued_at"]:
        body[5] = c["not_before"]
    if c["kind"] != "employee":
        body[-6] = {"vehicle": 1, "visitor": 2, "official": 3}.get(c["kind"], c["kind"])
    return body


def stages(case: dict[str, Any]) -> dict[str, Any]:
    """Every wire stage of the case, computed with cbor2 and PyNaCl directly.

    A case without a "format" field is a first-layout vector (vectors/format1/).
    """
    ctx = case["context"]
    current = case.get("format", 1) == CURRENT_FORMAT
    issuer = _kp(ctx["issuer_seed"])
    signer = nacl.signing.SigningKey(bytes.fromhex(ctx["signer_seed"]))
    payload = cbor2.dumps(expected_claims_map(case) if current else first_format_claims_map(case))
    kid = issuer.kid[:4] if current else issuer.kid
    protected = cbor2.dumps({1: ctx["alg"], 4: kid})
    signature = signer.sign(cbor2.dumps(["Signature1", protected, b"", payload])).signature
    message = [protected, {}, payload, signature]
    cose = cbor2.dumps(message if current else cbor2.CBORTag(18, message))
    base45 = b45encode(cose)
    text = "TP1:" + base45
    return {
        "kid_hex": issuer.kid.hex(),
        "claims_cbor_hex": payload.hex(),
        "cose_hex": cose.hex(),
        "base45": base45,
        "qr_text": text,
        "qr_version": qr_version(text),
        "qr_ecc": "Q",
        "payload_bytes": len(payload),
        "cose_bytes": len(cose),
    }


def trust_of(case: dict[str, Any]) -> tuple[TrustBundle, dict[bytes, StatusList]]:
    ctx = case["context"]
    keys = []
    for k in ctx["trust"]["keys"]:
        kp = _kp(k["seed"])
        keys.append(
            IssuerKeyInfo(
                kp.kid,
                kp.public_key,
                KeyState(k["state"]),
                k["not_before"],
                k["not_after"],
                k["status_counter"],
            )
        )
    t = ctx["trust"]
    bundle = TrustBundle(
        tuple(keys), t["issued_at"], t["valid_until"], t["issued_at"], _kp(ctx["root_seed"]).kid
    )
    status: dict[bytes, StatusList] = {}
    if ctx["status"] is not None:
        issuer = _kp(ctx["issuer_seed"])
        sl = StatusList.empty(issuer.kid, ctx["status"]["size"])
        for serial in ctx["status"]["revoked"]:
            sl.revoke(serial)
        sl.counter = ctx["status"]["counter"]
        status[issuer.kid] = sl
    return bundle, status


def verdict_of(case: dict[str, Any], text: str) -> Verdict:
    bundle, status = trust_of(case)
    ctx = case["context"]
    return verify(text, bundle, status, ctx["validation_clock"], accept_stale=ctx["accept_stale"])


def build(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    case = {
        "name": name,
        "format": CURRENT_FORMAT,
        "description": spec["description"],
        "context": spec["context"],
        "input": spec["input"],
    }
    expected = stages(case)
    ctx = case["context"]
    if ctx["signer_seed"] == ctx["issuer_seed"] and ctx["alg"] == -8:
        assert encode_pass(claims_of(case), _kp(ctx["issuer_seed"])) == expected["qr_text"]
        assert claims_to_cbor(claims_of(case)).hex() == expected["claims_cbor_hex"]
    verdict = verdict_of(case, expected["qr_text"])
    expected["verdict"] = {"ok": verdict.ok, "reason": str(verdict.reason), "stale": verdict.stale}
    assert expected["verdict"]["reason"] == spec["verdict"], (name, verdict)
    assert verdict.stale == spec.get("stale", False), (name, verdict)
    case["expected"] = expected
    return case


def main(argv: list[str]) -> int:
    check = "--check" in argv
    VECTOR_DIR.mkdir(exist_ok=True)
    differ = 0
    for name, spec in CASES.items():
        case = build(name, spec)
        path = VECTOR_DIR / f"{name}.json"
        text = json.dumps(case, ensure_ascii=False, indent=2) + "\n"
        if check:
            if not path.exists() or path.read_text("utf-8") != text:
                print(f"differs: {path}")
                differ += 1
        else:
            path.write_text(text, "utf-8")
            print(f"wrote {path.relative_to(ROOT)}  {case['expected']['verdict']['reason']}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
