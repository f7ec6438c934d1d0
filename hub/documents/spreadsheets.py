"""Reading imports (station admins, duty officers, employees) into a per-row report.

An import is whatever an office saves: an .xlsx (Excel, LibreOffice), an .ods (LibreOffice's own), or a
.csv in UTF-8 (with or without the BOM Excel writes) or Big5 / CP950 (what Excel writes on a Traditional
Chinese Windows). The kind is read from the file's first bytes, never from its name; a CSV's encoding is
detected (UTF-8 first: Big5 text is almost never valid UTF-8) or given by the caller. An old .xls is
refused with what to do instead.

The first sheet's first non-empty row is the header; each column is found by any of its names (Chinese or
English, any case). Every data row is checked and normalised; a row with any problem goes to ``errors``
(row number as Excel shows it, column, message) and not to ``rows``, so a caller can refuse the whole file
when ``errors`` is not empty and import nothing by halves. Messages show personal data only masked.
A file that is none of those, is damaged, has no data, or is too big raises :class:`SpreadsheetError`,
whose message (zh-TW) says what is wrong with the file and what to do.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
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
from hub.core.fields import name_problem
from hub.core.phone import InvalidMobile, normalize_mobile, normalize_phone
from hub.i18n import catalogue

MAX_ROWS = 5000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # a zip bomb unpacks to gigabytes from a small file
MAX_COLUMNS = 50
MAX_CELL_CHARS = 200
HEADER_SEARCH_ROWS = 5  # non-empty rows looked at for the header (titles above it are common)


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read as an import; nothing in it was used. The message is for the
    person who uploaded it (zh-TW)."""


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


class CellProblem(ValueError):
    """What is wrong with a cell, as a catalogue key (`import.*`, catalogue/locale) and its values; a report
    row says it in words (`_problem_text`), never the validator's English."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _problem_text(key: str, **params: object) -> str:
    # Import reports are read on zh-TW pages (the console's and LIFF's); REST returns the same words.
    return catalogue.text(catalogue.DEFAULT_LANGUAGE, key, **params)


def normalise_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise CellProblem("import.empty")
    if len(name) > MAX_PERSON_NAME_CHARS:
        raise CellProblem("import.too_long", max=MAX_PERSON_NAME_CHARS)
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


def normalise_mobile(value: str) -> str:
    """A Taiwan mobile in any usual writing (0912-345-678, +886 912 345 678, 912345678) -> E.164.

    The rule is hub.core.phone.normalize_mobile's (the API's); an import adds only that the number is
    Taiwanese, and words the refusal for a report row."""
    text = value.strip()
    try:
        phone = normalize_phone(text)
    except InvalidMobile:
        raise CellProblem("import.not_a_phone") from None
    if not phone.startswith("+886"):
        raise CellProblem("import.not_taiwan_phone")
    try:
        return normalize_mobile(text)
    except InvalidMobile:
        raise CellProblem("import.not_a_mobile") from None


def normalise_national_id(value: str) -> str:
    nid = value.strip().upper()
    problem = national_id_problem(nid, allow_old_resident=True)  # what the API accepts too
    if problem is not None:
        # The mask of a wrong ID looks like a valid one's: say which check failed.
        raise CellProblem(f"import.national_id_{problem.value}")
    return nid


_OFFICER_NUMBER = re.compile(r"[A-Z0-9-]{1,20}")


def normalise_officer_number(value: str) -> str:
    number = value.strip().upper()
    if not _OFFICER_NUMBER.fullmatch(number):
        raise CellProblem("import.bad_officer_number")
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

# The sheets' columns are their row models' fields (hub.services.whitelist.columns_of): the whitelists'
# create models, hub.services.stations.StationAdminRow.


# --- reading -------------------------------------------------------------------------------------------


def read_rows(
    data: bytes, columns: Sequence[ColumnSpec], *, max_rows: int = MAX_ROWS, encoding: str | None = None
) -> ImportReport:
    """Read an import (.xlsx, .ods or .csv); see the module docstring for what lands where. `encoding`
    is a CSV's, when the person said which (else it is detected)."""
    _check_columns(columns)
    close, sheet_rows = _open_sheet(data, encoding)
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
                raise SpreadsheetError(f"資料超過 {max_rows} 列，請分成幾個檔案上傳。")
            _read_row(row_number, texts, columns, positions, seen, report)
    except zipfile.BadZipFile as exc:  # openpyxl reads lazily in read-only mode
        raise SpreadsheetError(DAMAGED) from exc
    finally:
        close()  # read-only workbooks keep the archive open until closed
    if data_rows == 0:
        raise SpreadsheetError("工作表只有標題列，沒有資料；請從標題下一列起每列填一人。")
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
                text = _problem_text("import.empty", column=spec.label)
                errors.append(RowError(row_number, spec.label, text))
            continue
        if len(raw) > MAX_CELL_CHARS:
            text = _problem_text("import.too_long", column=spec.label, max=MAX_CELL_CHARS)
            errors.append(RowError(row_number, spec.label, text))
            continue
        try:
            value = spec.normalise(raw)
        except ValueError as exc:
            shown = spec.mask(raw)
            if isinstance(exc, CellProblem):
                text = _problem_text(exc.key, column=spec.label, shown=shown, **exc.params)
            elif catalogue.has(str(exc)) or not str(exc).isascii():  # already worded (hub.core.fields)
                text = _problem_text("import.worded", column=spec.label, shown=shown, problem=str(exc))
            else:
                text = _problem_text("import.invalid", column=spec.label, shown=shown)
            errors.append(RowError(row_number, spec.label, text))
            continue
        if spec.unique:
            first = seen[spec.key].get(value)
            if first is not None:
                text = _problem_text("import.repeats", column=spec.label, shown=spec.mask(raw), first=first)
                errors.append(RowError(row_number, spec.label, text))
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


DAMAGED = "檔案已損毀或不是試算表，無法讀取；請重新存檔後再上傳。"
ACCEPTED = "請上傳 Excel（.xlsx）、LibreOffice（.ods）或 CSV 檔。"
OLD_XLS = (
    "這是舊版 Excel（.xls）檔，無法讀取。請在 Excel 或 LibreOffice 開啟後「另存新檔」，"
    "存檔類型選「Excel 活頁簿（.xlsx）」，再上傳。"
)
# What browsers call the files read here. Windows names a .csv "application/vnd.ms-excel" (so does an
# .xls, which then gets its own message); the kind is read from the bytes, so this only keeps out what is
# plainly something else (a picture, a PDF).
IMPORT_MEDIA_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.ms-excel",
        "text/csv",
        "application/csv",
        "application/octet-stream",
        "application/zip",
        "",
    }
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound-file header of .xls (and .doc)
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# CSV encodings tried in turn: UTF-8 (Excel's "CSV UTF-8" adds a BOM, utf-8-sig drops it), then CP950,
# Microsoft's Big5 that Excel writes on Traditional Chinese Windows (it also reads plain Big5 text).
CSV_ENCODINGS = ("utf-8-sig", "cp950")

Rows = Iterator[Sequence[Any]]


def _open_sheet(data: bytes, encoding: str | None = None) -> tuple[Callable[[], None], Rows]:
    """(close, the first sheet's rows) of an .xlsx, .ods or .csv, told apart by the first bytes."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise SpreadsheetError("檔案是空的。")
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetError(f"檔案大於 {MAX_FILE_BYTES // (1024 * 1024)} MB，請分成幾個檔案上傳。")
    if data.startswith(_OLE2):
        raise SpreadsheetError(OLD_XLS)
    if not data.startswith(b"PK\x03\x04"):
        return (lambda: None), _csv_rows(bytes(data), encoding)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise SpreadsheetError("檔案解壓後超過 100 MB，無法讀取；請分成幾個檔案上傳。")
            names = set(archive.namelist())
            is_ods = ("mimetype" in names and archive.read("mimetype").strip() == _ODS_MIMETYPE) or (
                "content.xml" in names and "xl/workbook.xml" not in names
            )
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise SpreadsheetError(DAMAGED) from exc
    if is_ods:
        return (lambda: None), _ods_rows(data)
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError(f"這個壓縮檔不是試算表（沒有 xl/workbook.xml）。{ACCEPTED}")
    return _xlsx_rows(data)


def _xlsx_rows(data: bytes) -> tuple[Callable[[], None], Rows]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise SpreadsheetError(DAMAGED) from exc
    except Exception as exc:  # openpyxl raises many kinds on malformed XML; all mean the same to a user
        raise SpreadsheetError(DAMAGED) from exc
    try:
        if not workbook.worksheets:
            raise SpreadsheetError("活頁簿裡沒有工作表。")
        return workbook.close, workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS)
    except SpreadsheetError:
        workbook.close()
        raise
    except Exception as exc:
        workbook.close()
        raise SpreadsheetError(DAMAGED) from exc


def _ods_rows(data: bytes) -> Rows:
    """The first table of an OpenDocument spreadsheet, as cell values (numbers as floats, like openpyxl)."""
    from odf.opendocument import load as load_odf
    from odf.table import Table, TableRow

    try:
        document = load_odf(io.BytesIO(data))
        tables = document.spreadsheet.getElementsByType(Table)
    except Exception as exc:  # odfpy raises whatever its XML parser or zip reader raised
        raise SpreadsheetError(DAMAGED) from exc
    if not tables:
        raise SpreadsheetError("活頁簿裡沒有工作表。")
    rows: list[list[Any]] = []
    for row in tables[0].getElementsByType(TableRow):
        cells = _ods_cells(row)
        # LibreOffice ends a sheet with one row "repeated" a million times: blank rows are not data.
        filled = any(c not in (None, "") for c in cells)
        repeat = int(row.getAttribute("numberrowsrepeated") or 1) if filled else 1
        rows.extend([cells] * min(repeat, MAX_ROWS + 1))
        if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
            break  # read_rows refuses the file at MAX_ROWS; no need to read on
    return iter(rows)


def _ods_cells(row: Any) -> list[Any]:
    from odf import teletype

    cells: list[Any] = []
    for cell in row.childNodes:
        if getattr(cell, "qname", (None, None))[1] not in ("table-cell", "covered-table-cell"):
            continue
        repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
        kind = cell.getAttribute("valuetype") if cell.qname[1] == "table-cell" else None
        value: Any
        if kind in ("float", "percentage", "currency"):
            value = float(cell.getAttribute("value"))
        elif kind == "date":
            value = cell.getAttribute("datevalue")
        else:
            value = "\n".join(teletype.extractText(p) for p in cell.childNodes if p.qname[1] == "p")
        cells.extend([value] * min(repeat, MAX_COLUMNS - len(cells)))
        if len(cells) >= MAX_COLUMNS:
            break
    return cells


def _decode_csv(data: bytes, encoding: str | None) -> str:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SpreadsheetError(f"不認得的文字編碼「{encoding[:20]}」；請選 UTF-8 或 Big5。") from None
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            raise SpreadsheetError(f"這個 CSV 不是 {encoding} 編碼；請改選 UTF-8 或 Big5 再上傳。") from None
    for candidate in CSV_ENCODINGS:
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError(
        "無法判斷這個 CSV 的文字編碼；請在 Excel「另存新檔」選「CSV UTF-8（逗號分隔）」，"
        "或存成 .xlsx 再上傳。"
    )


def _csv_rows(data: bytes, encoding: str | None) -> Rows:
    if b"\0" in data[:4096]:
        # UTF-16 text or any binary file (a picture, a PDF): not a CSV this reader takes.
        raise SpreadsheetError(f"無法讀取這個檔案。{ACCEPTED}")
    text = _decode_csv(data, encoding).lstrip("\ufeff")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column, or too little to tell: commas, as Excel writes
    try:
        rows = [
            [cell.strip() for cell in row[:MAX_COLUMNS]] for row in csv.reader(io.StringIO(text), dialect)
        ]
    except csv.Error as exc:
        raise SpreadsheetError(f"CSV 格式有誤（{exc}），請用 Excel 或 LibreOffice 重新存檔。") from exc
    return iter(rows)


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
        raise SpreadsheetError(DAMAGED) from exc
    raise first_problem or SpreadsheetError("第一個工作表是空的。")


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
            raise SpreadsheetError(f"標題列的「{spec.label}」欄出現兩次，請刪掉其中一欄。")
        positions[spec.key] = position
    missing = [spec for spec in columns if spec.required and spec.key not in positions]
    if missing:
        names = "、".join(f"{spec.label}（{spec.key}）" for spec in missing)
        raise SpreadsheetError(f"標題列缺少欄位：{names}。請用範本的標題列。")
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
