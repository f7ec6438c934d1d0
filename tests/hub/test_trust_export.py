"""A hub pass checked offline with the CLI, as the README's session does it: the trust export comes from
`GET /api/v1/trust/export` or `checkpass hub bundle export`, and `checkpass pass verify --bundle` reads it.

Real HTTP (the app's TestClient) on both databases, the real `checkpass` entry point in this process.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from crypto.keys import KeyPair
from provisioning.cli import main
from provisioning.export import read_export
from provisioning.keystore import KeyStore
from tests.hub import test_trust_offline as offline_root
from tests.hub.hubkit import PASSPHRASE, Hub, bearer

# The offline-root hub of test_trust_offline.py: its keys directory without root.key, and the ceremony.
root_dir = offline_root.root_dir
sign_offline, fetch_request, put_bundle = (
    offline_root.sign_offline,
    offline_root.fetch_request,
    offline_root.put_bundle,
)

EMPLOYEE = {"name": "陳大明", "mobile": "0912345678", "national_id": "A123456789"}


def _issue(hub: Hub) -> tuple[str, dict]:
    token, org = hub.register_enterprise()
    r = hub.client.post(f"/api/v1/enterprises/{org['id']}/employees", json=EMPLOYEE, headers=bearer(token))
    assert r.status_code == 201, r.text
    r = hub.client.post(
        f"/api/v1/enterprises/{org['id']}/employees/{r.json()['id']}/passes", json={}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    return token, r.json()


def _from_api(hub: Hub, path: Path) -> Path:
    r = hub.client.get("/api/v1/trust/export")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/cbor"
    assert "attachment" in r.headers["content-disposition"]
    path.write_bytes(r.content)
    return path


def _from_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["hub", "bundle", "export", "--out", str(path)]) == 0
    assert "checkpass pass verify --bundle" in capsys.readouterr().out
    return path


def _verify(bundle: Path, root_pub: Path | str, text: str, capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["pass", "verify", "--bundle", str(bundle), "--root-key", str(root_pub), "--json", text])
    out = capsys.readouterr().out
    verdict = json.loads(out)
    assert code == (0 if verdict["ok"] else 1)
    return verdict


@pytest.fixture
def hub_env(settings, keys_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`checkpass hub ...` in this process sees the same database and keys as the test's app."""
    monkeypatch.chdir(tmp_path)  # no developer .env
    env = {
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_KEYS_DIR": str(keys_dir),
        "HUB_KEY_PASSPHRASE": PASSPHRASE,
        "HUB_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HUB_SMS_GATEWAY": "file",
        "HUB_SMS_FILE_PATH": str(tmp_path / "cli-sms.jsonl"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_hub_pass_verifies_offline_from_api_and_cli_exports(
    hub: Hub, keys_dir: Path, tmp_path: Path, hub_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    token, issued = _issue(hub)
    root_pub = keys_dir / "root.pub"

    # What a person without the export gets today: the served bundle alone is not an export.
    bare = tmp_path / "bundle.cose"
    bare.write_bytes(hub.client.get("/api/v1/trust/bundle").content)
    assert main(["pass", "verify", "--bundle", str(bare), "--root-key", str(root_pub), issued["text"]]) == 1
    assert "not a Checkpass trust export" in capsys.readouterr().err

    for export in (_from_api(hub, tmp_path / "api.cbor"), _from_cli(tmp_path / "cli.cbor", capsys)):
        verdict = _verify(export, root_pub, issued["text"], capsys)
        assert verdict["ok"] is True, verdict
        assert verdict["claims"]["serial"] == issued["serial"]
        assert verdict["claims"]["masked_national_id"] == "A12*4*6*8*"
        # The file carries the served bundle byte for byte and a status list for each listed key.
        unpacked = read_export(export.read_bytes(), pinned_root=KeyStore(keys_dir, "").root_public_key())
        assert {info.kid for info in unpacked.bundle.issuer_keys} == set(unpacked.status)

    # Revoked on the hub: a fresh export from either source says so offline.
    r = hub.client.post(
        f"/api/v1/passes/{issued['pass_id']}/revoke", json={"reason": "離職"}, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    for export in (_from_api(hub, tmp_path / "api2.cbor"), _from_cli(tmp_path / "cli2.cbor", capsys)):
        verdict = _verify(export, root_pub, issued["text"], capsys)
        assert verdict["ok"] is False and verdict["reason"] == "revoked", verdict

    # Pinning another root refuses the file: the embedded root key is not trusted by itself.
    other = KeyPair.generate()
    other_pub = tmp_path / "other.pub"
    other_pub.write_text(base64.b64encode(other.public_key).decode())
    code = main(["pass", "verify", "--bundle", str(tmp_path / "api.cbor"), "--root-key", str(other_pub), "x"])
    assert code == 1
    assert "another root key than the pinned one" in capsys.readouterr().err


def test_offline_root_hub_exports_the_imported_bundle(
    hub: Hub, root_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hub whose root is offline has nothing to export before a bundle is imported (a refusal that says
    so); afterwards the export carries the bundle the offline root signed, and a hub pass verifies."""
    token, issued = _issue(hub)
    r = hub.client.get("/api/v1/trust/export")
    assert r.status_code == 503 and r.json()["error"] == "no_trust_bundle"

    super_token = hub.super_admin_token()
    signed = sign_offline(root_dir, fetch_request(hub, super_token))
    assert put_bundle(hub, super_token, signed).status_code == 200
    export = _from_api(hub, tmp_path / "offline.cbor")
    assert read_export(export.read_bytes()).bundle == read_export(signed).bundle
    verdict = _verify(export, root_dir / "root.pub", issued["text"], capsys)
    assert verdict["ok"] is True, verdict
