"""The product's wheel carries the product, not its test equipment (the LINE stand-in with LINE's specs,
synthetic camera frames), which lives in testkit/ and is installed beside it for tests and the demo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_no_test_equipment(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("checkpass-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("hub/line/") for n in names) and any(
        n.startswith("checkpoint_app/") for n in names
    )
    carried = [
        n
        for n in names
        if "standin" in n or "synthetic" in n or "testkit" in n or "phone_static" in n or n.endswith(".yml")
    ]
    assert not carried, carried


def test_no_product_module_imports_the_test_equipment_but_the_demo():
    users = [
        path.relative_to(ROOT).as_posix()
        for package in ("hub", "checkpoint_app", "crypto", "provisioning")
        for path in (ROOT / package).rglob("*.py")
        if "import checkpass_testkit" in path.read_text() or "from checkpass_testkit" in path.read_text()
    ]
    assert users == ["hub/line/demo.py"]
