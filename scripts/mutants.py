"""Mutation testing (mutmut) over the modules that guard trust, people's data and sync.

Each module runs in a scratch project of its own under var/mutants/<name>/ (gitignored): the packages are
linked there, mutmut copies them into that project's mutants/ folder and mutates only the copy, and the
tests it runs are only the files that cover that module. The worktree's own files are never rewritten.

    python scripts/mutants.py                 # every module below
    python scripts/mutants.py verify merkle   # some of them
    python scripts/mutants.py --list

A module's survivors: `cd var/mutants/<name> && mutmut results`, one in full: `mutmut show <mutant>`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "var" / "mutants"
# What a scratch project links in: the packages the tests import and the tests themselves.
LINKED = ("catalogue", "crypto", "checkpoint_app", "hub", "provisioning", "tests", "testkit")


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]


TARGETS: dict[str, Target] = {
    "verify": Target(
        "crypto/verify.py",
        # Not the property tests (300 examples each): a surviving mutant would run them all, minutes each.
        ("tests/crypto/test_crypto_verify.py", "tests/crypto/test_crypto_vectors.py"),
    ),
    "status": Target("crypto/status.py", ("tests/crypto/test_crypto_status.py",)),
    "merkle": Target("crypto/merkle.py", ("tests/crypto/test_crypto_merkle.py",)),
    "identity": Target("crypto/identity.py", ("tests/crypto/test_crypto_identity.py",)),
    "verifier": Target(
        "checkpoint_app/verifier.py",
        ("tests/checkpoint_app/test_verdicts.py", "tests/checkpoint_app/test_verdict_product.py"),
    ),
    "sync": Target("checkpoint_app/sync.py", ("tests/checkpoint_app/test_sync_engine.py",)),
    "store": Target("checkpoint_app/store.py", ("tests/checkpoint_app/test_store.py",)),
}


def scratch_project(name: str, target: Target) -> Path:
    where = SCRATCH / name
    where.mkdir(parents=True, exist_ok=True)
    for package in LINKED:
        link = where / package
        if not link.exists():
            link.symlink_to(ROOT / package)
    config = {
        "source_paths": [target.module.split("/")[0]],
        "only_mutate": [target.module],
        "also_copy": [p for p in LINKED if p != target.module.split("/")[0]],
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q"],
        "pytest_add_cli_args_test_selection": list(target.tests),
    }
    lines = ["[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    pytest_section = (ROOT / "pyproject.toml").read_text().split("[tool.pytest.ini_options]", 1)[1]
    text = "\n".join(lines) + "\n\n[tool.pytest.ini_options]" + pytest_section
    (where / "pyproject.toml").write_text(text)
    return where


def run(name: str, children: int, fresh: bool) -> None:
    target = TARGETS[name]
    where = scratch_project(name, target)
    if fresh:
        shutil.rmtree(where / "mutants", ignore_errors=True)
    mutmut = str(Path(sys.executable).parent / "mutmut")
    started = time.monotonic()
    subprocess.run([mutmut, "run", "--max-children", str(children)], cwd=where, check=False)
    took = time.monotonic() - started
    subprocess.run([mutmut, "export-cicd-stats"], cwd=where, check=False, capture_output=True)
    stats_file = where / "mutants" / "mutmut-cicd-stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    killed = stats.get("killed", 0) + stats.get("timeout", 0)
    judged = killed + stats.get("survived", 0)
    score = f"{100 * killed / judged:.1f}%" if judged else "n/a"
    print(f"== {name} ({target.module}): {score} killed ({killed}/{judged}), {took:.0f} s; {stats}")


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("names", nargs="*", help="modules to mutate (default: all)")
    parser.add_argument("--list", action="store_true", help="print the modules and their tests")
    parser.add_argument("--children", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    args = parser.parse_args()
    if args.list:
        for name, target in TARGETS.items():
            print(f"{name:10} {target.module:32} {' '.join(target.tests)}")
        return
    for name in args.names or list(TARGETS):
        if name not in TARGETS:
            parser.error(f"unknown module {name!r}; --list shows them")
        run(name, args.children, args.fresh)


if __name__ == "__main__":
    main()
