"""CSV and .xlsx exports: Chinese that Excel shows, formulas that never run, rows streamed."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from hub.documents.exports import iter_csv, to_csv, to_xlsx

HEADERS = ["姓名", "手機", "身分證", "時間", "次數"]
ROWS = [
    ["陳*明", "09***6***5", "A12*5*6*9*", datetime(2026, 11, 25, 6, 30, tzinfo=UTC), 3],
    ["歐**娜", None, "", date(2026, 11, 24), 0],
]


def test_csv_has_a_bom_and_reads_back():
    data = to_csv(HEADERS, ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        HEADERS,
        ["陳*明", "09***6***5", "A12*5*6*9*", "2026-11-25T14:30:00+08:00", "3"],  # Taiwan time, said so
        ["歐**娜", "", "", "2026-11-24", "0"],
    ]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("-12.5", "-12.5"),
        ("+886912345678", "+886912345678"),
        ("陳=明", "陳=明"),
    ],
)
def test_csv_neutralises_formulas(value, written):
    rows = list(csv.reader(io.StringIO(to_csv(["x"], [[value]]).decode("utf-8-sig"))))
    assert rows[1] == [written]


def test_csv_streams_in_chunks_from_a_generator():
    produced = 0

    def rows():
        nonlocal produced
        for n in range(20_000):
            produced += 1
            yield [f"名{n}", n]

    chunks = iter_csv(["姓名", "n"], rows())
    first = next(chunks)
    assert produced <= 501  # the first chunk left before most rows were even made
    rest = b"".join(chunks)
    assert produced == 20_000
    lines = (first + rest).decode("utf-8-sig").splitlines()
    assert len(lines) == 20_001 and lines[-1] == "名19999,19999"


def test_rows_must_match_the_headers():
    with pytest.raises(ValueError, match="a row has 1 values for 2 headers"):
        to_csv(["a", "b"], [["only one"]])
    with pytest.raises(ValueError, match="a row has 3 values for 2 headers"):
        to_xlsx(["a", "b"], [[1, 2, 3]], "t")


def test_xlsx_reads_back_with_types_and_taipei_time():
    workbook = load_workbook(io.BytesIO(to_xlsx(HEADERS, ROWS, "通行證登記")))
    sheet = workbook["通行證登記"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == HEADERS
    assert values[1] == ["陳*明", "09***6***5", "A12*5*6*9*", datetime(2026, 11, 25, 14, 30), 3]
    assert values[2][:2] == ["歐**娜", None] and values[2][4] == 0
    assert sheet["A1"].font.bold
    assert sheet["D2"].number_format.endswith('"(UTC+8)"')  # the reader sees which time it is


def test_xlsx_keeps_formula_like_text_as_text():
    workbook = load_workbook(io.BytesIO(to_xlsx(["x"], [["=1+1"], ["@x"]], "t")))
    sheet = workbook.active
    assert [(c.value, c.data_type) for c in sheet["A"][1:]] == [("=1+1", "s"), ("@x", "s")]


def test_xlsx_sheet_titles_follow_excels_rules():
    workbook = load_workbook(io.BytesIO(to_xlsx(["x"], [], "a/b:c*d?[e]" + "長" * 40)))
    title = workbook.sheetnames[0]
    assert len(title) == 31 and not set("[]:*?/\\") & set(title)
    assert load_workbook(io.BytesIO(to_xlsx(["x"], [], ""))).sheetnames == ["Sheet1"]


def test_xlsx_takes_a_generator_of_many_rows():
    data = to_xlsx(["n", "姓名"], ((n, f"名{n}") for n in range(20_000)), "big")
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 20_001 and rows[-1] == (19_999, "名19999")
