"""The project's data dictionary: REDCap metadata rows and what they imply.

A REDCap project is defined by its metadata rows (one per field, in form order). Everything
else the API answers with is derived from them: export field names (checkboxes expand to
``field___code``), each form's ``<form>_complete`` field, the instruments, and how a value
is validated on import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from recruit_cli.logic.lexer import checkbox_key
from recruit_cli.redcap.meta import METADATA_COLUMNS

FIELD_TYPES = frozenset(
    {
        "text",
        "notes",
        "radio",
        "dropdown",
        "checkbox",
        "yesno",
        "truefalse",
        "calc",
        "descriptive",
        "slider",
        "file",
        "sql",
    }
)
CHOICE_TYPES = frozenset({"radio", "dropdown", "checkbox"})
# Types that hold no value an import can set (file fields go through content=file).
NOT_IMPORTABLE = frozenset({"file", "descriptive"})
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
COMPLETE_CHOICES = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}


class DictionaryError(ValueError):
    """Metadata that REDCap would refuse; the message is REDCap-shaped and holds no data."""


@dataclass(frozen=True)
class Field:
    """One data-dictionary row, with its choices parsed."""

    name: str
    form: str
    field_type: str
    label: str
    validation: str
    vmin: str
    vmax: str
    choices: Mapping[str, str]
    row: Mapping[str, str]

    @property
    def is_checkbox(self) -> bool:
        return self.field_type == "checkbox"

    def export_names(self) -> list[str]:
        """The column names this field has in a flat export.

        REDCap lower-cases a checkbox code and turns any other character than a letter,
        digit or underscore into ``_`` in the column name: code ``-99`` of ``race`` exports
        as ``race____99`` (REDCapTidieR #31, redcapAPI #90 record this from real servers).
        """
        if self.is_checkbox:
            return [checkbox_key(self.name, code) for code in self.choices]
        return [self.name]


def parse_choices(field_type: str, text: str) -> dict[str, str]:
    """``"1, Yes | 2, No"`` -> ``{"1": "Yes", "2": "No"}``; implicit ones for yesno etc."""
    if field_type == "yesno":
        return {"1": "Yes", "0": "No"}
    if field_type == "truefalse":
        return {"1": "True", "0": "False"}
    if field_type not in CHOICE_TYPES:
        return {}
    choices: dict[str, str] = {}
    for part in text.split("|"):
        if not part.strip():
            continue
        code, sep, label = part.partition(",")
        if not sep or not code.strip():
            raise DictionaryError(f"cannot parse the choice {part.strip()!r}")
        choices[code.strip()] = label.strip()
    if not choices:
        raise DictionaryError("has no choices")
    return choices


def _cell(row: Mapping[str, object], key: str) -> str:
    value = row.get(key, "")
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Dictionary:
    """All fields of the project, in data-dictionary order."""

    fields: tuple[Field, ...]
    by_name: Mapping[str, Field] = field(repr=False)
    forms: tuple[str, ...]
    record_id: str
    export_columns: Mapping[str, tuple[str, str | None]] = field(repr=False)
    """export column -> (field name, checkbox code or None), including ``<form>_complete``."""

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, object]]) -> Dictionary:
        """Validate metadata rows the way REDCap does on a data-dictionary upload.

        Raises:
            DictionaryError: naming the field (never any data).
        """
        if not rows:
            raise DictionaryError("The data dictionary has no fields")
        fields: list[Field] = []
        seen: set[str] = set()
        forms: list[str] = []
        for row in rows:
            name = _cell(row, "field_name").strip()
            form = _cell(row, "form_name").strip()
            ftype = _cell(row, "field_type").strip()
            if not NAME_RE.match(name):
                raise DictionaryError(f"The variable name {name!r} is not valid")
            if name in seen:
                raise DictionaryError(f"The variable name {name!r} is used more than once")
            if not NAME_RE.match(form):
                raise DictionaryError(f"The form name {form!r} of field {name!r} is not valid")
            if ftype not in FIELD_TYPES:
                raise DictionaryError(f"The field type {ftype!r} of field {name!r} is not valid")
            if forms and form != forms[-1] and form in forms:
                raise DictionaryError(f"The fields of form {form!r} are not contiguous")
            try:
                choices = parse_choices(ftype, _cell(row, "select_choices_or_calculations"))
            except DictionaryError as exc:
                raise DictionaryError(f"The choices of field {name!r}: {exc}") from exc
            if form not in forms:
                forms.append(form)
            seen.add(name)
            clean = {col: _cell(row, col) for col in METADATA_COLUMNS}
            clean.update(field_name=name, form_name=form, field_type=ftype)
            fields.append(
                Field(
                    name=name,
                    form=form,
                    field_type=ftype,
                    label=clean["field_label"],
                    validation=clean["text_validation_type_or_show_slider_number"].strip(),
                    vmin=clean["text_validation_min"].strip(),
                    vmax=clean["text_validation_max"].strip(),
                    choices=choices,
                    row=clean,
                )
            )
        for f in fields:
            if f"{f.form}_complete" == f.name or any(f.name == f"{g}_complete" for g in forms):
                raise DictionaryError(f"The variable name {f.name!r} is reserved")
        return cls._build(tuple(fields), tuple(forms))

    @classmethod
    def _build(cls, fields: tuple[Field, ...], forms: tuple[str, ...]) -> Dictionary:
        columns: dict[str, tuple[str, str | None]] = {}
        for i, f in enumerate(fields):
            if f.field_type == "descriptive":
                continue
            if f.is_checkbox:
                for code, column in zip(f.choices, f.export_names(), strict=True):
                    if column in columns:
                        raise DictionaryError(
                            f"The choices of field {f.name!r}: two codes export as {column!r}"
                        )
                    columns[column] = (f.name, code)
            else:
                columns[f.name] = (f.name, None)
            last_of_form = i + 1 == len(fields) or fields[i + 1].form != f.form
            if last_of_form:
                columns[f"{f.form}_complete"] = (f"{f.form}_complete", None)
        # A form whose last field is descriptive still has its _complete column.
        for form in forms:
            columns.setdefault(f"{form}_complete", (f"{form}_complete", None))
        return cls(
            fields=fields,
            by_name={f.name: f for f in fields},
            forms=forms,
            record_id=fields[0].name,
            export_columns=columns,
        )

    def rows(self) -> list[dict[str, str]]:
        """The metadata rows as REDCap exports them (every value a string)."""
        return [dict(f.row) for f in self.fields]

    def is_complete_field(self, name: str) -> bool:
        return name.endswith("_complete") and name[: -len("_complete")] in self.forms

    def real_fields(self) -> set[str]:
        """Names valid in the ``fields`` parameter: fields plus ``<form>_complete``."""
        names = {f.name for f in self.fields}
        names.update(f"{form}_complete" for form in self.forms)
        return names

    def columns_for(self, fields: Iterable[str], forms: Iterable[str]) -> list[str]:
        """Export columns for a fields/forms selection, in data-dictionary order (so the
        record id, the first field, comes first when it is selected).

        As REDCap does since 6.0, a selection includes the record id only when it names the
        record id or its form.
        """
        wanted_fields = set(fields)
        wanted_forms = set(forms)
        everything = not wanted_fields and not wanted_forms
        return [
            column
            for column, (name, _code) in self.export_columns.items()
            if everything or name in wanted_fields or self.form_of(name) in wanted_forms
        ]

    def form_of(self, name: str) -> str:
        if name in self.by_name:
            return self.by_name[name].form
        return name[: -len("_complete")]

    def instrument_label(self, form: str) -> str:
        return form.replace("_", " ").title()
