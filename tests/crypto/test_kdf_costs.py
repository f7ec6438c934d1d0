"""The product's argon2id costs: the interactive limits, for key files and console passwords alike.

tests/conftest.py lowers both for the suite's speed, so they are read here in a fresh interpreter, where
nothing has lowered them; a change of the product's cost has to change this test too."""

from __future__ import annotations

import json
import subprocess
import sys

import nacl.pwhash

_READ = """
import json
import crypto.keys, hub.services.identity as identity
print(json.dumps([crypto.keys.KDF_OPSLIMIT, crypto.keys.KDF_MEMLIMIT,
                  identity.PASSWORD_OPSLIMIT, identity.PASSWORD_MEMLIMIT, identity.hash_password("x")]))
"""


def test_key_files_and_passwords_cost_an_interactive_argon2id() -> None:
    out = subprocess.run([sys.executable, "-c", _READ], check=True, capture_output=True, text=True).stdout
    kdf_ops, kdf_mem, pw_ops, pw_mem, stored = json.loads(out)
    interactive = [nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE]
    assert [kdf_ops, kdf_mem] == interactive
    assert [pw_ops, pw_mem] == interactive
    # the stored hash says its own cost: m in KiB, t passes
    assert stored.startswith(f"$argon2id$v=19$m={interactive[1] // 1024},t={interactive[0]},")


def test_the_suite_runs_at_the_lowest_cost_and_still_verifies() -> None:
    import hub.services.identity as identity

    stored = identity.hash_password("correct horse")
    assert f"t={nacl.pwhash.argon2id.OPSLIMIT_MIN}," in stored
    assert identity.password_matches(stored, "correct horse")
    assert not identity.password_matches(stored, "correct hors")
