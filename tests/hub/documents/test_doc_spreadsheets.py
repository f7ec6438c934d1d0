"""Excel imports: normalised rows, per-row errors with masked data, and whole-file refusals."""

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from crypto.identity import is_valid_national_id, mask_mobile
from hub.documents.spreadsheets import ImportRow, SpreadsheetError, import_template, read_rows
from hub.services.employees import EMPLOYEES
from hub.services.rosters import OFFICERS
from hub.services.stations import STATION_ADMIN_COLUMNS

# The import sheets' columns, as each row model declares them
EMPLOYEE_COLUMNS = EMPLOYEES.columns
OFFICER_COLUMNS = OFFICERS.columns


def make_national_id(letter: str, serial: int) -> str:
    """A valid ID: letter + 1 + 7 digits + the check digit that makes it valid."""
    stem = f"{letter}1{serial:07d}"
    return next(stem + last for last in "0123456789" if is_valid_national_id(stem + last))


NID1, NID2, NID3 = (
    make_national_id("A", 1234567),
    make_national_id("F", 7654321),
    make_national_id("H", 1111111),
)


def xlsx(*rows, title="Sheet"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_station_admins_are_normalised_with_their_row_numbers():
    data = xlsx(
        ("姓名", "手機", "身分證", "備註"),
        ("陳大明", "0912-345-678", NID1.lower(), "第一位"),
        (None, None, None),
        ("  王  小明 ", 987654321, f" {NID2} ", None),  # Excel ate the leading 0 of the mobile
        ("林志玲", "+886 955 123 456", NID3),
    )
    report = read_rows(data, STATION_ADMIN_COLUMNS)
    assert report.ok and report.errors == []
    assert report.rows == [
        ImportRow(2, {"name": "陳大明", "mobile": "+886912345678", "national_id": NID1}),
        ImportRow(4, {"name": "王 小明", "mobile": "+886987654321", "national_id": NID2}),
        ImportRow(5, {"name": "林志玲", "mobile": "+886955123456", "national_id": NID3}),
    ]


def test_english_headers_any_case_and_any_order():
    data = xlsx(("Mobile", "National_ID", "NAME"), ("0912345678", NID1, "Alice Chen"))
    (row,) = read_rows(data, EMPLOYEE_COLUMNS).rows
    assert row.values == {"name": "Alice Chen", "mobile": "+886912345678", "national_id": NID1}


def test_header_need_not_be_the_first_row():
    data = xlsx(
        (None,), ("警員名冊",), (), ("警員編號", "姓名", "手機號碼"), ("t-00123", "張三", "0933111222")
    )
    report = read_rows(data, OFFICER_COLUMNS)
    assert report.rows == [
        ImportRow(5, {"name": "張三", "officer_number": "T-00123", "mobile": "+886933111222"})
    ]


def test_bad_values_are_reported_per_row_and_masked():
    data = xlsx(
        ("姓名", "手機", "身分證"),
        ("陳大明", "0912345678", NID1),
        ("", "0223456789", "A123456788"),  # empty name, a landline, a wrong check digit
        ("王小明", "hello", "Z99"),
        ("林志玲", "0912-345-678", NID2),  # same mobile as row 2
        ("歐陽娜娜", "0966000111", NID1.lower()),  # same ID as row 2
        ("張三豐", "0966000222", "A323456789"),  # 10 characters, but 3 is no sex digit
    )
    report = read_rows(data, STATION_ADMIN_COLUMNS)
    assert [r.row_number for r in report.rows] == [2]
    problems = {(e.row_number, e.column): e.message for e in report.errors}
    assert problems == {
        (3, "姓名"): "姓名：未填寫",
        (3, "手機"): f"手機 {mask_mobile('0223456789')}：不是手機號碼（簡訊驗證碼只能傳到手機）",
        (3, "身分證"): "身分證 A12*4*6*8*：檢查碼不符（可能打錯一碼）",
        (4, "手機"): "手機 *****：不是電話號碼",
        (4, "身分證"): "身分證 ***：身分證字號須為 10 碼",
        (5, "手機"): f"手機 {mask_mobile('0912345678')}：與第 2 列重複",
        (6, "身分證"): f"身分證 {NID1[:3]}*{NID1[4]}*{NID1[6]}*{NID1[8]}*：與第 2 列重複",
        (7, "身分證"): "身分證 A32*4*6*8*：格式不正確（英文字母後接 1、2、8 或 9，再接 8 位數字）",
    }
    everything = " ".join(e.message for e in report.errors)
    for clear in ("0912345678", "0223456789", "A123456788", "A323456789", NID1, "hello"):
        assert clear not in everything


def test_long_names_and_cells_are_refused():
    data = xlsx(
        ("姓名", "警員編號", "手機"), ("陳" * 65, "T1", "0912345678"), ("李四", "X" * 300, "0912345679")
    )
    errors = read_rows(data, OFFICER_COLUMNS).errors
    assert [(e.row_number, e.message) for e in errors] == [
        (2, "姓名：最多 64 個字"),
        (3, "警員編號：最多 200 個字"),
    ]


def test_officer_numbers_must_be_unique():
    data = xlsx(("姓名", "警員編號", "手機"), ("張三", "T1", "0912345678"), ("李四", "t1", "0922345678"))
    (error,) = read_rows(data, OFFICER_COLUMNS).errors
    assert (error.row_number, error.column, error.message) == (3, "警員編號", "警員編號 t1：與第 2 列重複")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "檔案是空的"),
        (b"name,mobile\nA,0912345678\n", "標題列缺少欄位：身分證（national_id）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "舊版 Excel（.xls）"),
        (b"PK\x03\x04" + bytes(60), "已損毀"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "請上傳 Excel（.xlsx）、LibreOffice（.ods）或 CSV 檔"),
    ],
)
def test_files_that_are_not_imports(data, message):
    with pytest.raises(SpreadsheetError, match=message):
        read_rows(data, STATION_ADMIN_COLUMNS)


def test_truncated_xlsx():
    data = xlsx(("姓名", "手機", "身分證"), ("陳大明", "0912345678", NID1))
    with pytest.raises(SpreadsheetError, match="已損毀"):
        read_rows(data[: len(data) // 2], STATION_ADMIN_COLUMNS)


def test_a_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(SpreadsheetError, match=r"不是試算表（沒有 xl/workbook.xml）"):
        read_rows(buffer.getvalue(), STATION_ADMIN_COLUMNS)


def test_a_workbook_with_broken_xml_inside():
    good = xlsx(("姓名", "手機", "身分證"), ("陳大明", "0912345678", NID1))
    source = zipfile.ZipFile(io.BytesIO(good))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]  # cut in the middle of a tag
            archive.writestr(info, content)
    with pytest.raises(SpreadsheetError, match="已損毀"):
        read_rows(buffer.getvalue(), STATION_ADMIN_COLUMNS)


def test_a_zip_bomb_is_refused_before_unpacking():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (101 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    with pytest.raises(SpreadsheetError, match="解壓後超過 100 MB"):
        read_rows(buffer.getvalue(), STATION_ADMIN_COLUMNS)


def test_too_large_a_file():
    with pytest.raises(SpreadsheetError, match="檔案大於 10 MB"):
        read_rows(b"PK\x03\x04" + bytes(11 * 1024 * 1024), STATION_ADMIN_COLUMNS)


def test_empty_sheet_and_header_only():
    with pytest.raises(SpreadsheetError, match="第一個工作表是空的"):
        read_rows(xlsx(), STATION_ADMIN_COLUMNS)
    with pytest.raises(SpreadsheetError, match="只有標題列，沒有資料"):
        read_rows(xlsx(("姓名", "手機", "身分證"), (None, None)), STATION_ADMIN_COLUMNS)


def test_missing_and_doubled_columns():
    with pytest.raises(SpreadsheetError, match=r"標題列缺少欄位：身分證（national_id）"):
        read_rows(xlsx(("姓名", "手機"), ("陳大明", "0912345678")), STATION_ADMIN_COLUMNS)
    with pytest.raises(SpreadsheetError, match="「手機」欄出現兩次"):
        read_rows(xlsx(("姓名", "手機", "mobile", "身分證"), ("a", "b", "c", "d")), STATION_ADMIN_COLUMNS)


def test_more_than_5000_rows_is_refused():
    rows = [("姓名", "手機", "身分證")] + [("王", f"09{n:08d}", NID1) for n in range(5001)]
    with pytest.raises(SpreadsheetError, match="資料超過 5000 列"):
        read_rows(xlsx(*rows), STATION_ADMIN_COLUMNS)


def test_5000_rows_are_fine():
    rows = [("姓名", "手機", "身分證")] + [("王小明", f"0912{n:06d}", "") for n in range(5000)]
    report = read_rows(xlsx(*rows), STATION_ADMIN_COLUMNS)
    assert len(report.errors) == 5000  # every national ID is missing: reported, not refused
    assert {e.message for e in report.errors} == {"身分證：未填寫"}


@pytest.mark.parametrize("columns", [STATION_ADMIN_COLUMNS, OFFICER_COLUMNS, EMPLOYEE_COLUMNS])
def test_templates_have_the_headers_and_read_back(columns):
    template = import_template(columns)
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == [spec.label for spec in columns]
    assert sheet["A2"].number_format == "@"
    assert "說明" in workbook.sheetnames
    with pytest.raises(SpreadsheetError, match="沒有資料"):
        read_rows(template, columns)
    # Fill the template the way a person would, then import it.
    examples = {
        "name": "陳大明",
        "mobile": "0912345678",
        "national_id": NID1,
        "officer_number": "T12345",
        "station": "板橋分局",
    }
    for index, spec in enumerate(columns, start=1):
        sheet.cell(row=2, column=index, value=examples[spec.key])
    buffer = io.BytesIO()
    workbook.save(buffer)
    (row,) = read_rows(buffer.getvalue(), columns).rows
    assert row.row_number == 2 and row.values["mobile"] == "+886912345678"
