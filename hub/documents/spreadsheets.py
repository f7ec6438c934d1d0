"""Reading .xlsx imports (station admins, duty officers, employees) into a per-row report.

The first sheet's first non-empty row is the header; each column is found by any of its names (Chinese or
English, any case). Every data row is checked and normalised; a row with any problem goes to ``errors``
(row number as Excel shows it, column, message) and not to ``rows``, so a caller can refuse the whole file
when ``errors`` is not empty and import nothing by halves. Messages show personal data only masked.
A file that is not an .xlsx, is damaged, has no data, or is too big raises :class:`SpreadsheetError`.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from crypto.identity import (
    MAX_PERSON_NAME_CHARS,
    mask_mobile,
    mask_name,
    mask_national_id,
    national_id_problem,
)
from hub.core.phone import InvalidMobile, normalize_mobile, normalize_phone

MAX_ROWS = 5000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # a zip bomb unpacks to gigabytes from a small file
MAX_COLUMNS = 50
MAX_CELL_CHARS = 200
HEADER_SEARCH_ROWS = 5  # non-empty rows looked at for the header (titles above it are common)


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read as an import; nothing in it was used."""


@dataclass(frozen=True)
class ColumnSpec:
    key: str  # the normalised dict key: "name", "mobile", ...
    headers: tuple[str, ...]  # accepted header texts; the first is the one the template writes
    normalise: Callable[[str], str]  # returns the stored form; raises ValueError(message) if invalid
    mask: Callable[[str], str]  # how a value may appear in an error message
    required: bool = True
    unique: bool = False  # a repeat within the file is an error on the later row
    example: str = ""  # shown in the template's instructions sheet
    description: str = ""

    @property
    def label(self) -> str:
        return self.headers[0]


@dataclass(frozen=True)
class ImportRow:
    row_number: int  # as Excel numbers rows (the header is usually row 1)
    values: dict[str, str]


@dataclass(frozen=True)
class RowError:
    row_number: int
    column: str  # the column's label ("手機"); "" for a whole-row problem
    message: str


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- validators -----------------------------------------------------------------------------------------


def normalise_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValueError("is empty")
    if len(name) > MAX_PERSON_NAME_CHARS:
        raise ValueError(f"is longer than {MAX_PERSON_NAME_CHARS} characters")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("contains control characters")
    return name


def normalise_mobile(value: str) -> str:
    """A Taiwan mobile in any usual writing (0912-345-678, +886 912 345 678, 912345678) -> E.164.

    The rule is hub.core.phone.normalize_mobile's (the API's); an import adds only that the number is
    Taiwanese, and words the refusal for a report row."""
    text = value.strip()
    try:
        phone = normalize_phone(text)
    except InvalidMobile:
        raise ValueError("is not a phone number") from None
    if not phone.startswith("+886"):
        raise ValueError("is not a valid Taiwan phone number")
    try:
        return normalize_mobile(text)
    except InvalidMobile:
        raise ValueError("is not a mobile number (SMS codes go to mobiles)") from None


def normalise_national_id(value: str) -> str:
    nid = value.strip().upper()
    problem = national_id_problem(nid, allow_old_resident=True)  # what the API accepts too
    if problem is not None:
        # The mask of a wrong ID looks like a valid one's: say which check failed.
        raise ValueError(f"is not a valid national ID ({problem.explain()})")
    return nid


_OFFICER_NUMBER = re.compile(r"[A-Z0-9-]{1,20}")


def normalise_officer_number(value: str) -> str:
    number = value.strip().upper()
    if not _OFFICER_NUMBER.fullmatch(number):
        raise ValueError("must be 1-20 letters, digits or '-'")
    return number


def _mask_mobile_safely(value: str) -> str:
    # Only something number-like is shown masked; other text is withheld whole (it may be anything).
    if re.fullmatch(r"\+?[\d\s()-]{4,20}", value.strip()):
        return mask_mobile(value)
    return "*" * min(len(value.strip()), 10)


def _mask_nid_safely(value: str) -> str:
    nid = value.strip().upper()
    # Mask only what has the shape of an ID; anything else is withheld whole.
    return mask_national_id(nid) if len(nid) == 10 else "*" * min(len(nid), 10)


def _no_mask(value: str) -> str:
    return value.strip()[:30]


NAME = ColumnSpec(
    "name",
    ("姓名", "name", "名字"),
    normalise_name,
    mask_name,
    example="陳大明",
    description=f"本名，最多 {MAX_PERSON_NAME_CHARS} 字",
)
MOBILE = ColumnSpec(
    "mobile",
    ("手機", "手機號碼", "mobile", "phone", "行動電話"),
    normalise_mobile,
    _mask_mobile_safely,
    unique=True,
    example="0912345678",
    description="台灣手機號碼，用於簡訊驗證碼",
)
NATIONAL_ID = ColumnSpec(
    "national_id",
    ("身分證", "身分證字號", "身分證號", "national_id", "national id", "居留證"),
    normalise_national_id,
    _mask_nid_safely,
    unique=True,
    example="A123456789",
    description="身分證或居留證號碼",
)
OFFICER_NUMBER = ColumnSpec(
    "officer_number",
    ("警員編號", "警號", "officer_number", "officer number"),
    normalise_officer_number,
    _no_mask,
    unique=True,
    example="T12345",
    description="警員編號（英數字）",
)
# A station's name is not personal data: it may show in error messages as typed.
STATION = ColumnSpec(
    "station",
    ("分局", "警局", "station"),
    normalise_name,
    lambda value: value,
    required=False,
    example="板橋分局",
    description="所屬分局（須已建立）；可留空",
)

STATION_ADMIN_COLUMNS: tuple[ColumnSpec, ...] = (NAME, MOBILE, NATIONAL_ID, STATION)
OFFICER_COLUMNS: tuple[ColumnSpec, ...] = (NAME, OFFICER_NUMBER, MOBILE)
EMPLOYEE_COLUMNS: tuple[ColumnSpec, ...] = (NAME, MOBILE, NATIONAL_ID)


# --- reading -------------------------------------------------------------------------------------------


def read_rows(data: bytes, columns: Sequence[ColumnSpec], *, max_rows: int = MAX_ROWS) -> ImportReport:
    """Read an .xlsx import; see the module docstring for what lands where."""
    _check_columns(columns)
    workbook, sheet_rows = _open_sheet(data)
    try:
        header_number, positions = _find_header(sheet_rows, columns)
        report = ImportReport()
        seen: dict[str, dict[str, int]] = {spec.key: {} for spec in columns if spec.unique}
        data_rows = 0
        for row_number, cells in enumerate(sheet_rows, start=header_number + 1):
            texts = [_cell_text(c) for c in cells]
            if not any(texts):
                continue  # blank rows between blocks are common; they are not data
            data_rows += 1
            if data_rows > max_rows:
                raise SpreadsheetError(f"more than {max_rows} data rows; split the file")
            _read_row(row_number, texts, columns, positions, seen, report)
    except zipfile.BadZipFile as exc:  # openpyxl reads lazily in read-only mode
        raise SpreadsheetError("the file is damaged (cannot read its sheet)") from exc
    finally:
        workbook.close()  # read-only workbooks keep the archive open until closed
    if data_rows == 0:
        raise SpreadsheetError("the sheet has a header but no data rows")
    return report


def _read_row(
    row_number: int,
    texts: list[str],
    columns: Sequence[ColumnSpec],
    positions: dict[str, int],
    seen: dict[str, dict[str, int]],
    report: ImportReport,
) -> None:
    values: dict[str, str] = {}
    errors: list[RowError] = []
    for spec in columns:
        position = positions.get(spec.key)
        raw = texts[position] if position is not None and position < len(texts) else ""
        if not raw:
            if spec.required:
                errors.append(RowError(row_number, spec.label, f"{spec.label} is empty"))
            continue
        if len(raw) > MAX_CELL_CHARS:
            errors.append(
                RowError(row_number, spec.label, f"{spec.label} is longer than {MAX_CELL_CHARS} characters")
            )
            continue
        try:
            value = spec.normalise(raw)
        except ValueError as exc:
            shown = spec.mask(raw)
            errors.append(RowError(row_number, spec.label, f"{spec.label} {shown} {exc}".replace("  ", " ")))
            continue
        if spec.unique:
            first = seen[spec.key].get(value)
            if first is not None:
                errors.append(
                    RowError(row_number, spec.label, f"{spec.label} {spec.mask(raw)} repeats row {first}")
                )
                continue
            seen[spec.key][value] = row_number
        values[spec.key] = value
    if errors:
        report.errors.extend(errors)
    else:
        report.rows.append(ImportRow(row_number, values))


def _check_columns(columns: Sequence[ColumnSpec]) -> None:
    if not columns:
        raise ValueError("no columns to read")
    keys = [spec.key for spec in columns]
    if len(set(keys)) != len(keys):
        raise ValueError("column keys must be distinct")


def _open_sheet(data: bytes) -> tuple[Any, Any]:
    if not isinstance(data, bytes | bytearray) or not data:
        raise SpreadsheetError("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if not data.startswith(b"PK\x03\x04"):
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise SpreadsheetError("this is an old Excel .xls file; save it as .xlsx and try again")
        raise SpreadsheetError("not an .xlsx file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise SpreadsheetError("the file unpacks to more than 100 MB")
            if "xl/workbook.xml" not in archive.namelist():
                raise SpreadsheetError("not an .xlsx workbook (a zip without xl/workbook.xml)")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise SpreadsheetError("the file is damaged or not an .xlsx workbook") from exc
    except Exception as exc:  # openpyxl raises many kinds on malformed XML; all mean the same to a user
        raise SpreadsheetError("the file is damaged or not an .xlsx workbook") from exc
    try:
        if not workbook.worksheets:
            raise SpreadsheetError("the workbook has no sheets")
        return workbook, workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS)
    except SpreadsheetError:
        workbook.close()
        raise
    except Exception as exc:
        workbook.close()
        raise SpreadsheetError("the file is damaged (cannot read its first sheet)") from exc


def _find_header(sheet_rows: Any, columns: Sequence[ColumnSpec]) -> tuple[int, dict[str, int]]:
    """The header is the first row naming every required column; a title row or two above it is fine."""
    first_problem: SpreadsheetError | None = None
    looked_at = 0
    try:
        for row_number, cells in enumerate(sheet_rows, start=1):
            texts = [_cell_text(c) for c in cells]
            if not any(texts):
                continue
            try:
                return row_number, _map_header(texts, columns)
            except SpreadsheetError as problem:
                first_problem = first_problem or problem
            looked_at += 1
            if looked_at >= HEADER_SEARCH_ROWS:
                break
    except Exception as exc:
        raise SpreadsheetError("the file is damaged (cannot read its first sheet)") from exc
    raise first_problem or SpreadsheetError("the first sheet is empty")


def _header_key(text: str) -> str:
    return re.sub(r"[\s_*:：()（）]", "", text).casefold()


def _map_header(header: list[str], columns: Sequence[ColumnSpec]) -> dict[str, int]:
    wanted = {_header_key(alias): spec for spec in columns for alias in (*spec.headers, spec.key)}
    positions: dict[str, int] = {}
    for position, text in enumerate(header):
        spec = wanted.get(_header_key(text))
        if spec is None:
            continue  # extra columns (備註, ...) are allowed and ignored
        if spec.key in positions:
            raise SpreadsheetError(f"column {spec.label} appears twice in the header")
        positions[spec.key] = position
    missing = [spec for spec in columns if spec.required and spec.key not in positions]
    if missing:
        names = ", ".join(f"{spec.label} ({spec.key})" for spec in missing)
        raise SpreadsheetError(f"the header row lacks: {names}")
    return positions


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)  # a mobile typed as a number: 912345678 (Excel dropped the 0)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


# --- template -------------------------------------------------------------------------------------------


def import_template(columns: Sequence[ColumnSpec]) -> bytes:
    """An empty .xlsx to fill in: the header row, text-formatted columns, and an instructions sheet."""
    _check_columns(columns)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "匯入資料"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for index, spec in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=spec.label)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 18
        # Text format keeps the leading 0 of mobiles and stops Excel turning IDs into numbers.
        for row in range(2, 502):
            sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    guide = workbook.create_sheet("說明")
    guide.append(["欄位", "英文欄名", "必填", "說明", "範例"])
    for cell in guide[1]:
        cell.font = bold
    for spec in columns:
        guide.append([spec.label, spec.key, "是" if spec.required else "否", spec.description, spec.example])
    guide.append([])
    guide.append([f"請在「匯入資料」工作表第 2 列起填寫，每列一人，最多 {MAX_ROWS} 列。"])
    guide.append(["任一列有錯誤時，整個檔案都不會匯入；請依錯誤報告修正後重新上傳。"])
    for letter, width in zip("ABCDE", (14, 16, 8, 36, 16), strict=True):
        guide.column_dimensions[letter].width = width

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
