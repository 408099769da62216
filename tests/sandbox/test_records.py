"""Record export and import semantics over raw HTTP, against REDCap's documented behaviour."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import requests

from recruit_cli.sandbox import Sandbox, run_sandbox

Api = Callable[..., requests.Response]


def put(api: Api, sb: Sandbox, rows: list[dict[str, str]], **params: Any) -> requests.Response:
    resp = api(sb, content="record", format="json", data=json.dumps(rows), **params)
    return resp


def get(api: Api, sb: Sandbox, **params: Any) -> list[dict[str, str]]:
    resp = api(sb, content="record", format="json", **params)
    assert resp.status_code == 200, resp.text
    rows: list[dict[str, str]] = resp.json()
    return rows


def test_flat_shape_checkboxes_and_form_complete(test_sandbox: Sandbox, api: Api) -> None:
    rows = [{"record_id": "1", "age": "30", "symptoms___2": "1", "intake_complete": "2"}]
    assert put(api, test_sandbox, rows).json() == {"count": 1}
    (row,) = get(api, test_sandbox)
    assert list(row) == [
        "record_id", "name_text", "age", "weight", "dob", "email", "color", "consent",
        "intake_complete", "symptoms___1", "symptoms___2", "symptoms___99", "note",
        "followup_complete",
    ]  # fmt: skip
    assert row["symptoms___1"] == "0" and row["symptoms___2"] == "1"
    assert row["intake_complete"] == "2"
    assert row["followup_complete"] == "0"  # gray status exports as 0 ...
    (gray,) = get(api, test_sandbox, exportBlankForGrayFormStatus="true")
    assert gray["followup_complete"] == ""  # ... unless asked for blank
    assert row["name_text"] == ""


def test_records_are_ordered_numerically_then_as_text(sandbox: Sandbox, api: Api) -> None:
    ids = ["10", "9", "abc", "100", "2", "A-1"]
    put(api, sandbox, [{"record_id": i} for i in ids])
    assert [r["record_id"] for r in get(api, sandbox)] == ["2", "9", "10", "100", "A-1", "abc"]


def test_both_array_encodings_and_empty_params(demo_sandbox: Sandbox, api: Api) -> None:
    indexed = get(
        api, demo_sandbox,
        **{"records[0]": "5", "records[1]": "3", "fields[0]": "age", "fields[1]": "record_id"},
    )  # fmt: skip
    commas = get(api, demo_sandbox, records="5,3", fields="age,record_id")
    brackets = requests.post(
        demo_sandbox.url,
        data=[("token", demo_sandbox.token), ("content", "record"), ("format", "json"),
              ("records[]", "3"), ("records[]", "5"), ("fields[]", "age"),
              ("fields[]", "record_id")],
        timeout=10,
    ).json()  # fmt: skip
    assert indexed == commas == brackets
    assert [r["record_id"] for r in indexed] == ["3", "5"]
    assert list(indexed[0]) == ["record_id", "age"]
    # An empty string means "not given".
    everything = get(api, demo_sandbox)
    assert get(api, demo_sandbox, fields="", records="", filterLogic="", type="") == everything


def test_forms_selection(test_sandbox: Sandbox, api: Api) -> None:
    put(api, test_sandbox, [{"record_id": "1", "note": "hi"}])
    # Since REDCap 6.0 a selection has the record id only when it asks for it (its release
    # notes, quoted in PyCap #51; redcapAPI #122 shows a real forms-only export without it).
    (row,) = get(api, test_sandbox, forms="followup")
    assert list(row) == [
        "symptoms___1", "symptoms___2", "symptoms___99", "note", "followup_complete"
    ]  # fmt: skip
    (row,) = get(api, test_sandbox, fields="symptoms,intake_complete")
    assert list(row) == ["intake_complete", "symptoms___1", "symptoms___2", "symptoms___99"]
    (row,) = get(api, test_sandbox, forms="followup,intake", fields="note")
    assert list(row)[:2] == ["record_id", "name_text"]  # its form named: record id first
    (row,) = get(api, test_sandbox, fields="note,record_id")
    assert list(row) == ["record_id", "note"]  # dictionary order, whatever the asking order


def test_a_record_without_the_selected_data_still_has_a_row(
    test_sandbox: Sandbox, api: Api
) -> None:
    put(api, test_sandbox, [{"record_id": "1", "note": "hi"}, {"record_id": "2", "age": "3"}])
    rows = get(api, test_sandbox, fields="note")
    assert rows == [{"note": "hi"}, {"note": ""}]


def test_booleans_in_every_spelling(test_sandbox: Sandbox, api: Api) -> None:
    put(api, test_sandbox, [{"record_id": "1", "symptoms___1": "1", "color": "2"}])
    for spelling in ("true", "True", "1", "TRUE"):
        (row,) = get(api, test_sandbox, rawOrLabel="label", exportCheckboxLabel=spelling)
        assert row["symptoms___1"] == "Cough" and row["symptoms___2"] == ""
    for spelling in ("false", "False", "0"):
        (row,) = get(api, test_sandbox, rawOrLabel="label", exportCheckboxLabel=spelling)
        assert row["symptoms___1"] == "Checked" and row["symptoms___2"] == "Unchecked"
    assert row["color"] == "Blue"
    assert row["intake_complete"] == "Incomplete"


def test_overwrite_behaviour_normal_ignores_blanks(test_sandbox: Sandbox, api: Api) -> None:
    put(api, test_sandbox, [{"record_id": "1", "age": "30", "note": "x", "symptoms___1": "1"}])
    put(api, test_sandbox, [{"record_id": "1", "age": "", "note": "y", "symptoms___1": ""}])
    (row,) = get(api, test_sandbox)
    assert (row["age"], row["note"], row["symptoms___1"]) == ("30", "y", "1")
    put(
        api, test_sandbox,
        [{"record_id": "1", "age": "", "symptoms___1": ""}], overwriteBehavior="overwrite",
    )  # fmt: skip
    (row,) = get(api, test_sandbox)
    assert (row["age"], row["note"], row["symptoms___1"]) == ("", "y", "0")


def test_return_content_variants(sandbox: Sandbox, api: Api) -> None:
    rows = [{"record_id": "7"}, {"record_id": "3"}, {"record_id": "7", "age": "1"}]
    assert put(api, sandbox, rows).json() == {"count": 2}  # distinct records
    assert put(api, sandbox, rows, returnContent="ids").json() == ["7", "3"]
    nothing = put(api, sandbox, rows, returnContent="nothing")
    assert nothing.status_code == 200 and nothing.text == ""
    auto = put(api, sandbox, [{"record_id": "x"}, {"record_id": "y"}],
               forceAutoNumber="true", returnContent="auto_ids")  # fmt: skip
    assert auto.json() == ["8,x", "9,y"]
    assert [r["record_id"] for r in get(api, sandbox)] == ["3", "7", "8", "9"]
    csv_count = api(sandbox, content="record", format="csv", data="record_id\n20\n21\n")
    assert csv_count.text == "2"
    csv_ids = api(sandbox, content="record", format="csv", data="record_id\n20\n",
                  returnContent="ids")  # fmt: skip
    assert csv_ids.text == "id\n20\n"


def test_every_value_is_a_string_and_json_numbers_are_accepted(sandbox: Sandbox, api: Api) -> None:
    resp = api(sandbox, content="record", format="json",
               data='[{"record_id": 5, "age": 31, "travel": true, "english": null}]')  # fmt: skip
    assert resp.json() == {"count": 1}
    (row,) = get(api, sandbox, fields="record_id,age,travel,english")
    assert row == {"record_id": "5", "age": "31", "travel": "1", "english": ""}


def test_date_format_and_csv_export(test_sandbox: Sandbox, api: Api) -> None:
    put(api, test_sandbox, [{"record_id": "1", "dob": "12/31/1990"}], dateFormat="MDY")
    put(api, test_sandbox, [{"record_id": "2", "dob": "31/12/1991"}], dateFormat="DMY")
    text = api(test_sandbox, content="record", format="csv", fields="record_id,dob").text
    assert text == "record_id,dob\n1,1990-12-31\n2,1991-12-31\n"


def test_eav_import_and_export(test_sandbox: Sandbox, api: Api) -> None:
    eav = [
        {"record": "1", "field_name": "age", "value": "40"},
        {"record": "1", "field_name": "symptoms", "value": "99"},
    ]
    resp = put(api, test_sandbox, eav, type="eav")
    assert resp.json() == {"count": 1}
    rows = get(api, test_sandbox, type="eav")
    assert rows == [
        {"record": "1", "field_name": "record_id", "value": "1"},
        {"record": "1", "field_name": "age", "value": "40"},
        {"record": "1", "field_name": "symptoms", "value": "99"},
    ]


def test_multipart_requests(sandbox: Sandbox) -> None:
    files = {
        "token": (None, sandbox.token),
        "content": (None, "record"),
        "format": (None, "json"),
        "data": (None, json.dumps([{"record_id": "1", "age": "22"}])),
    }
    assert requests.post(sandbox.url, files=files, timeout=10).json() == {"count": 1}


def test_date_range_uses_last_change(sandbox: Sandbox, api: Api) -> None:
    put(api, sandbox, [{"record_id": "1"}, {"record_id": "2"}])
    assert len(get(api, sandbox, dateRangeBegin="2000-01-01 00:00:00")) == 2
    assert get(api, sandbox, dateRangeEnd="2000-01-01 00:00:00") == []
    assert get(api, sandbox, dateRangeBegin="2999-01-01") == []


def test_unchanged_reimport_is_not_logged(sandbox: Sandbox, api: Api) -> None:
    put(api, sandbox, [{"record_id": "1", "age": "30"}])
    put(api, sandbox, [{"record_id": "1", "age": "30"}])
    log = api(sandbox, content="log", format="json", logtype="record").json()
    assert [e["action"] for e in log] == ["Create record (API) 1"]


def test_concurrent_imports_from_threads(sandbox: Sandbox, api: Api) -> None:
    errors: list[str] = []

    def writer(start: int) -> None:
        for i in range(start, start + 20):
            resp = put(api, sandbox, [{"record_id": str(i), "age": str(i % 60)}])
            if resp.status_code != 200:
                errors.append(resp.text)

    threads = [threading.Thread(target=writer, args=(k * 100,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = get(api, sandbox)
    assert len(rows) == 120
    assert all(r["age"] == str(int(r["record_id"]) % 60) for r in rows)


def test_data_survives_a_restart_with_db(tmp_path: Any, api: Api) -> None:
    db = tmp_path / "sandbox.sqlite"
    with run_sandbox(db=db, unique_field="participant_email") as sb:
        put(api, sb, [{"record_id": "1", "age": "30"}])
        token = sb.token
    with run_sandbox(db=db) as sb:
        assert sb.token == token  # the token is kept with the project
        assert get(api, sb, fields="record_id,age") == [{"record_id": "1", "age": "30"}]
        info = api(sb, content="project", format="json").json()
        assert info["secondary_unique_field"] == "participant_email"


def test_concurrent_imports_claiming_one_unique_value(test_sandbox: Sandbox, api: Api) -> None:
    # Validation and the write happen under one lock: exactly one of the racing imports
    # gets the secondary unique value; every other is rejected whole.
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        rows = [{"record_id": str(i), "age": "30", "email": "same@example.org"}]
        statuses.append(put(api, test_sandbox, rows).status_code)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [400] * 7
    rows = get(api, test_sandbox, fields="record_id,email")
    assert [r["email"] for r in rows] == ["same@example.org"]  # rejected ones wrote nothing
