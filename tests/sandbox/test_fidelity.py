"""Shapes recorded from real REDCap servers by PyCap's doctests, REDCapR's test data and
REDCapTidieR/redcapAPI issues, checked against the sandbox over raw HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import requests

from recruit_cli.sandbox import Sandbox

Api = Callable[..., requests.Response]


def records(api: Api, sb: Sandbox, **params: str) -> requests.Response:
    return api(sb, content="record", format="json", **params)


def test_checkbox_columns_follow_redcap_for_odd_codes(odd_sandbox: Sandbox, api: Api) -> None:
    # REDCap lower-cases the code and turns '-' and '.' into '_': -99 -> race____99.
    data = [{"record_id": "1", "race____99": "1", "race___x": "1"}]
    assert records(api, odd_sandbox, data=json.dumps(data)).json() == {"count": 1}
    (row,) = records(api, odd_sandbox).json()
    assert list(row) == [
        "record_id", "race___1", "race____99", "race___x", "race___2_5", "note", "bmi",
        "intake_complete",
    ]  # fmt: skip
    assert (row["race___1"], row["race____99"], row["race___x"]) == ("0", "1", "1")
    # exportFieldNames gives the raw code next to the export name.
    names = api(odd_sandbox, content="exportFieldNames", format="json", field="race").json()
    assert [(n["choice_value"], n["export_field_name"]) for n in names] == [
        ("1", "race___1"), ("-99", "race____99"), ("X", "race___x"), ("2.5", "race___2_5"),
    ]  # fmt: skip
    # EAV carries the raw code, both ways.
    eav = records(api, odd_sandbox, type="eav").json()
    assert [e["value"] for e in eav if e["field_name"] == "race"] == ["-99", "X"]
    eav_in = [{"record": "2", "field_name": "race", "value": "2.5"}]
    assert records(api, odd_sandbox, type="eav", data=json.dumps(eav_in)).json() == {"count": 1}
    # filterLogic reads [race(-99)] from the same column.
    hits = records(api, odd_sandbox, filterLogic="[race(-99)] = '1'", fields="record_id")
    assert hits.json() == [{"record_id": "1"}]
    (labels,) = records(
        api, odd_sandbox, rawOrLabel="label", exportCheckboxLabel="true", records="1"
    ).json()
    assert (labels["race____99"], labels["race___1"]) == ("Refused", "")


def test_field_names_list_form_complete_and_calc(odd_sandbox: Sandbox, api: Api) -> None:
    # PyCap's doctest (a real server): [..., checkbox rows, {'original_field_name':
    # 'form_1_complete', 'choice_value': '', 'export_field_name': 'form_1_complete'}].
    # The calc field bmi is listed: PyCap's integration test counts it (test_shapes.py).
    names = api(odd_sandbox, content="exportFieldNames", format="json").json()
    assert [n["export_field_name"] for n in names] == [
        "record_id", "race___1", "race____99", "race___x", "race___2_5", "note", "bmi",
        "intake_complete",
    ]  # fmt: skip
    assert names[-1] == {
        "original_field_name": "intake_complete",
        "choice_value": "",
        "export_field_name": "intake_complete",
    }


def test_csv_is_quoted_like_php_fputcsv(test_sandbox: Sandbox, api: Api) -> None:
    # PyCap's doctest records `1,"Event 1",,1,Yes,Unchecked,Checked`: REDCap quotes a cell
    # with a space in it (PHP's fputcsv), not just one with a comma or a quote.
    data = [{"record_id": "1", "name_text": 'a,b "c"', "color": "2", "note": "two words"}]
    assert records(api, test_sandbox, data=json.dumps(data)).status_code == 200
    text = api(
        test_sandbox, content="record", format="csv", rawOrLabel="label",
        fields="record_id,name_text,color,note",
    ).text  # fmt: skip
    assert text == 'record_id,name_text,color,note\n1,"a,b ""c""",Blue,"two words"\n'


def test_the_log_records_reads_as_redcap_does(sandbox: Sandbox, api: Api) -> None:
    # REDCapR's recorded logs: record exports are "Data export (API)" with the format in the
    # details; design-level reads are "Manage/Design" with the call in the details.
    api(sandbox, content="metadata", format="json")
    api(sandbox, content="project", format="json")
    records(api, sandbox)
    exports = api(sandbox, content="log", format="json", logtype="export").json()
    assert [(e["action"], e["details"]) for e in exports] == [
        ("Data export (API)", "export_format: JSON, rawOrLabel: raw")
    ]
    manage = api(sandbox, content="log", format="json", logtype="manage").json()
    assert [e["details"] for e in manage] == [
        "Export Logging (API)",  # the export-type log read just before
        "Export project information (API)",
        "Download data dictionary (API)",
    ]
    # PyCap's doctest: {'action': 'Manage/Design ', ...}: REDCap ends it with a space.
    assert {e["action"] for e in manage} == {"Manage/Design "}
    assert "manage/design" in manage[-1]["action"].lower()  # PyCap's integration test


def test_import_of_a_checkbox_code_the_field_lacks_is_refused(
    odd_sandbox: Sandbox, api: Api
) -> None:
    data = [{"record_id": "1", "race___-99": "1"}]  # the raw code is not a column name
    resp = records(api, odd_sandbox, data=json.dumps(data))
    assert resp.status_code == 400
    assert "real data fields: race___-99" in resp.json()["error"]
    assert records(api, odd_sandbox).json() == []
