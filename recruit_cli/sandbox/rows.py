"""From stored values to the rows of a record export, in the project's shape.

A classic project has one row per record. A longitudinal project has one per record and
event. A repeating instrument adds one row per instance, holding only that instrument's
columns (``redcap_repeat_instrument`` names it); a repeating event has one row per instance
of the whole event. A column whose instrument does not belong to a row is blank there, even
a checkbox or a form status (REDCapR's recorded longitudinal and repeating exports show
that); a column that belongs gets the usual defaults (unticked "0", gray status "0").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from recruit_cli.sandbox.design import Design
from recruit_cli.sandbox.dictionary import Dictionary
from recruit_cli.sandbox.store import RowKey

EVENT = "redcap_event_name"
REPEAT_FORM = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
SURVEY_IDENTIFIER = "redcap_survey_identifier"


def record_sort_key(record: str) -> tuple[int, int, str]:
    """Numeric record ids in numeric order, then the others as text (REDCap's order)."""
    if record.isdigit():
        return (0, int(record), "")
    return (1, 0, record)


@dataclass
class Row:
    record: str
    event: str
    form: str  # the repeating instrument; "" for the record's (or event's) own row
    instance: int | None  # None: a row that does not repeat
    values: dict[str, str]


class Shaper:
    """Splits stored values into export rows for one dictionary and design."""

    def __init__(self, d: Dictionary, design: Design) -> None:
        self.d = d
        self.design = design
        self._order = {e: i for i, e in enumerate(design.event_names())}
        self._forms_cache: dict[tuple[str, str], frozenset[str]] = {}

    def row_forms(self, event: str, form: str) -> frozenset[str]:
        """The instruments whose columns a row holds."""
        key = (event, form)
        cached = self._forms_cache.get(key)
        if cached is None:
            if form:
                cached = frozenset({form})
            else:
                design = self.design
                cached = frozenset(
                    f
                    for f in design.forms_in(event, self.d.forms)
                    if design.repeat_event(event) or not design.repeat_instrument(event, f)
                )
            self._forms_cache[key] = cached
        return cached

    def split(self, stored: Mapping[RowKey, Mapping[str, str]]) -> list[Row]:
        d, design = self.d, self.design
        if not design.has_repeating:
            rows = [Row(r, e, "", None, dict(v)) for (r, e, _i), v in stored.items()]
        else:
            out: dict[tuple[str, str, str, int | None], Row] = {}
            for (record, event, instance), values in stored.items():
                whole_event = design.repeat_event(event)
                for column, value in values.items():
                    name = d.export_columns[column][0] if column in d.export_columns else column
                    form = d.form_of(name) if name != d.record_id else ""
                    if form and design.repeat_instrument(event, form):
                        key: tuple[str, str, str, int | None] = (record, event, form, instance)
                    else:
                        key = (record, event, "", instance if whole_event else None)
                    row = out.get(key)
                    if row is None:
                        row = out[key] = Row(record, event, key[2], key[3], {})
                    row.values[column] = value
            rows = list(out.values())
        rows.sort(key=self._sort_key)
        return rows

    def _sort_key(self, row: Row) -> tuple[object, ...]:
        return (
            record_sort_key(row.record),
            self._order.get(row.event, 0),
            row.form,
            row.instance or 0,
        )

    def defaults(self, row: Row, columns: Iterable[str], blank_gray_status: bool) -> dict[str, str]:
        """What each column holds in this row when nothing is stored."""
        d = self.d
        forms = self.row_forms(row.event, row.form)
        out = {}
        for column in columns:
            entry = d.export_columns.get(column)
            if entry is None:
                out[column] = ""
                continue
            name, code = entry
            complete = d.is_complete_field(name)
            belongs = d.form_of(name) in forms
            if belongs and (code is not None or (complete and not blank_gray_status)):
                out[column] = "0"
            else:
                out[column] = ""
        return out

    def id_values(self, row: Row, label: bool) -> dict[str, object]:
        """The event and repeat columns of a row (as REDCap's JSON gives them: the repeat
        instance is a number, PyCap's doctest records ``'redcap_repeat_instance': 1``)."""
        out: dict[str, object] = {}
        if self.design.longitudinal:
            out[EVENT] = self.design.event_label(row.event) if label else row.event
        if self.design.has_repeating:
            form = row.form
            out[REPEAT_FORM] = self.d.instrument_label(form) if label and form else form
            out[REPEAT_INSTANCE] = row.instance if row.instance is not None else ""
        return out

    def id_columns(self) -> list[str]:
        cols = [EVENT] if self.design.longitudinal else []
        if self.design.has_repeating:
            cols += [REPEAT_FORM, REPEAT_INSTANCE]
        return cols
