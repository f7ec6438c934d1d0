"""The files the front ends hand out: pass sheets, venue posters, import templates, register exports.

Each is made here once, from the services' records and with the caller's Scope checked by the service
that reads them, so REST and the console give the same bytes under the same name. A `Download` is plain
data; each front end turns it into its own answer (`hub.responses.file_response` for HTTP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.core.permissions import Permission
from hub.documents.exports import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from hub.documents.pass_sheet import PassSheetItem, render_pass_sheet
from hub.documents.spreadsheets import ColumnSpec, import_template
from hub.documents.venue_sheet import VenueSheetItem, render_venue_sheet
from hub.services import passes, queries, stations, venues
from hub.services.scope import Scope
from hub.services.whitelist import Whitelist

PDF_MEDIA_TYPE = "application/pdf"

ExportFormat = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class Download:
    """A file to save: its bytes, media type and the name it is saved under."""

    content: bytes
    media_type: str
    filename: str


def _template(columns: Sequence[ColumnSpec], name: str) -> Download:
    """An empty import sheet with the right headers and text-formatted columns, to fill in and upload."""
    return Download(import_template(columns), XLSX_MEDIA_TYPE, f"{name}.xlsx")


def whitelist_template(db: Session, scope: Scope, kind: Whitelist[Any, Any], *, org_id: int) -> Download:
    """A whitelist's import sheet (employees, duty officers): its columns are the kind's create model."""
    kind.keeper(db, scope, org_id)  # only for whoever keeps this whitelist
    return _template(kind.columns, kind.sheet_name)


def station_admin_template(scope: Scope) -> Download:
    scope.require(Permission.STATIONS_MANAGE)
    return _template(stations.STATION_ADMIN_COLUMNS, "station-admins")


def pass_sheet(db: Session, scope: Scope, *, pass_id: str) -> Download:
    """One pass on an A4 sheet (name masked, CJK rendered): only for those who may have its text."""
    record = passes.pass_text(db, scope, pass_id=pass_id, form="pdf")
    pdf = render_pass_sheet([PassSheetItem.from_pass(record.text)], per_page=1)
    return Download(pdf, PDF_MEDIA_TYPE, f"pass-{record.pass_id[:8]}.pdf")


def passes_sheet(db: Session, scope: Scope, *, org_id: int, part: int | None) -> Download:
    """An enterprise's valid passes, four an A4 page; over SHEET_PART_PASSES only in parts (`part`)."""
    rows = passes.sheet_passes(db, scope, org_id=org_id, part=part)
    pdf = render_pass_sheet([PassSheetItem.from_pass(p.text) for p in rows], per_page=4)
    suffix = f"-part{part}" if part is not None else ""
    return Download(pdf, PDF_MEDIA_TYPE, f"passes-{org_id}{suffix}.pdf")


def venue_posters(db: Session, scope: Scope, *, org_id: int) -> Download:
    """Printable posters, one venue code a page, to put at entrances."""
    org, rows = venues.venues_to_print(db, scope, org_id=org_id)
    shown = [venues.VenueOut.of(db, v, org) for v in rows]  # a poster is the venue's public shape, printed
    items = [
        VenueSheetItem(qr_text=v.qr_text, venue_name=v.name, org_name=v.org_name, venue_code=v.code)
        for v in shown
    ]
    pdf = render_venue_sheet(items, retention_days=context_of(db).settings.retention_days)
    return Download(pdf, PDF_MEDIA_TYPE, f"venues-{org_id}.pdf")


def register_export(register: queries.Register, fmt: ExportFormat, name: str) -> Download:
    """A register read by `hub.services.queries` (already masked and audited) as CSV or .xlsx."""
    if fmt == "csv":
        return Download(to_csv(register.columns, register.cells()), "text/csv; charset=utf-8", f"{name}.csv")
    return Download(
        to_xlsx(register.columns, register.cells(), sheet_title=name), XLSX_MEDIA_TYPE, f"{name}.xlsx"
    )
