"""A hub's key store: the offline commands refuse it, and its messages and permissions fit it.

Found by following the README as a new user: `checkpass pass issue --keys <a hub's keys dir>` handed
out serial 0 again (the hub allocates serials in its database, keystore.json stays at 0), and
`bundle export` on an offline-root hub's store said "no key store ... run `checkpass keys init`".
"""

import base64
import hashlib
import shutil
import stat
from pathlib import Path

import pytest

from crypto.passes import decode_pass
from provisioning import cli
from provisioning.keystore import KeyStore, KeyStoreError

PASSPHRASE = "hub store passphrase"


@pytest.fixture(autouse=True)
def only_our_commands(monkeypatch):
    monkeypatch.setattr(cli, "_PARTS", ("provisioning.commands",))
    monkeypatch.setenv("CHECKPASS_PASSPHRASE", PASSPHRASE)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def tree_digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def keys(tmp_path, capsys) -> Path:
    code, _, err = run(capsys, "keys", "init", "--dir", str(tmp_path / "keys"))
    assert code == 0, err
    return tmp_path / "keys"


def issue_argv(keys: Path, out: Path) -> list[str]:
    return [
        "pass", "issue", "--keys", str(keys), "--name", "陳大明", "--national-id", "A123456789",
        "--org", "艾斯移動股份有限公司", "--out", str(out),
    ]  # fmt: skip


def hub_marked(keys: Path, how: str) -> None:
    if how == "hub-secret":  # what `checkpass hub init` leaves in HUB_KEYS_DIR
        (keys / "hub-secret").write_text("0" * 64)
    elif how == "pending":  # what `checkpass hub keys rotate` leaves while a bundle is awaited
        (keys / "pending").mkdir()
    else:
        KeyStore(keys, "").mark_managed_by_hub()


@pytest.mark.parametrize("how", ["hub-secret", "pending", "keystore.json"])
def test_the_offline_commands_refuse_a_hub_store_and_change_nothing(keys, tmp_path, capsys, how):
    hub_marked(keys, how)
    before = tree_digest(keys)
    commands = [
        issue_argv(keys, tmp_path / "pass.png"),
        ["pass", "revoke", "--keys", str(keys), "--serial", "0"],
        ["keys", "rotate", "--keys", str(keys)],
        ["keys", "compromise", "--keys", str(keys), "--kid", "00" * 8],
        ["bundle", "export", "--keys", str(keys), "--out", str(tmp_path / "trust.cpb")],
    ]
    for argv in commands:
        code, out, err = run(capsys, *argv)
        assert code == 1, argv
        assert "is a hub's key store" in err and "Traceback" not in err
        assert not out
    assert tree_digest(keys) == before
    assert not (tmp_path / "pass.png").exists() and not (tmp_path / "trust.cpb").exists()
    # Reading stays possible.
    code, out, _ = run(capsys, "keys", "list", "--keys", str(keys))
    assert code == 0 and "active" in out


def test_a_store_without_hub_markers_still_issues(keys, tmp_path, capsys):
    code, out, err = run(capsys, *issue_argv(keys, tmp_path / "pass.png"))
    assert code == 0, err
    assert decode_pass(out.strip())[1].serial == 0
    code, out, err = run(capsys, *issue_argv(keys, tmp_path / "pass.png"))
    assert decode_pass(out.strip())[1].serial == 1


def test_marking_keeps_the_rest_of_the_store(keys):
    store = KeyStore(keys, PASSPHRASE)
    kid = store.active_kid()
    store.mark_managed_by_hub()
    store.mark_managed_by_hub()  # idempotent
    reopened = KeyStore(keys, PASSPHRASE)
    assert reopened.managed_by_hub() and reopened.active_kid() == kid
    assert reopened.active_issuer().kid == kid


def test_an_offline_root_copy_names_the_missing_root_key(keys, tmp_path, capsys):
    hub_copy = tmp_path / "hubkeys"
    shutil.copytree(keys, hub_copy)
    (hub_copy / "root.key").unlink()
    with pytest.raises(KeyStoreError, match="no root private key"):
        KeyStore(hub_copy, PASSPHRASE).root()
    code, _, err = run(capsys, "bundle", "export", "--keys", str(hub_copy), "--out", str(tmp_path / "t"))
    assert code == 1 and "root is offline" in err and "keys init" not in err
    # An empty directory still gets the "run keys init" advice.
    with pytest.raises(KeyStoreError, match="keys init"):
        KeyStore(tmp_path / "empty", PASSPHRASE).root()


def test_init_makes_an_existing_directory_private(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)  # whatever the umask did
    store = KeyStore(directory, PASSPHRASE)
    store.init()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert base64.b64decode((directory / "root.pub").read_bytes()) == store.root_public_key()
