"""The offline-root ceremony as an operator runs it: `checkpass keys init` and `bundle sign` on the
offline machine, `checkpass hub init|bundle|keys` on the hub (SQLite; the service itself runs on
both databases in test_trust_offline.py)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from provisioning.cli import main
from provisioning.export import read_export, read_request

PASS = "offline ceremony passphrase"


@pytest.fixture
def machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(offline machine's key store, hub's keys directory without root.key), hub env set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHECKPASS_PASSPHRASE", PASS)
    root_dir, hub_keys = tmp_path / "offline", tmp_path / "hub-keys"
    assert main(["keys", "init", "--dir", str(root_dir)]) == 0
    shutil.copytree(root_dir, hub_keys, ignore=shutil.ignore_patterns("root.key"))
    env = {
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "HUB_KEYS_DIR": str(hub_keys),
        "HUB_KEY_PASSPHRASE": PASS,
        "HUB_SMS_GATEWAY": "file",
        "HUB_SMS_FILE_PATH": str(tmp_path / "sms.jsonl"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return root_dir, hub_keys


def test_offline_ceremony_end_to_end(machines: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    root_dir, hub_keys = machines
    assert main(["hub", "init", "--super-admin", "0911000001"]) == 0
    assert not (hub_keys / "root.key").exists()
    capsys.readouterr()

    assert main(["hub", "bundle", "status"]) == 1  # nothing imported yet
    assert "checkpass hub bundle request" in capsys.readouterr().out

    assert main(["hub", "bundle", "request", "--out", "req.cbor", "--valid-days", "30"]) == 0
    assert "checkpass bundle sign" in capsys.readouterr().out
    assert read_request((tmp_path / "req.cbor").read_bytes()).valid_days == 30
    assert (
        main(["bundle", "sign", "--keys", str(root_dir), "--request", "req.cbor", "--out", "trust.cbor"]) == 0
    )
    export = read_export((tmp_path / "trust.cbor").read_bytes())
    assert export.bundle.valid_until - export.bundle.issued_at == 30 * 86_400

    assert main(["hub", "bundle", "import", "trust.cbor"]) == 0
    assert "serving the bundle" in capsys.readouterr().out
    assert main(["hub", "bundle", "import", "trust.cbor"]) == 0
    assert "already the one served" in capsys.readouterr().out
    assert main(["hub", "bundle", "status"]) == 0
    out = capsys.readouterr().out
    assert "root: offline; bundle: ok" in out and "days left" in out

    # Rotation: prepared on the hub, a new bundle is needed, then the new key takes over.
    assert main(["hub", "keys", "rotate", "--out", "rotate.cbor"]) == 0
    out = capsys.readouterr().out
    assert "A NEW BUNDLE IS NEEDED" in out and "checkpass bundle sign" in out
    new_kid = read_request((tmp_path / "rotate.cbor").read_bytes()).issuer_keys[-1].kid.hex()
    assert main(["hub", "bundle", "status"]) == 0
    assert f"pending issuer key: {new_kid}" in capsys.readouterr().out
    time.sleep(1.1)  # bundles are told apart (and ETagged) by their issued_at second
    assert (
        main(["bundle", "sign", "--keys", str(root_dir), "--request", "rotate.cbor", "--out", "t2.cbor"]) == 0
    )
    assert main(["hub", "bundle", "import", "t2.cbor"]) == 0
    assert f"issuer key {new_kid} is now the active key" in capsys.readouterr().out
    assert (hub_keys / "issuers" / f"{new_kid}.key").exists()
    assert not (root_dir / "issuers" / f"{new_kid}.key").exists()  # the issuer key never left the hub


def test_ceremony_refusals(machines: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    root_dir, _hub_keys = machines
    assert main(["hub", "init", "--super-admin", "0911000001"]) == 0
    capsys.readouterr()
    (tmp_path / "junk.cbor").write_bytes(b"\x00junk")
    assert main(["hub", "bundle", "import", "junk.cbor"]) == 1
    assert "bad_bundle" in capsys.readouterr().err
    assert main(["hub", "bundle", "import", "missing.cbor"]) == 2
    assert main(["bundle", "sign", "--keys", str(root_dir), "--request", "junk.cbor", "--out", "x"]) == 2
    assert "not a Checkpass bundle request" in capsys.readouterr().err

    # A request for another root is refused by the offline signer; nothing is written.
    assert main(["hub", "bundle", "request", "--out", "req.cbor"]) == 0
    other = tmp_path / "other-root"
    assert main(["keys", "init", "--dir", str(other)]) == 0
    capsys.readouterr()
    assert main(["bundle", "sign", "--keys", str(other), "--request", "req.cbor", "--out", "x.cbor"]) == 1
    assert "bundle request is for root key" in capsys.readouterr().err
    assert not (tmp_path / "x.cbor").exists()
