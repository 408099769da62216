"""The client's own checks, against the scripted server: the size cap when REDCap declares
a large answer up front, and the record export checks one by one."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from redcap_scripted import TOKEN, Answer, ScriptedServer

from recruit_cli.errors import RedcapBadAnswer
from recruit_cli.exit_codes import ExitCode
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff


@pytest.fixture
def checked(server: ScriptedServer) -> Iterator[RedcapClient]:
    """A client that knows the record id field (as every pass's client does)."""
    with RedcapClient(
        server.url, TOKEN, record_id_field="record_id", backoff=Backoff(attempts=1)
    ) as c:
        yield c


def test_an_answer_declared_larger_than_the_cap_is_refused_unread(
    server: ScriptedServer,
) -> None:
    rows = [{"record_id": str(i), "note": "x" * 100} for i in range(50)]  # about 6 KB
    server.queue(Answer(200, json.dumps(rows)))
    with (
        RedcapClient(server.url, TOKEN, max_response_mb=0.001) as small,
        pytest.raises(RedcapBadAnswer, match=r"more than 0\.001 MB \(\[redcap\] max_response_mb\)"),
    ):
        small.export_records()


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ([{"record_id": "1", "a": "x"}, {"record_id": "1", "a": "y"}], "rows 1 and 2 for one"),
        ([{"record_id": "1"}, {"record_id": "1"}], "rows 1 and 2 for one"),
        ([{"record_id": "1"}, {"record_id": "3"}], "row 2 for a record that was not asked"),
        ([{"record_id": "1"}, {"a": "x"}], "row 2 without its record id"),
        ([{"record_id": ""}], "row 1 without its record id"),
        ([{"record_id": "1", "a": None}], "field 'a': null, not text"),
        ([{"record_id": "1", "a": ["x"]}], "field 'a': a list, not text"),
        ([["1"]], "row 1 that is not an object (a list)"),
        ({"record_id": "1"}, "JSON that is not a list of rows (an object)"),
    ],
)
def test_an_export_that_is_not_what_was_asked_is_refused(
    server: ScriptedServer, checked: RedcapClient, rows: object, said: str
) -> None:
    server.queue(Answer(200, json.dumps(rows)))
    with pytest.raises(RedcapBadAnswer) as info:
        checked.export_records(records=["1", "2"], fields=["a"])
    assert said in str(info.value)
    assert info.value.exit_code == ExitCode.UNAVAILABLE


def test_rows_that_events_and_repeating_instances_tell_apart_are_accepted(
    server: ScriptedServer, checked: RedcapClient
) -> None:
    rows = [
        {"record_id": "1", "redcap_event_name": "baseline_arm_1", "redcap_repeat_instrument": ""},
        {"record_id": "1", "redcap_event_name": "week_4_arm_1", "redcap_repeat_instrument": ""},
        {
            "record_id": "1",
            "redcap_event_name": "week_4_arm_1",
            "redcap_repeat_instrument": "ae",
            "redcap_repeat_instance": "1",
        },
        {
            "record_id": "1",
            "redcap_event_name": "week_4_arm_1",
            "redcap_repeat_instrument": "ae",
            "redcap_repeat_instance": "2",
        },
    ]
    server.queue(Answer(200, json.dumps(rows)))
    assert checked.export_records(records=["1"]) == rows
