"""Repeating instruments and events: repeatingFormsEvents, and the rows that carry
redcap_repeat_instrument / redcap_repeat_instance on export and import."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conformance_helpers import Api, meta

from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.design import Design, Repeating

V = "text_validation_type_or_show_slider_number"
# REDCapR's repeating-instruments project (inst/test-data/projects/repeating-instruments):
# demographics, then the repeating bp instrument.
METADATA = [
    meta("record_id", "demographics", "text"),
    meta("date_enrolled", "demographics", "text", **{V: "date_ymd"}),
    meta("first_name", "demographics", "text"),
    meta("date_bp", "bp", "text", **{V: "date_ymd"}),
    meta("bp_systolic", "bp", "text", **{V: "integer"}),
    meta("bp_done", "bp", "checkbox", select_choices_or_calculations="1, Sitting | 2, Standing"),
]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    design = Design(repeating=(Repeating("", "bp"),))
    with run_sandbox(metadata=METADATA, design=design) as sandbox:
        yield sandbox


ROWS = [
    {"record_id": "1", "date_enrolled": "2019-10-14", "first_name": "aaa",
     "demographics_complete": "2"},
    {"record_id": "1", "redcap_repeat_instrument": "bp", "redcap_repeat_instance": "1",
     "date_bp": "2019-10-14", "bp_systolic": "110", "bp_complete": "2"},
    {"record_id": "1", "redcap_repeat_instrument": "bp", "redcap_repeat_instance": "2",
     "date_bp": "2019-10-14", "bp_systolic": "111", "bp_done___2": "1", "bp_complete": "2"},
]  # fmt: skip


def test_rows_as_recorded(sb: Sandbox, api: Api) -> None:
    assert api(sb, content="record", data=ROWS).json() == {"count": 1}
    lines = api(sb, content="record", format="csv").text.splitlines()
    # REDCapR's recorded data.csv: "record_id,redcap_repeat_instrument,redcap_repeat_instance,
    # date_enrolled,...,demographics_complete,date_bp,...,bp_complete", then
    # "1,,,2019-10-14,...,2,,,,," and "1,bp,1,,,...,2019-10-14,110,100,2": a column of the
    # other kind of row is blank, form status and checkboxes included.
    assert lines == [
        "record_id,redcap_repeat_instrument,redcap_repeat_instance,date_enrolled,first_name,"
        "demographics_complete,date_bp,bp_systolic,bp_done___1,bp_done___2,bp_complete",
        "1,,,2019-10-14,aaa,2,,,,,",
        "1,bp,1,,,,2019-10-14,110,0,0,2",
        "1,bp,2,,,,2019-10-14,111,0,1,2",
    ]


def test_json_instance_is_a_number(sb: Sandbox, api: Api) -> None:
    # PyCap's doctest (a real server): 'redcap_repeat_instrument': '', 'redcap_repeat_instance': 1
    api(sb, content="record", data=ROWS)
    rows = api(sb, content="record", format="json", fields="record_id,bp_systolic").json()
    assert [(r["redcap_repeat_instrument"], r["redcap_repeat_instance"]) for r in rows] == [
        ("", ""),
        ("bp", 1),
        ("bp", 2),
    ]


def test_updating_one_instance_leaves_the_others(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=ROWS)
    change = [{"record_id": "1", "redcap_repeat_instrument": "bp",
               "redcap_repeat_instance": "2", "bp_systolic": "120"}]  # fmt: skip
    api(sb, content="record", data=change)
    rows = api(sb, content="record", format="json", fields="record_id,bp_systolic").json()
    assert [r["bp_systolic"] for r in rows] == ["", "110", "120"]


def test_eav_carries_the_repeat_columns(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=ROWS[:2])
    rows = api(sb, content="record", format="json", type="eav", fields="bp_systolic").json()
    assert rows == [
        {"record": "1", "redcap_repeat_instrument": "bp", "redcap_repeat_instance": 1,
         "field_name": "bp_systolic", "value": "110"},
    ]  # fmt: skip


def test_misplaced_values_are_refused(sb: Sandbox, api: Api) -> None:
    bad = [
        {"record_id": "1", "bp_systolic": "110"},  # a repeating field in the record's row
        {"record_id": "1", "redcap_repeat_instrument": "bp", "redcap_repeat_instance": "1",
         "first_name": "x"},  # a non-repeating field in a bp row
        {"record_id": "1", "redcap_repeat_instrument": "demographics",
         "redcap_repeat_instance": "1"},  # not a repeating instrument
        {"record_id": "1", "redcap_repeat_instrument": "bp", "redcap_repeat_instance": "0"},
    ]  # fmt: skip
    for row in bad:
        resp = api(sb, content="record", data=[row], returnFormat="json")
        assert resp.status_code == 400, row
    assert api(sb, content="record", format="json").json() == []


def test_repeating_forms_events_export_and_import(sb: Sandbox, api: Api) -> None:
    # A classic project has no event_name column (PyCap's doctest shows event_name for a
    # longitudinal one).
    assert api(sb, content="repeatingFormsEvents", format="json").json() == [
        {"form_name": "bp", "custom_form_label": ""}
    ]
    info = api(sb, content="project", format="json").json()
    assert info["has_repeating_instruments_or_events"] == 1
    data = [{"form_name": "bp", "custom_form_label": "[date_bp]"}]
    assert api(sb, content="repeatingFormsEvents", data=data).text == "1"
    csv_text = api(sb, content="repeatingFormsEvents", format="csv").text
    assert csv_text == "form_name,custom_form_label\nbp,[date_bp]\n"
    xml = api(sb, content="repeatingFormsEvents", format="xml").text
    assert "<form_name><![CDATA[bp]]></form_name>" in xml
    resp = api(sb, content="repeatingFormsEvents", format="xml", data=xml)
    assert resp.text == "1"
    assert api(sb, content="repeatingFormsEvents", data=[]).text == "0"
    info = api(sb, content="project", format="json").json()
    assert info["has_repeating_instruments_or_events"] == 0


def test_delete_one_instance(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=ROWS)
    resp = api(sb, content="record", action="delete", records="1", instrument="bp",
               repeat_instance="1")  # fmt: skip
    assert resp.text == "1"
    rows = api(sb, content="record", format="json", fields="record_id,bp_systolic").json()
    assert [(r["redcap_repeat_instance"], r["bp_systolic"]) for r in rows] == [("", ""), (2, "111")]
