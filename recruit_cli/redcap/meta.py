"""Typed rows of a REDCap data dictionary (``content=metadata``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The metadata columns REDCap exports, in REDCap's order.
METADATA_COLUMNS: tuple[str, ...] = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)

# Field types whose choices live in ``select_choices_or_calculations`` as "code, label | ...".
CHOICE_TYPES = frozenset({"radio", "dropdown", "checkbox"})
# Field types whose choices REDCap fixes itself.
IMPLICIT_CHOICES: dict[str, dict[str, str]] = {
    "yesno": {"1": "Yes", "0": "No"},
    "truefalse": {"1": "True", "0": "False"},
}


@dataclass(frozen=True)
class FieldMeta:
    """One field of the data dictionary, with its choices parsed.

    Attributes:
        field_name: The variable name, e.g. ``age``.
        form_name: The instrument it belongs to.
        field_type: REDCap's type: text, notes, radio, dropdown, checkbox, yesno, calc, ...
        field_label: The question text.
        choices: Choice code -> label, for radio/dropdown/checkbox/yesno/truefalse; else empty.
        validation: ``text_validation_type_or_show_slider_number`` (e.g. ``integer``,
            ``date_ymd``), "" when none.
        validation_min: The validation minimum, "" when none.
        validation_max: The validation maximum, "" when none.
        required: Whether the field is marked required.
    """

    field_name: str
    form_name: str
    field_type: str
    field_label: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    validation: str = ""
    validation_min: str = ""
    validation_max: str = ""
    required: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> FieldMeta:
        """Build from one row of REDCap's JSON metadata export."""
        field_type = row.get("field_type", "")
        if field_type in CHOICE_TYPES:
            choices = parse_choices(row.get("select_choices_or_calculations", ""))
        else:
            choices = dict(IMPLICIT_CHOICES.get(field_type, {}))
        return cls(
            field_name=row.get("field_name", ""),
            form_name=row.get("form_name", ""),
            field_type=field_type,
            field_label=row.get("field_label", ""),
            choices=choices,
            validation=row.get("text_validation_type_or_show_slider_number", ""),
            validation_min=row.get("text_validation_min", ""),
            validation_max=row.get("text_validation_max", ""),
            required=row.get("required_field", "").strip().lower() == "y",
        )

    @property
    def export_names(self) -> tuple[str, ...]:
        """The column names this field has in a flat record export.

        A checkbox exports one column per choice (``field___code``); every other field
        exports under its own name. Descriptive fields export nothing.
        """
        if self.field_type == "descriptive":
            return ()
        if self.field_type == "checkbox":
            return tuple(f"{self.field_name}___{_checkbox_code(code)}" for code in self.choices)
        return (self.field_name,)


def parse_choices(text: str) -> dict[str, str]:
    """Parse REDCap's choice string: ``"1, Yes | 0, No"`` -> ``{"1": "Yes", "0": "No"}``.

    Codes are trimmed; a label may itself contain commas (only the first comma separates).
    An entry with no comma uses its whole text as both code and label, which is how REDCap
    reads such a choice. Empty entries are skipped.
    """
    choices: dict[str, str] = {}
    for part in text.split("|"):
        entry = part.strip()
        if not entry:
            continue
        code, sep, label = entry.partition(",")
        code = code.strip()
        choices[code] = label.strip() if sep else code
    return choices


def _checkbox_code(code: str) -> str:
    # REDCap lower-cases checkbox codes and replaces '-' and '.' with '_' in export column names.
    return code.lower().replace("-", "_").replace(".", "_")
