"""Documents the hub makes and reads: printable pass sheets and venue posters (PDF), Excel imports and
CSV/.xlsx exports."""

from hub.documents.errors import DocumentError
from hub.documents.exports import XLSX_MEDIA_TYPE, iter_csv, to_csv, to_xlsx
from hub.documents.pass_sheet import PassSheetItem, render_pass_sheet
from hub.documents.spreadsheets import (
    STATION,
    ColumnSpec,
    ImportReport,
    ImportRow,
    RowError,
    SpreadsheetError,
    import_template,
    read_rows,
)
from hub.documents.venue_sheet import VenueSheetItem, render_venue_sheet

__all__ = [
    "STATION",
    "ColumnSpec",
    "DocumentError",
    "ImportReport",
    "ImportRow",
    "PassSheetItem",
    "RowError",
    "SpreadsheetError",
    "VenueSheetItem",
    "XLSX_MEDIA_TYPE",
    "import_template",
    "iter_csv",
    "read_rows",
    "render_pass_sheet",
    "render_venue_sheet",
    "to_csv",
    "to_xlsx",
]
