"""Calculated fields: listed, accepted blank, never taken from the data, computed on
import with the logic module (calc.py has the sources)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conformance_helpers import Api, meta

from recruit_cli.sandbox import Sandbox, run_sandbox

BMI = "round(([weight]*10000)/(([height])^(2)),1)"
METADATA = [
    meta("record_id", "vitals", "text"),
    meta("height", "vitals", "text", text_validation_type_or_show_slider_number="number"),
    meta("weight", "vitals", "text", text_validation_type_or_show_slider_number="integer"),
    meta("bmi", "vitals", "calc", select_choices_or_calculations=BMI),
    meta("obese", "vitals", "calc", select_choices_or_calculations="if([bmi] >= 30, 1, 0)"),
    meta("odd", "vitals", "calc", select_choices_or_calculations="[visit_1_arm_1][height]"),
    meta("total", "scores", "calc", select_choices_or_calculations="sum([q1], [q2])"),
    meta("q1", "scores", "text"),
    meta("q2", "scores", "text"),
]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(metadata=METADATA) as sandbox:
        yield sandbox


def values(api: Api, sb: Sandbox, *fields: str) -> list[dict[str, str]]:
    rows = api(sb, content="record", format="json", fields=",".join(("record_id", *fields)))
    return list(rows.json())


def test_calc_fields_are_in_export_field_names(sb: Sandbox, api: Api) -> None:
    # PyCap's integration test counts 16 names for 15 fields, two of them calc, and the
    # form status (test_pycap_simple.py); REDCap's API help says calc fields are left out.
    names = [
        n["export_field_name"] for n in api(sb, content="exportFieldNames", format="json").json()
    ]
    assert names == [
        "record_id", "height", "weight", "bmi", "obese", "odd", "vitals_complete",
        "total", "q1", "q2", "scores_complete",
    ]  # fmt: skip


def test_blank_calc_columns_are_accepted(sb: Sandbox, api: Api) -> None:
    # PyCap's test_import_df_no_index re-imports an export whose calc columns are blank.
    resp = api(sb, content="record", data=[{"record_id": "1", "bmi": "", "total": ""}])
    assert resp.json() == {"count": 1}


def test_calc_values_are_computed_on_import_from_what_feeds_them(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=[{"record_id": "1", "height": "170", "weight": "70"}])
    assert values(api, sb, "bmi", "obese", "total") == [
        {"record_id": "1", "bmi": "24.2", "obese": "0", "total": ""}
    ]
    # A change to an input recalculates; calc fields that feed others follow (obese).
    api(sb, content="record", data=[{"record_id": "1", "weight": "95"}])
    assert values(api, sb, "bmi", "obese") == [{"record_id": "1", "bmi": "32.9", "obese": "1"}]
    log = api(sb, content="log", format="json", logtype="record").json()
    assert log[0]["action"] == "Update record (Auto calculation) 1"
    assert log[0]["details"] == "bmi = '32.9', obese = '1'"


def test_a_sent_calc_value_is_ignored(sb: Sandbox, api: Api) -> None:
    resp = api(sb, content="record", data=[{"record_id": "1", "bmi": "99", "q1": "2"}])
    assert resp.json() == {"count": 1}
    # bmi is not stored (nothing feeds it); total is computed from q1 alone (sum skips blanks).
    assert values(api, sb, "bmi", "total") == [{"record_id": "1", "bmi": "", "total": "2"}]


def test_an_equation_the_logic_module_cannot_read_stays_blank(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=[{"record_id": "1", "height": "170"}])
    assert values(api, sb, "odd") == [{"record_id": "1", "odd": ""}]


def test_fields_only_of_another_form_do_not_recalculate(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=[{"record_id": "1", "q1": "1"}])
    log = api(sb, content="log", format="json", logtype="record").json()
    assert [e["details"] for e in log if "Auto" in e["action"]] == ["total = '1'"]
