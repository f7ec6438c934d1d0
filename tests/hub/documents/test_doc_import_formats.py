"""Imports take the files offices save: .xlsx, .ods (LibreOffice), and .csv in UTF-8 with or without a
BOM or in Big5 / CP950; an old .xls is refused with what to do. Each test reads a real file of its kind:
the .ods is written by odfpy (an OpenDocument library), the Big5 CSV is Chinese text encoded as cp950, the
.xls starts with the compound-file header Excel 97-2003 writes."""

from __future__ import annotations

import io

import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from hub.documents.spreadsheets import SpreadsheetError, read_rows
from hub.services.rosters import OFFICERS

OFFICER_COLUMNS = OFFICERS.columns  # the duty roster's import sheet

ROWS = [
    ("姓名", "警員編號", "手機"),
    ("陳大明", "NTP-0001", "0912345678"),
    ("林美玲", "ntp-0002", "0923-456-789"),
]
EXPECTED = [
    {"name": "陳大明", "officer_number": "NTP-0001", "mobile": "+886912345678"},
    {"name": "林美玲", "officer_number": "NTP-0002", "mobile": "+886923456789"},
]


def _values(report):
    assert report.errors == []
    return [row.values for row in report.rows]


def ods(rows, *, numbers=(), trailing_blank_rows=0) -> bytes:
    """An .ods as LibreOffice writes one: text cells, a number cell where asked, repeated blank cells."""
    document = OpenDocumentSpreadsheet()
    table = Table(name="工作表1")
    for r, row in enumerate(rows):
        line = TableRow()
        for c, value in enumerate(row):
            if (r, c) in numbers:
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
            line.addElement(cell)
        line.addElement(TableCell(numbercolumnsrepeated=1020))  # the rest of the row, empty
        table.addElement(line)
    if trailing_blank_rows:
        blank = TableRow(numberrowsrepeated=trailing_blank_rows)
        blank.addElement(TableCell(numbercolumnsrepeated=1024))
        table.addElement(blank)
    document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def csv_text(rows, newline="\r\n") -> str:
    return newline.join(",".join(row) for row in rows) + newline


def test_an_ods_from_libreoffice():
    data = ods(ROWS, trailing_blank_rows=1048573)
    assert data[:4] == b"PK\x03\x04" and b"application/vnd.oasis.opendocument.spreadsheet" in data[:100]
    assert _values(read_rows(data, OFFICER_COLUMNS)) == EXPECTED


def test_an_ods_mobile_typed_as_a_number_keeps_its_digits():
    rows = [ROWS[0], ("陳大明", "NTP-0001", 912345678)]
    (row,) = read_rows(ods(rows, numbers={(1, 2)}), OFFICER_COLUMNS).rows
    assert row.values["mobile"] == "+886912345678"


def test_an_ods_row_error_names_the_row_and_masks():
    rows = [*ROWS, ("王五", "NTP-0003", "0212345678")]
    (error,) = read_rows(ods(rows), OFFICER_COLUMNS).errors
    assert error.row_number == 4 and error.column == "手機" and "0212345678" not in error.message


def test_a_damaged_ods_is_named():
    data = ods(ROWS)
    with pytest.raises(SpreadsheetError, match="已損毀"):
        read_rows(data[: len(data) // 2], OFFICER_COLUMNS)


@pytest.mark.parametrize(
    ("encoded", "kind"),
    [
        (csv_text(ROWS).encode("utf-8"), "UTF-8"),
        (b"\xef\xbb\xbf" + csv_text(ROWS).encode("utf-8"), "UTF-8 with the BOM Excel writes"),
        (csv_text(ROWS).encode("cp950"), "Big5 / CP950 from Excel on Traditional Chinese Windows"),
        (csv_text(ROWS, "\n").encode("big5"), "plain Big5, Unix line ends"),
        (csv_text(ROWS).replace(",", ";").encode("utf-8"), "semicolons"),
        ("\r\n".join("\t".join(r) for r in ROWS).encode("utf-8"), "tabs"),
    ],
)
def test_csv_in_the_encodings_offices_save(encoded, kind):
    assert _values(read_rows(encoded, OFFICER_COLUMNS)) == EXPECTED, kind


def test_big5_really_differs_from_utf8():
    # The detection is tested on bytes that only a Big5 reading gives back as these names.
    data = csv_text(ROWS).encode("cp950")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_csv_keeps_leading_zeros_and_quoted_commas():
    data = '姓名,警員編號,手機,備註\r\n陳大明,NTP-0001,0912345678,"日班, 板橋"\r\n'.encode()
    (row,) = read_rows(data, OFFICER_COLUMNS).rows
    assert row.values["mobile"] == "+886912345678"


def test_csv_encoding_asked():
    data = csv_text(ROWS).encode("cp950")
    assert _values(read_rows(data, OFFICER_COLUMNS, encoding="big5")) == EXPECTED
    with pytest.raises(SpreadsheetError, match="不是 utf-8 編碼"):
        read_rows(data, OFFICER_COLUMNS, encoding="utf-8")
    with pytest.raises(SpreadsheetError, match="不認得的文字編碼"):
        read_rows(data, OFFICER_COLUMNS, encoding="klingon")


def test_csv_in_an_encoding_neither_utf8_nor_big5():
    data = csv_text(ROWS).encode("utf-8") + "Müller".encode("latin-1")  # ü alone is neither
    data = data.replace("Müller".encode("latin-1"), b"\xfc\xff")
    with pytest.raises(SpreadsheetError, match="無法判斷這個 CSV 的文字編碼"):
        read_rows(data, OFFICER_COLUMNS)


def test_an_old_xls_says_to_save_as_xlsx():
    # The first sector of an Excel 97-2003 file: the compound-file signature, then its header fields.
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    data = header + bytes(512 - len(header)) + b"\xfd\xff\xff\xff" * 128
    with pytest.raises(SpreadsheetError) as refused:
        read_rows(data, OFFICER_COLUMNS)
    message = str(refused.value)
    assert "舊版 Excel（.xls）" in message and "另存新檔" in message and ".xlsx" in message
