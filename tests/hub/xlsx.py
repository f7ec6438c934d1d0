"""Building .xlsx uploads for import tests."""

from __future__ import annotations

import io

from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "list.xlsx") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, data, XLSX)}
