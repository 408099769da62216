"""Data-dictionary rows become typed FieldMeta with parsed choices."""

from __future__ import annotations

from recruit_cli.redcap.meta import FieldMeta, parse_choices


def test_parse_choices() -> None:
    assert parse_choices("1, Yes | 0, No") == {"1": "Yes", "0": "No"}
    assert parse_choices(" 0 , Not at all|3,  Nearly, every day ") == {
        "0": "Not at all",
        "3": "Nearly, every day",
    }
    assert parse_choices("en, English | es, Español | ") == {"en": "English", "es": "Español"}
    assert parse_choices("lonely") == {"lonely": "lonely"}
    assert parse_choices("") == {}


def row(field_type: str, choices: str = "", **extra: str) -> dict[str, str]:
    base = {
        "field_name": "f",
        "form_name": "form",
        "field_type": field_type,
        "field_label": "Label",
        "select_choices_or_calculations": choices,
        "text_validation_type_or_show_slider_number": "",
        "text_validation_min": "",
        "text_validation_max": "",
        "required_field": "",
    }
    return base | extra


def test_implicit_and_explicit_choices() -> None:
    assert FieldMeta.from_row(row("yesno")).choices == {"1": "Yes", "0": "No"}
    assert FieldMeta.from_row(row("truefalse")).choices == {"1": "True", "0": "False"}
    assert FieldMeta.from_row(row("radio", "0, a | 1, b")).choices == {"0": "a", "1": "b"}
    calc = FieldMeta.from_row(row("calc", "[a] + [b]"))
    assert calc.choices == {}  # a calculation, not choices
    assert FieldMeta.from_row(row("slider", "low | mid | high")).choices == {}


def test_validation_and_required() -> None:
    meta = FieldMeta.from_row(
        row(
            "text",
            text_validation_type_or_show_slider_number="integer",
            text_validation_min="0",
            text_validation_max="27",
            required_field="y",
        )
    )
    assert (meta.validation, meta.validation_min, meta.validation_max) == ("integer", "0", "27")
    assert meta.required
    assert not FieldMeta.from_row(row("text")).required


def test_export_names() -> None:
    checkbox = FieldMeta.from_row(row("checkbox", "1, a | 2, b") | {"field_name": "cb"})
    assert checkbox.export_names == ("cb___1", "cb___2")
    assert FieldMeta.from_row(row("text")).export_names == ("f",)
    assert FieldMeta.from_row(row("descriptive")).export_names == ()
