"""poppler command-line tools on PDF bytes (plain functions in a uniquely named module: tests import
helpers by module name, and a second conftest.py would make `conftest` ambiguous)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.ci import skip_or_fail


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        skip_or_fail(f"{tool} (poppler-utils) is not installed")
    return path


def _run_on_pdf(pdf: bytes, *arguments: str) -> str:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "doc.pdf"
        path.write_bytes(pdf)
        command = [_need(arguments[0]), *arguments[1:], str(path)]
        if arguments[0] == "pdftotext":
            command.append("-")
        return subprocess.run(command, check=True, capture_output=True).stdout.decode()


def pdf_text(pdf: bytes) -> str:
    """The text poppler extracts, layout kept."""
    return _run_on_pdf(pdf, "pdftotext", "-layout")


def pdf_fonts(pdf: bytes) -> str:
    """pdffonts' table: name, type, encoding, embedded, subset, unicode."""
    return _run_on_pdf(pdf, "pdffonts")


def pdf_pages_png(pdf: bytes, directory: Path, dpi: int = 150) -> list[Path]:
    """One PNG per page in ``directory``."""
    tool = _need("pdftoppm")
    source = directory / "pages.pdf"
    source.write_bytes(pdf)
    for old in directory.glob("page-*.png"):
        old.unlink()
    subprocess.run([tool, "-r", str(dpi), "-png", str(source), str(directory / "page")], check=True)
    return sorted(directory.glob("page-*.png"))
