"""Every malformed request gets a 4xx in REDCap's error shape, and never writes anything."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests

from recruit_cli.sandbox import Sandbox

Api = Callable[..., requests.Response]


def records(api: Api, sb: Sandbox) -> list[dict[str, str]]:
    resp = api(sb, content="record", format="json")
    assert resp.status_code == 200
    rows: list[dict[str, str]] = resp.json()
    return rows


def test_wrong_token_is_403_in_every_format(sandbox: Sandbox) -> None:
    base = {"content": "record", "token": "0" * 32}
    resp = requests.post(sandbox.url, data={**base, "format": "json"}, timeout=10)
    assert resp.status_code == 403
    assert resp.json() == {"error": "You do not have permissions to use the API"}
    resp = requests.post(sandbox.url, data={**base, "format": "csv"}, timeout=10)
    assert resp.text == "ERROR: You do not have permissions to use the API"
    resp = requests.post(sandbox.url, data=base, timeout=10)  # no format: xml
    assert resp.status_code == 403
    assert "<error>You do not have permissions to use the API</error>" in resp.text
    assert requests.post(sandbox.url, data={"content": "version"}, timeout=10).status_code == 403


def test_token_is_case_insensitive(sandbox: Sandbox, api: Api) -> None:
    resp = requests.post(
        sandbox.url, data={"token": sandbox.token.lower(), "content": "version"}, timeout=10
    )
    assert resp.status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"content": "nonsense"}, 'The value of the parameter "content" is not valid'),
        ({}, 'The value of the parameter "content" is not valid'),
        (
            {"content": "record", "format": "yaml"},
            'The value of the parameter "format" is not valid',
        ),
        ({"content": "record", "format": "json", "type": "wide"}, '"type" is not valid'),
        ({"content": "record", "format": "json", "rawOrLabel": "x"}, '"rawOrLabel" is not valid'),
        ({"content": "record", "format": "json", "exportCheckboxLabel": "maybe"}, "not valid"),
        ({"content": "record", "format": "json", "action": "rename"}, '"action" is not valid'),
        ({"content": "record", "format": "json", "dateRangeBegin": "last week"}, "dateRangeBegin"),
        ({"content": "log", "format": "json", "logtype": "everything"}, '"logtype" is not valid'),
        ({"content": "log", "format": "json", "beginTime": "2024-99-01"}, '"beginTime"'),
        ({"content": "file", "format": "json"}, "does not implement content=file"),
        ({"content": "event", "format": "json"}, "You cannot export events for classic projects"),
        (
            {"content": "record", "format": "json", "fields": "age,nope,zilch"},
            "The following values in the parameter \"fields\" are not valid: 'nope', 'zilch'",
        ),
        (
            {"content": "record", "format": "json", "forms[0]": "nope"},
            "The following values in the parameter \"forms\" are not valid: 'nope'",
        ),
        (
            {"content": "exportFieldNames", "format": "json", "field": "nope"},
            "The following values in the parameter \"field\" are not valid: 'nope'",
        ),
        ({"content": "record", "format": "xml"}, "does not export format=xml"),
    ],
)
def test_bad_requests_are_400_with_redcap_message(
    sandbox: Sandbox, api: Api, params: dict[str, str], message: str
) -> None:
    resp = api(sandbox, returnFormat="json", **params)
    assert resp.status_code == 400
    assert message in resp.json()["error"]


@pytest.mark.parametrize(
    "logic", ["[age] >", "[age] = '1' and", "([age] > 3", "[age] === 2", "nonsense(", "[age"]
)
def test_malformed_filter_logic_is_400(demo_sandbox: Sandbox, api: Api, logic: str) -> None:
    resp = api(demo_sandbox, content="record", format="json", filterLogic=logic)
    assert resp.status_code == 400
    assert 'The value of the parameter "filterLogic" is not valid' in resp.json()["error"]


def test_filter_logic_on_an_unknown_field_is_400(demo_sandbox: Sandbox, api: Api) -> None:
    resp = api(demo_sandbox, content="record", format="json", filterLogic="[shoe_size] > 3")
    assert resp.status_code == 400
    assert "shoe_size" in resp.json()["error"]


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("json", "[{'record_id': 1}]"),
        ("json", '{"record_id": "1"}'),
        ("json", '[{"record_id": "1", "age": {"nested": 1}}]'),
        ("json", "[1, 2]"),
        ("csv", "record_id,age\n1,30,extra\n"),
        ("csv", ""),
        ("xml", "<records/>"),
    ],
)
def test_broken_data_is_400_and_writes_nothing(
    sandbox: Sandbox, api: Api, fmt: str, data: str
) -> None:
    resp = api(sandbox, content="record", format=fmt, returnFormat="json", data=data)
    assert resp.status_code == 400
    assert resp.json()["error"]
    assert records(api, sandbox) == []


def test_unknown_import_field_is_400_and_writes_nothing(sandbox: Sandbox, api: Api) -> None:
    data = [{"record_id": "1", "age": "30"}, {"record_id": "2", "shoe": "9", "hat": "7"}]
    resp = api(sandbox, content="record", format="json", data=json.dumps(data))
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "The following fields were not found in the project as real data fields: shoe, hat"
    }
    assert records(api, sandbox) == []


def test_validation_failures_are_csv_lines_and_nothing_is_written(
    test_sandbox: Sandbox, api: Api
) -> None:
    good = {"record_id": "1", "age": "30", "email": "a@example.org"}
    bad = [
        good,
        {"record_id": "2", "age": "abc", "color": "3"},
        {"record_id": "3", "age": "121", "dob": "2024-02-30", "weight": "1,5"},
        {"record_id": "4", "email": "not-an-address", "consent": "yes", "symptoms___1": "2"},
    ]
    resp = api(test_sandbox, content="record", format="json", data=json.dumps(bad))
    assert resp.status_code == 400
    lines = resp.json()["error"].split("\n")
    fmt = (
        "The value you provided could not be validated because it does not follow the "
        "expected format. Please try again."
    )
    assert lines[0] == f'"2","age","abc","{fmt}"'
    assert lines[1] == '"2","color","3","The value is not a valid category for color"'
    # age 121 is above the field's max of 120: soft, so no line for it (test_shapes.py).
    assert lines[2] == f'"3","weight","1,5","{fmt}"'
    assert lines[3] == f'"3","dob","2024-02-30","{fmt}"'
    assert lines[4] == f'"4","email","not-an-address","{fmt}"'
    assert lines[5] == '"4","consent","yes","The value is not a valid category for consent"'
    assert lines[6].startswith('"4","symptoms___1","2",')
    assert len(lines) == 7
    assert records(api, test_sandbox) == []


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("a@example.org", True),
        ("a@xn--bcher-kva.de", True),
        ("jo..e@example.org", False),
        ("a@exa_mple.com", False),
        ("josé@example.org", False),
        (" a@example.org", False),
        ("a@lab.test", False),
    ],
)
def test_email_validation_is_recruits_definition_with_redcaps_message(
    test_sandbox: Sandbox, api: Api, value: str, accepted: bool
) -> None:
    # The sandbox stores only addresses recruit can send to (recruit_cli.address), and
    # refuses the rest as REDCap refuses a value that fails its field's validation.
    row = {"record_id": "1", "email": value}
    resp = api(test_sandbox, content="record", format="json", data=json.dumps([row]))
    if accepted:
        assert resp.status_code == 200, resp.text
        assert [r["email"] for r in records(api, test_sandbox)] == [value]
        return
    assert resp.status_code == 400
    fmt = (
        "The value you provided could not be validated because it does not follow the "
        "expected format. Please try again."
    )
    assert resp.json()["error"] == f'"1","email","{value}","{fmt}"'
    assert records(api, test_sandbox) == []


def test_unique_field_collision_is_rejected(test_sandbox: Sandbox, api: Api) -> None:
    first = [{"record_id": "1", "email": "a@example.org"}]
    assert api(test_sandbox, content="record", format="json", data=json.dumps(first)).ok
    clash = [
        {"record_id": "2", "email": "b@example.org", "age": "5"},
        {"record_id": "3", "email": "a@example.org"},
    ]
    resp = api(test_sandbox, content="record", format="json", data=json.dumps(clash))
    assert resp.status_code == 400
    assert resp.json()["error"].startswith('"3","email","a@example.org","This value is already')
    assert [r["record_id"] for r in records(api, test_sandbox)] == ["1"]
    within = [
        {"record_id": "5", "email": "c@example.org"},
        {"record_id": "6", "email": "c@example.org"},
    ]
    assert (
        api(test_sandbox, content="record", format="json", data=json.dumps(within)).status_code
        == 400
    )
    # the same record keeping its own value is fine
    again = [{"record_id": "1", "email": "a@example.org", "age": "9"}]
    assert api(test_sandbox, content="record", format="json", data=json.dumps(again)).ok


def test_delete_of_an_unknown_record_is_400_and_deletes_nothing(sandbox: Sandbox, api: Api) -> None:
    data = json.dumps([{"record_id": "1"}, {"record_id": "2"}])
    api(sandbox, content="record", format="json", data=data)
    resp = api(
        sandbox,
        content="record",
        action="delete",
        returnFormat="json",
        **{"records[0]": "1", "records[1]": "77", "records[2]": "78"},
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == (
        "One or more of the records provided cannot be deleted because they do not exist in "
        "the project. The following records do not exist: 77, 78"
    )
    assert [r["record_id"] for r in records(api, sandbox)] == ["1", "2"]
    empty = api(sandbox, content="record", action="delete", returnFormat="json")
    assert empty.status_code == 400


def test_missing_record_id_and_blank_record_id(sandbox: Sandbox, api: Api) -> None:
    resp = api(sandbox, content="record", format="json", data='[{"age": "3"}]')
    assert resp.status_code == 400
    assert "record_id" in resp.json()["error"]
    resp = api(sandbox, content="record", format="json", data='[{"record_id": " ", "age": "3"}]')
    assert resp.status_code == 400
    assert records(api, sandbox) == []


def test_bad_metadata_import_is_400_and_keeps_the_dictionary(sandbox: Sandbox, api: Api) -> None:
    before = api(sandbox, content="metadata", format="json").json()
    for rows in (
        [{"field_name": "Bad Name", "form_name": "f", "field_type": "text"}],
        [{"field_name": "a", "form_name": "f", "field_type": "teleport"}],
        [{"field_name": "a", "form_name": "f", "field_type": "radio"}],
        [],
    ):
        resp = api(sandbox, content="metadata", format="json", data=json.dumps(rows))
        assert resp.status_code == 400, rows
    assert api(sandbox, content="metadata", format="json").json() == before


def test_get_and_other_paths(sandbox: Sandbox) -> None:
    assert requests.get(sandbox.url, timeout=10).status_code == 405
    other = sandbox.url.replace("/api/", "/nope/")
    assert requests.post(other, data={"token": sandbox.token}, timeout=10).status_code == 404


def test_client_mistakes_never_get_a_500(test_sandbox: Sandbox, api: Api) -> None:
    odd: list[dict[str, str]] = [
        {"content": "record", "format": "json", "data": "[{}]"},
        {"content": "record", "format": "json", "data": '[{"record_id": ""}]'},
        {"content": "record", "format": "json", "type": "eav", "data": '[{"record": "1"}]'},
        {"content": "record", "format": "json", "type": "eav",
         "data": '[{"record": "1", "field_name": "nope", "value": "1"}]'},
        {"content": "record", "format": "csv", "data": '"unterminated\n1,2'},
        {"content": "record", "format": "csv", "data": "record_id,record_id\n1,2\n"},
        {"content": "record", "format": "json", "dateFormat": "MDY",
         "data": '[{"record_id": "1", "dob": "99/99/2020"}]'},
        {"content": "record", "format": "json", "forceAutoNumber": "yes", "data": "[]"},
        {"content": "record", "format": "json", "records": ",,,"},
        {"content": "record", "format": "json", "filterLogic": "[symptoms(7)] = '1'"},
        {"content": "record", "format": "json", "filterLogic": "datediff([dob], 'today', 'y') > 1"},
        {"content": "record", "format": "json", "dateRangeEnd": "2024-02-30 10:00"},
        {"content": "metadata", "format": "json", "data": '[{"field_name": 3}]'},
        {"content": "metadata", "format": "csv", "data": "field_name\n"},
        {"content": "metadata", "format": "json", "data": '[{"field_name": {"a": 1}}]'},
        {"content": "log", "format": "csv", "endTime": "tomorrow"},
        {"content": "record", "action": "delete", "records[0]": ""},
        {"content": "%%%", "format": "%%%", "returnFormat": "%%%"},
    ]  # fmt: skip
    for params in odd:
        resp = api(test_sandbox, **params)
        assert 200 <= resp.status_code < 500, (params, resp.status_code, resp.text[:200])
    raw = requests.post(
        test_sandbox.url,
        data=b"\xff\xfe garbage",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert 400 <= raw.status_code < 500
    broken = requests.post(
        test_sandbox.url,
        data=b"--x\r\nnonsense",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        timeout=10,
    )
    assert 400 <= broken.status_code < 500
