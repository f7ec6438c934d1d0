"""`checkpass keys|bundle|pass` end to end, through provisioning.cli.main (and once as a real process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning import cli
from tests.ci import in_ci

PASSPHRASE = "demo passphrase"


@pytest.fixture(autouse=True)
def only_our_commands(monkeypatch):
    # The hub and checkpoint parts register their own commands; these tests drive ours alone.
    monkeypatch.setattr(cli, "_PARTS", ("provisioning.commands",))
    monkeypatch.setenv("CHECKPASS_PASSPHRASE", PASSPHRASE)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def keys(tmp_path, capsys) -> Path:
    code, out, _ = run(capsys, "keys", "init", "--dir", str(tmp_path / "keys"))
    assert code == 0 and "root kid" in out
    return tmp_path / "keys"


def issue(capsys, keys: Path, tmp_path: Path, **extra: str) -> str:
    argv = ["pass", "issue", "--keys", str(keys), "--name", "陳大明", "--national-id", "A123456789"]
    argv += ["--org", "艾斯移動股份有限公司", "--org-id", "04595257", "--out", str(tmp_path / "pass.png")]
    for k, v in extra.items():
        argv += [f"--{k.replace('_', '-')}", v]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    text = out.strip()
    assert text.startswith("TP1:")
    assert "A123456789" not in out + err  # never in clear
    assert (tmp_path / "pass.png").read_bytes().startswith(b"\x89PNG")
    return text


def export(capsys, keys: Path, tmp_path: Path) -> Path:
    out_file = tmp_path / "trust.cpb"
    code, _, err = run(capsys, "bundle", "export", "--keys", str(keys), "--out", str(out_file))
    assert code == 0, err
    return out_file


def verify_json(capsys, bundle: Path, text: str, *extra: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "pass", "verify", "--bundle", str(bundle), "--json", *extra, text)
    return code, json.loads(out)


def test_issue_export_verify_revoke(capsys, keys, tmp_path):
    text = issue(capsys, keys, tmp_path)
    bundle = export(capsys, keys, tmp_path)
    code, verdict = verify_json(capsys, bundle, text)
    assert code == 0 and verdict["ok"] and verdict["reason"] == "valid"
    assert verdict["claims"]["holder_name"] == "陳*明"
    assert verdict["claims"]["masked_national_id"] == "A12*4*6*8*"

    code, out, _ = run(capsys, "pass", "verify", "--bundle", str(bundle), text)
    assert code == 0 and out.startswith("VALID") and "陳大明" not in out

    pass_id = verdict["claims"]["pass_id"]
    code, _, _ = run(capsys, "pass", "revoke", "--keys", str(keys), "--pass-id", pass_id)
    assert code == 0
    code, verdict = verify_json(capsys, bundle, text)
    assert code == 0, "the old export does not know of the revocation yet"
    bundle = export(capsys, keys, tmp_path)
    code, verdict = verify_json(capsys, bundle, text)
    assert code == 1 and verdict["reason"] == "revoked"


def test_revoke_by_serial(capsys, keys, tmp_path):
    text = issue(capsys, keys, tmp_path)
    code, _, _ = run(capsys, "pass", "revoke", "--keys", str(keys), "--serial", "0")
    assert code == 0
    code, verdict = verify_json(capsys, export(capsys, keys, tmp_path), text)
    assert code == 1 and verdict["reason"] == "revoked"


def test_rotate_keeps_old_passes_valid(capsys, keys, tmp_path):
    old_text = issue(capsys, keys, tmp_path)
    code, out, _ = run(capsys, "keys", "rotate", "--keys", str(keys))
    assert code == 0 and "retired" in out
    new_text = issue(capsys, keys, tmp_path)
    bundle = export(capsys, keys, tmp_path)
    code_old, old = verify_json(capsys, bundle, old_text)
    code_new, new = verify_json(capsys, bundle, new_text)
    assert (code_old, code_new) == (0, 0)
    assert old["claims"]["issuer_kid"] != new["claims"]["issuer_kid"]
    # After rotation a bare serial is ambiguous: usage error, nothing revoked.
    code, _, err = run(capsys, "pass", "revoke", "--keys", str(keys), "--serial", "0")
    assert code == 2 and "--kid" in err
    assert verify_json(capsys, bundle, old_text)[0] == 0


def test_compromised_key_refuses_its_passes(capsys, keys, tmp_path):
    text = issue(capsys, keys, tmp_path)
    kid = verify_json(capsys, export(capsys, keys, tmp_path), text)[1]["claims"]["issuer_kid"]
    assert run(capsys, "keys", "compromise", "--keys", str(keys), "--kid", kid)[0] == 0
    code, verdict = verify_json(capsys, export(capsys, keys, tmp_path), text)
    assert code == 1 and verdict["reason"] == "key_compromised"


@pytest.mark.parametrize("text", ["garbage", "TP1:", "TP1:GARBAGE$$", "TP1:" + "9" * 400, "HC1:ABC"])
def test_garbage_is_rejected_not_crashed(capsys, keys, tmp_path, text):
    bundle = export(capsys, keys, tmp_path)
    code, verdict = verify_json(capsys, bundle, text)
    assert code == 1 and not verdict["ok"] and verdict["reason"] in {"not_ours", "bad_encoding"}


def test_expired_trust_and_accept_stale(capsys, keys, tmp_path):
    text = issue(capsys, keys, tmp_path)
    bundle = export(capsys, keys, tmp_path)
    later = str(int(__import__("time").time()) + 8 * 86_400)
    code, verdict = verify_json(capsys, bundle, text, "--now", later)
    assert code == 1 and verdict["reason"] == "trust_expired"
    code, verdict = verify_json(capsys, bundle, text, "--now", later, "--accept-stale")
    assert code == 0 and verdict["stale"]


def test_pinned_root_key(capsys, keys, tmp_path):
    text = issue(capsys, keys, tmp_path)
    bundle = export(capsys, keys, tmp_path)
    code, _ = verify_json(capsys, bundle, text, "--root-key", str(keys / "root.pub"))
    assert code == 0
    other = tmp_path / "other"
    run(capsys, "keys", "init", "--dir", str(other))
    code, out, err = run(
        capsys, "pass", "verify", "--bundle", str(bundle), "--root-key", str(other / "root.pub"), text
    )
    assert code == 1 and "another root" in err


def test_text_from_stdin(capsys, keys, tmp_path, monkeypatch):
    import io

    text = issue(capsys, keys, tmp_path)
    bundle = export(capsys, keys, tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text + "\n"))
    assert run(capsys, "pass", "verify", "--bundle", str(bundle), "-")[0] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["pass", "verify", "--bundle", "/nonexistent/file", "TP1:X"],
        ["pass", "verify", "TP1:X"],
        ["pass", "issue", "--keys", "KEYS", "--name", "王明", "--national-id", "A123456788", "--org", "O",
         "--out", "OUT"],
        ["pass", "issue", "--keys", "KEYS", "--name", "王明", "--national-id", "A123456789", "--org", "O",
         "--org-id", "12345678", "--out", "OUT"],
        ["pass", "issue", "--keys", "KEYS", "--name", "王明", "--national-id", "A123456789", "--org", "O",
         "--valid-days", "0", "--out", "OUT"],
        ["pass", "revoke", "--keys", "KEYS"],
        ["pass", "revoke", "--keys", "KEYS", "--pass-id", "zz"],
        ["pass", "revoke", "--keys", "KEYS", "--serial", "x"],
        ["keys", "init", "--dir", "KEYS"],
        ["keys", "rotate", "--keys", "/nonexistent/keys"],
        ["pass"],
        ["nonsense"],
    ],
)  # fmt: skip
def test_usage_errors_exit_2(capsys, keys, tmp_path, argv):
    argv = [a.replace("KEYS", str(keys)).replace("OUT", str(tmp_path / "p.png")) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert "A123456788" not in out + err


@pytest.mark.parametrize(
    ("national_id", "shown", "check"),
    [
        ("A123456788", "A12*4*6*8*", "checksum failed"),
        ("A323456789", "A32*4*6*8*", "format check failed"),
        ("A12345", "(6 characters)", "length check failed"),
    ],
)
def test_a_refused_national_id_names_the_failed_check_not_the_id(
    capsys, keys, tmp_path, national_id, shown, check
):
    argv = ["pass", "issue", "--keys", str(keys), "--name", "王明", "--national-id", national_id]
    code, out, err = run(capsys, *argv, "--org", "O", "--out", str(tmp_path / "p.png"))
    assert code == 2
    assert f"--national-id {shown} is not a valid national ID: {check}" in err
    assert national_id not in out + err


def test_names_up_to_the_api_limit_are_accepted(capsys, keys, tmp_path):
    base = ["pass", "issue", "--keys", str(keys), "--national-id", "A123456789", "--org", "O"]
    out_png = str(tmp_path / "p.png")
    assert run(capsys, *base, "--name", "陳" * 64, "--out", out_png)[0] == 0
    code, _, err = run(capsys, *base, "--name", "陳" * 65, "--out", out_png)
    assert code == 2 and "1..64 characters" in err


def test_wrong_passphrase_fails_cleanly(capsys, keys, monkeypatch):
    monkeypatch.setenv("CHECKPASS_PASSPHRASE", "wrong")
    code, _, err = run(capsys, "keys", "rotate", "--keys", str(keys))
    assert code == 1 and "passphrase" in err and "Traceback" not in err


def test_real_checkpass_process(tmp_path):
    """The installed entry point, as an operator runs it (all parts registered)."""
    exe = Path(sys.executable).with_name("checkpass")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "provisioning"]
    env = {**os.environ, "CHECKPASS_PASSPHRASE": PASSPHRASE}

    def sh(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cmd, *argv], env=env, capture_output=True, text=True, timeout=60)

    assert sh("keys", "init", "--dir", str(tmp_path / "k")).returncode == 0
    keys, bundle = str(tmp_path / "k"), str(tmp_path / "t.cpb")
    holder = ["--name", "林小美", "--national-id", "B223456782", "--org", "新北運輸"]
    issued = sh("pass", "issue", "--keys", keys, *holder, "--out", str(tmp_path / "p.png"))
    assert issued.returncode == 0, issued.stderr
    assert (
        sh("bundle", "export", "--keys", str(tmp_path / "k"), "--out", str(tmp_path / "t.cpb")).returncode
        == 0
    )
    ok = sh("pass", "verify", "--bundle", str(tmp_path / "t.cpb"), issued.stdout.strip())
    assert ok.returncode == 0 and ok.stdout.startswith("VALID")
    bad = sh("pass", "verify", "--bundle", bundle, "TP1:NOPE")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    usage = sh("pass", "verify")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_verify_reads_the_qr_image(capsys, keys, tmp_path):
    try:
        import zxingcpp  # noqa: F401
    except ImportError:
        if in_ci():
            raise
        pytest.skip("zxing-cpp (checkpoint extra) not installed")
    text = issue(capsys, keys, tmp_path)
    bundle = export(capsys, keys, tmp_path)
    image = ["--image", str(tmp_path / "pass.png")]
    code, out, _ = run(capsys, "pass", "verify", "--bundle", str(bundle), "--json", *image)
    assert code == 0 and json.loads(out)["ok"]
    assert verify_json(capsys, bundle, text)[1]["claims"] == json.loads(out)["claims"]


def test_keys_list_needs_no_passphrase(capsys, keys, monkeypatch):
    monkeypatch.delenv("CHECKPASS_PASSPHRASE")
    code, out, _ = run(capsys, "keys", "list", "--keys", str(keys))
    assert code == 0 and "active" in out and "0 issued" in out
