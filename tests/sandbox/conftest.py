"""Helpers for the sandbox conformance tests: raw API calls and a small test dictionary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox import Sandbox, run_sandbox


def meta(name: str, form: str, ftype: str, **extra: str) -> dict[str, str]:
    row = dict.fromkeys(METADATA_COLUMNS, "")
    row.update(field_name=name, form_name=form, field_type=ftype, field_label=name.title())
    row.update(extra)
    return row


# A dictionary with every kind of field the conformance tests need.
TEST_METADATA = [
    meta("record_id", "intake", "text"),
    meta("name_text", "intake", "text"),
    meta(
        "age",
        "intake",
        "text",
        text_validation_type_or_show_slider_number="integer",
        text_validation_min="0",
        text_validation_max="120",
    ),
    meta("weight", "intake", "text", text_validation_type_or_show_slider_number="number"),
    meta("dob", "intake", "text", text_validation_type_or_show_slider_number="date_ymd"),
    meta("email", "intake", "text", text_validation_type_or_show_slider_number="email"),
    meta("color", "intake", "radio", select_choices_or_calculations="1, Red | 2, Blue"),
    meta("consent", "intake", "yesno"),
    meta(
        "symptoms",
        "followup",
        "checkbox",
        select_choices_or_calculations="1, Cough | 2, Fever | 99, Other",
    ),
    meta("note", "followup", "notes"),
    meta("info", "followup", "descriptive"),
]


Api = Callable[..., requests.Response]


@pytest.fixture
def api() -> Api:
    """``api(sb, content=..., **params)``: one form-encoded POST with the sandbox's token."""

    def call(sb: Sandbox, **params: Any) -> requests.Response:
        data = {"token": sb.token, **params}
        return requests.post(sb.url, data=data, timeout=30)

    return call


@pytest.fixture
def test_sandbox() -> Iterator[Sandbox]:
    """An empty project with TEST_METADATA (checkbox, validations, two forms)."""
    with run_sandbox(metadata=TEST_METADATA, unique_field="email") as sb:
        yield sb


# Checkbox codes that are not plain digits (REDCapTidieR #31, redcapAPI #90), and a calc field.
ODD_METADATA = [
    meta("record_id", "intake", "text"),
    meta(
        "race",
        "intake",
        "checkbox",
        select_choices_or_calculations="1, White | -99, Refused | X, Other | 2.5, Mixed",
    ),
    meta("note", "intake", "notes"),
    meta("bmi", "intake", "calc", select_choices_or_calculations="1+1"),
]


@pytest.fixture
def odd_sandbox() -> Iterator[Sandbox]:
    """An empty project with ODD_METADATA."""
    with run_sandbox(metadata=ODD_METADATA) as sb:
        yield sb
