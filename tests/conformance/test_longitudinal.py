"""Longitudinal projects: arms, events and the instrument-event mapping, rows per event on
export and import, the events filter, and project information."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conformance_helpers import Api, meta

from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.design import Design

METADATA = [
    meta("study_id", "enrollment", "text", "Study ID"),
    meta("age", "enrollment", "text", text_validation_type_or_show_slider_number="integer"),
    meta("gym", "enrollment", "checkbox", select_choices_or_calculations="0, Never | 1, Often"),
    meta("pmq1", "morale", "radio", select_choices_or_calculations="0, Low | 1, High"),
    meta("treatment", "treatment", "text"),
]


@pytest.fixture
def sb(api: Api) -> Iterator[Sandbox]:
    with run_sandbox(metadata=METADATA, design=Design(is_longitudinal=True)) as sandbox:
        arms = [{"arm_num": "1", "name": "Drug A"}, {"arm_num": "2", "name": "Drug B"}]
        assert api(sandbox, content="arm", action="import", data=arms).text == "2"
        events = [
            {"event_name": "Enrollment", "arm_num": "1"},
            {"event_name": "Dose 1", "arm_num": "1"},
            {"event_name": "Enrollment", "arm_num": "2"},
            {"event_name": "Deadline to opt out of study", "arm_num": "2"},
        ]
        assert api(sandbox, content="event", action="import", data=events).text == "4"
        mapping = [
            {"arm_num": "1", "unique_event_name": "enrollment_arm_1", "form": "enrollment"},
            {"arm_num": "1", "unique_event_name": "dose_1_arm_1", "form": "morale"},
            {"arm_num": "2", "unique_event_name": "enrollment_arm_2", "form": "enrollment"},
            {"arm_num": "2", "unique_event_name": "deadline_to_opt_ou_arm_2", "form": "morale"},
        ]
        resp = api(sandbox, content="formEventMapping", action="import", data=mapping)
        assert resp.text == "4"
        yield sandbox


ROWS = [
    {"study_id": "100", "redcap_event_name": "enrollment_arm_1", "age": "31", "gym___1": "1"},
    {"study_id": "100", "redcap_event_name": "dose_1_arm_1", "pmq1": "1"},
    {"study_id": "200", "redcap_event_name": "enrollment_arm_2", "age": "40"},
]


def test_project_information(sb: Sandbox, api: Api) -> None:
    info = api(sb, content="project", format="json").json()
    assert (info["is_longitudinal"], info["has_repeating_instruments_or_events"]) == (1, 0)


def test_unique_event_names_and_exports(sb: Sandbox, api: Api) -> None:
    # PyCap's longitudinal project: "Deadline to opt out of study" in arm 2 is
    # deadline_to_opt_ou_arm_2 (18 characters of the label, then the arm).
    events = api(sb, content="event", format="json").json()
    assert [e["unique_event_name"] for e in events] == [
        "enrollment_arm_1", "dose_1_arm_1", "enrollment_arm_2", "deadline_to_opt_ou_arm_2",
    ]  # fmt: skip
    assert {k: events[0][k] for k in ("event_name", "arm_num", "custom_event_label")} == {
        "event_name": "Enrollment",
        "arm_num": 1,
        "custom_event_label": "",
    }
    assert api(sb, content="arm", format="json").json() == [
        {"arm_num": 1, "name": "Drug A"},
        {"arm_num": 2, "name": "Drug B"},
    ]
    # REDCapR's recorded mapping (event-instruments/*.R): arm_num, unique_event_name, form.
    fem = api(sb, content="formEventMapping", format="json", arms="2").json()
    assert fem == [
        {"arm_num": 2, "unique_event_name": "enrollment_arm_2", "form": "enrollment"},
        {"arm_num": 2, "unique_event_name": "deadline_to_opt_ou_arm_2", "form": "morale"},
    ]


def test_rows_per_event(sb: Sandbox, api: Api) -> None:
    assert api(sb, content="record", data=ROWS).json() == {"count": 2}
    lines = api(sb, content="record", format="csv").text.splitlines()
    # REDCapR's recorded longitudinal export: "study_id,redcap_event_name,...", and in a row
    # of an event without the instrument its checkboxes and status are blank, not "0".
    assert lines == [
        "study_id,redcap_event_name,age,gym___0,gym___1,enrollment_complete,pmq1,"
        "morale_complete,treatment,treatment_complete",
        "100,enrollment_arm_1,31,0,1,0,,,,",
        "100,dose_1_arm_1,,,,,1,0,,",
        "200,enrollment_arm_2,40,0,0,0,,,,",
    ]
    labels = api(sb, content="record", format="json", rawOrLabel="label").json()
    assert labels[1]["redcap_event_name"] == "Dose 1 (Arm 1: Drug A)"


def test_events_filter_and_eav(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=ROWS)
    rows = api(sb, content="record", format="json", events="dose_1_arm_1").json()
    assert [(r["study_id"], r["redcap_event_name"]) for r in rows] == [("100", "dose_1_arm_1")]
    eav = api(sb, content="record", format="json", type="eav", fields="pmq1").json()
    assert eav == [
        {"record": "100", "redcap_event_name": "dose_1_arm_1", "field_name": "pmq1", "value": "1"}
    ]
    bad = api(sb, content="record", format="json", events="nope")
    assert bad.status_code == 400


def test_a_value_in_an_event_without_its_instrument_is_refused(sb: Sandbox, api: Api) -> None:
    row = [{"study_id": "1", "redcap_event_name": "dose_1_arm_1", "treatment": "x"}]
    resp = api(sb, content="record", data=row, returnFormat="json")
    assert resp.status_code == 400
    # redcapAPI #348 records this line from a real server (its event 'event_1', arm 1).
    assert resp.json()["error"] == (
        '"1","treatment","","This field (\'treatment\') exists on an instrument that is not '
        "designated for the event named 'Dose 1 (Arm 1: Drug A)'. You are not allowed to "
        'import data for this field into this event."'
    )
    missing = api(sb, content="record", data=[{"study_id": "1", "age": "3"}], returnFormat="json")
    assert missing.status_code == 400
    assert "redcap_event_name" in missing.json()["error"]


def test_delete_in_one_event_then_the_arm(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=ROWS)
    resp = api(sb, content="record", action="delete", records="100", event="dose_1_arm_1")
    assert resp.text == "1"
    rows = api(sb, content="record", format="json").json()
    assert [(r["study_id"], r["redcap_event_name"]) for r in rows] == [
        ("100", "enrollment_arm_1"),
        ("200", "enrollment_arm_2"),
    ]
    # Deleting arm 2 deletes its events and their data: record 200 goes with it.
    assert api(sb, content="arm", action="delete", arms="2").text == "1"
    rows = api(sb, content="record", format="json").json()
    assert [r["study_id"] for r in rows] == ["100"]


def test_classic_project_answers_as_before(api: Api) -> None:
    with run_sandbox(metadata=METADATA) as classic:
        resp = api(classic, content="event", format="json")
        assert resp.status_code == 400
        assert resp.json() == {"error": "You cannot export events for classic projects"}
        rows = [{"study_id": "1", "redcap_event_name": "x"}]
        resp = api(classic, content="record", data=rows, returnFormat="json")
        assert "redcap_event_name" in resp.json()["error"]  # not a field of a classic project
