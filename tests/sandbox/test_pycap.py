"""Conformance with PyCap, the ecosystem's own REDCap client, over real HTTP."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from redcap import Project, RedcapError

from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox import Sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA


@pytest.fixture
def project(sandbox: Sandbox) -> Project:
    return Project(sandbox.url, sandbox.token)


def test_version_and_project_info(project: Project) -> None:
    assert str(project.export_version()) == "14.5.0"
    info = project.export_project_info()
    assert info["is_longitudinal"] == 0
    assert info["has_repeating_instruments_or_events"] == 0
    assert info["secondary_unique_field"] == ""
    assert isinstance(info["project_id"], int)
    assert not project.is_longitudinal


def test_metadata_export_matches_the_demo_dictionary(project: Project) -> None:
    rows = project.export_metadata()
    assert [r["field_name"] for r in rows] == [r["field_name"] for r in DEMO_METADATA]
    assert all(list(r) == list(METADATA_COLUMNS) for r in rows)
    assert project.def_field == "record_id"
    csv_text = project.export_metadata(format_type="csv")
    assert csv_text.startswith("field_name,form_name,section_header,field_type")


def test_metadata_import_changes_the_fields(project: Project) -> None:
    rows = project.export_metadata()
    extra = dict(rows[-1], field_name="favourite_colour", field_type="text", field_label="Colour")
    assert project.import_metadata([*rows, extra]) == len(rows) + 1
    assert "favourite_colour" in [r["field_name"] for r in project.export_metadata()]
    project.import_records([{"record_id": "1", "favourite_colour": "teal"}])
    assert project.export_records(fields=["favourite_colour"])[0]["favourite_colour"] == "teal"
    csv_text = project.export_metadata(format_type="csv")
    assert project.import_metadata(csv_text, import_format="csv") == len(rows) + 1


def test_import_export_delete_records(project: Project) -> None:
    res = project.import_records([{"record_id": str(i), "age": "30"} for i in (4, 5, 6)])
    assert res == {"count": 3}
    assert project.import_records([{"record_id": "4"}], return_content="ids") == ["4"]
    assert project.import_records([{"record_id": "4"}], return_content="nothing") == [{}]
    records = project.export_records()
    assert [r["record_id"] for r in records] == ["4", "5", "6"]
    assert all(isinstance(v, str) for r in records for v in r.values())
    assert project.delete_records(["4", "5"]) == 2
    assert [r["record_id"] for r in project.export_records()] == ["6"]


def test_non_json_return_formats(project: Project) -> None:
    csv_data = "record_id,age\n7,41\n8,42\n"
    assert project.import_records(csv_data, import_format="csv", return_format_type="csv") == "2"
    xml = project.import_records(csv_data, import_format="csv", return_format_type="xml")
    assert xml == '<?xml version="1.0" encoding="UTF-8" ?><count>2</count>'
    assert project.delete_records(["7", "8"], return_format_type="csv") == "2"


def test_pycap_adds_the_record_id_to_a_fields_selection(project: Project) -> None:
    # REDCap itself leaves the record id out unless asked (test_records.py); PyCap asks.
    project.import_records([{"record_id": "1", "age": "30", "travel": "1"}])
    rows = project.export_records(fields=["age"])
    assert list(rows[0]) == ["record_id", "age"]
    assert project.export_records(fields=["age"], forms=["staff_tracking"])[0]["age"] == "30"


def test_filter_logic(demo_sandbox: Sandbox) -> None:
    project = Project(demo_sandbox.url, demo_sandbox.token)
    everyone = project.export_records()
    young = project.export_records(filter_logic="[age] >= 18 and [age] <= 25")
    expected = [
        r["record_id"]
        for r in everyone
        if r["age"].strip().lstrip("-").replace(".", "", 1).isdigit()
        and 18 <= float(r["age"]) <= 25
    ]
    assert [r["record_id"] for r in young] == expected
    assert 0 < len(young) < len(everyone)


def test_csv_and_dataframe_export(demo_sandbox: Sandbox) -> None:
    project = Project(demo_sandbox.url, demo_sandbox.token)
    text = project.export_records(format_type="csv", fields=["age", "qids_score"])
    assert text.splitlines()[0] == "record_id,age,qids_score"
    df = project.export_records(format_type="df")
    assert len(df) == 200


def test_eav_export(project: Project) -> None:
    project.import_records([{"record_id": "1", "age": "30", "travel": "1"}])
    rows = project.export_records(record_type="eav")
    assert rows == [
        {"record": "1", "field_name": "record_id", "value": "1"},
        {"record": "1", "field_name": "age", "value": "30"},
        {"record": "1", "field_name": "travel", "value": "1"},
    ]


def test_generate_next_record_name(project: Project) -> None:
    assert project.generate_next_record_name() == "1"
    project.import_records([{"record_id": "41"}, {"record_id": "9"}])
    assert project.generate_next_record_name() == "42"


def test_field_names_and_instruments(project: Project) -> None:
    names = project.export_field_names()
    assert names[0] == {
        "original_field_name": "record_id",
        "choice_value": "",
        "export_field_name": "record_id",
    }
    assert project.export_field_names(field="age") == [
        {"original_field_name": "age", "choice_value": "", "export_field_name": "age"}
    ]
    forms = [i["instrument_name"] for i in project.export_instruments()]
    assert forms == ["screening_survey", "staff_tracking", "recruitment_pipeline"]


def test_export_logging(project: Project) -> None:
    project.import_records([{"record_id": "1", "age": "30"}])
    project.import_records([{"record_id": "1", "age": "31"}])
    project.delete_records(["1"])
    logs = project.export_logging(log_type="record")
    assert [e["action"] for e in logs] == [
        "Delete record (API) 1",
        "Update record (API) 1",
        "Create record (API) 1",
    ]
    assert set(logs[0]) == {"timestamp", "username", "action", "details", "record"}
    assert logs[1]["details"] == "age = '31'"
    assert [e["action"] for e in project.export_logging(log_type="record_add")] == [
        "Create record (API) 1"
    ]
    future = datetime.now() + timedelta(days=1)
    assert project.export_logging(begin_time=future) == []
    assert len(project.export_logging(end_time=future, record="1")) == 3
    df = project.export_logging(format_type="df")
    assert "action" in df.columns


def test_date_range_export(project: Project) -> None:
    project.import_records([{"record_id": "1", "age": "30"}])
    soon = datetime.now() + timedelta(minutes=2)
    assert project.export_records(date_begin=soon) == []
    assert len(project.export_records(date_end=soon)) == 1


def test_errors_surface_as_redcap_errors(project: Project) -> None:
    with pytest.raises(RedcapError, match="not found in the project as real data fields: nope"):
        project.import_records([{"record_id": "1", "nope": "x"}])
    with pytest.raises(RedcapError, match="classic projects"):
        project.export_arms()
    with pytest.raises(RedcapError):
        project.export_records(fields=["nope"])


def test_dataframe_import_round_trip(demo_sandbox: Sandbox) -> None:
    project = Project(demo_sandbox.url, demo_sandbox.token)
    text = project.export_records(format_type="csv")
    buf = io.StringIO(text)
    assert project.import_records(buf.getvalue(), import_format="csv") == {"count": 200}
    assert project.export_records(format_type="csv") == text
