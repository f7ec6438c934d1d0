"""The product's wheel carries the product, not its test equipment (the LINE stand-in with LINE's specs,
synthetic camera frames), which lives in testkit/ and is installed beside it for tests and the demo. The
checkpoint app is packaged alone (buildozer.spec): it carries the message catalogue it shares with the hub
and imports nothing of the hub."""

from __future__ import annotations

import ast
import configparser
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
    assert {
        "catalogue/locale/zh_TW/LC_MESSAGES/messages.po",
        "catalogue/locale/en/LC_MESSAGES/messages.po",
    } <= set(names)  # the catalogue both front ends read ships with them
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
        for package in ("hub", "checkpoint_app", "crypto", "provisioning", "catalogue")
        for path in (ROOT / package).rglob("*.py")
        if "import checkpass_testkit" in path.read_text() or "from checkpass_testkit" in path.read_text()
    ]
    assert users == ["hub/line/demo.py"]


APP_PACKAGES = ("checkpoint_app", "crypto", "catalogue")  # what buildozer.spec ships


def _imported_top_levels(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_app_imports_nothing_of_the_hub():
    reaching = {
        path.relative_to(ROOT).as_posix(): found
        for package in APP_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        # (provisioning is the desktop `checkpass` command that checkpoint_app/cli.py plugs into, never
        # imported on a phone.)
        if (found := _imported_top_levels(path) & {"hub", "checkpass_testkit"})
    }
    assert reaching == {}
    assert "catalogue" in _imported_top_levels(
        ROOT / "checkpoint_app" / "ui" / "i18n.py"
    )  # the scan sees imports


def test_the_app_package_carries_the_catalogue_and_its_reader():
    spec = configparser.ConfigParser(interpolation=None)
    spec.read(ROOT / "buildozer.spec", encoding="utf-8")
    app = spec["app"]
    assert "po" in app["source.include_exts"].split(",")
    patterns = app["source.include_patterns"].split(",")
    assert {f"{package}/*" for package in APP_PACKAGES} <= set(patterns)
    assert "catalogue/**/*" in patterns  # the locale folders are two levels down
    assert "babel" in app["requirements"].split(",")
