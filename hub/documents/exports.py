"""CSV and .xlsx exports of query results (already masked by the caller's policy).

Both take any iterable of rows and never hold more than one row as Python objects: ``iter_csv`` yields
chunks for a streaming HTTP response, and ``to_xlsx`` uses openpyxl's write-only mode, which spools rows
to a temporary file instead of building the sheet in memory.

Cells that a spreadsheet would run as a formula (``=cmd|...``, ``@SUM(...)``) are written so they stay
text: in CSV with a leading apostrophe (OWASP's advice), in .xlsx by storing them as strings.

Times are for people: Taiwan time with the offset shown (crypto/local_time.py), as ISO 8601 with
"+08:00" in CSV and as dates formatted "... (UTC+8)" in .xlsx.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from crypto.local_time import TAIPEI_EXCEL_FORMAT, in_taipei, taipei_iso

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 (and so shows Chinese) only when it starts with a BOM
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,. ]*")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_CHUNK_ROWS = 500


def iter_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV in UTF-8 chunks, BOM first; for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([_csv_text(h) for h in headers])
    width = len(headers)
    pending = 0
    for row in rows:
        _check_width(row, width)
        writer.writerow([_csv_text(value) for value in row])
        pending += 1
        if pending >= _CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return b"".join(iter_csv(headers, rows))


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str = "匯出") -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=_text(header))
        cell.data_type = "s"
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    width = len(headers)
    try:
        for row in rows:
            _check_width(row, width)
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    except BaseException:
        # Close the half-written sheet now: left to the garbage collector, openpyxl's writer
        # generator fails noisily on its already-closed temporary file.
        with contextlib.suppress(Exception):
            sheet.close()
        raise
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _check_width(row: Sequence[Any], width: int) -> None:
    if len(row) != width:
        raise ValueError(f"a row has {len(row)} values for {width} headers")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return taipei_iso(value)  # people read exports: Taiwan time, its offset written out
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _csv_text(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return str(value)
    text = _text(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: the cell holds Taiwan time (naive means UTC, as the hub stores it)
        # and its format says "(UTC+8)", so the reader knows and the column still sorts as dates.
        cell = WriteOnlyCell(sheet, value=in_taipei(value).replace(tzinfo=None))
        cell.number_format = TAIPEI_EXCEL_FORMAT
        return cell
    if value is None or isinstance(value, bool | int | float | datetime | date):
        return value
    cell = WriteOnlyCell(sheet, value=_text(value))
    cell.data_type = "s"  # never a formula, whatever it starts with
    return cell


def _sheet_title(title: str) -> str:
    # Excel's rules: at most 31 characters, none of []:*?/\ .
    cleaned = _SHEET_TITLE_BAD.sub("_", title or "").strip()[:31]
    return cleaned or "Sheet1"
