"""Each whitelist entity's shape is written once (hub/services/whitelist.py): the create model names the
fields, and the import sheet's columns, the typed update and what a page shows derive from it."""

from __future__ import annotations

import io
from typing import Annotated, Any

import pytest
from openpyxl import load_workbook
from pydantic import BaseModel, ValidationError

from hub.core.fields import PersonName
from hub.documents.spreadsheets import NAME, import_template
from hub.models.rosters import Employee, Officer
from hub.services.employees import EMPLOYEES
from hub.services.rosters import OFFICERS
from hub.services.whitelist import EntryIn, Whitelist, columns_of

KINDS = [EMPLOYEES, OFFICERS]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.plural)
def test_the_sheet_and_the_update_are_the_create_models_fields(kind: Whitelist[Any, Any]) -> None:
    assert [c.key for c in kind.columns] == list(kind.fields)
    sheet = load_workbook(io.BytesIO(import_template(kind.columns))).worksheets[0]
    assert [cell.value for cell in sheet[1]] == [c.label for c in kind.columns]
    assert list(kind.patch.model_fields) == list(kind.fields)
    assert kind.patch().model_dump(exclude_none=True) == {}  # every field may be left out
    with pytest.raises(ValidationError) as too_long:  # with the create model's limits
        kind.patch(name="陳" * 65)
    assert [e["loc"] for e in too_long.value.errors()] == [("name",)]


def test_a_create_field_without_its_import_column_is_refused_at_start() -> None:
    class NoColumn(BaseModel):
        name: PersonName

    with pytest.raises(TypeError, match="NoColumn.name"):
        columns_of(NoColumn)


def test_what_a_page_shows_is_masked_and_in_the_fields_order() -> None:
    employee = Employee(
        id=1, org_id=2, name="王大明", mobile="+886912345678", national_id_masked="A12****789"
    )
    shown = EMPLOYEES.shown(employee)
    assert list(shown) == list(EMPLOYEES.fields)
    assert (shown["name"], shown["mobile"], shown["national_id"]) == ("王*明", "09***4***8", "A12****789")
    officer = Officer(id=1, station_id=2, name="陳小明", officer_number="NTP-1", mobile="+886912345678")
    assert OFFICERS.shown(officer) == {"name": "陳*明", "officer_number": "NTP-1", "mobile": "09***4***8"}
    assert OFFICERS.show(officer).model_dump()["mobile"] is None  # no scope: nobody's in clear


def test_a_blank_optional_field_is_not_given_and_a_blank_required_one_is_refused() -> None:
    class WithNote(EntryIn):
        name: Annotated[PersonName, NAME]
        note: Annotated[PersonName | None, NAME] = None

    assert WithNote.model_validate({"name": "陳大明", "note": "  "}).note is None  # a form's empty input
    with pytest.raises(ValidationError) as blank:
        WithNote.model_validate({"name": "", "note": "夜班"})
    assert [e["loc"] for e in blank.value.errors()] == [("name",)]
    assert {"name", "mobile", "national_id"} <= set(
        EMPLOYEES.required
    ) and OFFICERS.required == OFFICERS.fields
