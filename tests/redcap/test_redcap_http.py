"""The client against a scripted loopback server: retries, strict answers, error mapping."""

from __future__ import annotations

import json
import socket
from datetime import datetime

import pytest
from redcap_scripted import TOKEN, Answer, ScriptedServer

from recruit_cli.errors import (
    RedcapBadAnswer,
    RedcapError,
    RedcapNotFound,
    RedcapTokenRejected,
    RedcapUnavailable,
)
from recruit_cli.exit_codes import ExitCode
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff

HTML = "<!DOCTYPE html><html><head><title>Log in</title></head><body>REDCap</body></html>"


def test_transient_503_is_retried_then_succeeds(
    server: ScriptedServer, client: RedcapClient
) -> None:
    server.queue(Answer(503, "busy"), Answer(200, '[{"record_id": "1", "age": "30"}]'))
    rows = client.export_records(fields=["record_id", "age"])
    assert rows == [{"record_id": "1", "age": "30"}]
    assert client.calls == 2


def test_retry_after_is_honoured_and_capped(
    server: ScriptedServer, redcap_log: pytest.LogCaptureFixture
) -> None:
    server.queue(
        Answer(429, "slow down", headers={"Retry-After": "0.2"}),
        Answer(503, "busy", headers={"Retry-After": "3600"}),
        Answer(200, "[]"),
    )
    backoff = Backoff(base=0.001, max_wait=0.25)
    with RedcapClient(server.url, TOKEN, backoff=backoff) as client:
        assert client.export_records() == []
    waits = [r.getMessage() for r in redcap_log.records if "retrying in" in r.getMessage()]
    assert "HTTP 429" in waits[0] and "retrying in 0.2s" in waits[0]
    assert "HTTP 503" in waits[1] and "retrying in 0.25s" in waits[1]  # capped at max_wait


def test_retry_after_as_an_http_date_is_honoured(
    server: ScriptedServer, redcap_log: pytest.LogCaptureFixture
) -> None:
    server.queue(
        # A date long past: "now" (no wait); one far ahead: the cap.
        Answer(503, "busy", headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        Answer(503, "busy", headers={"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}),
        Answer(200, "[]"),
    )
    with RedcapClient(server.url, TOKEN, backoff=Backoff(base=5.0, max_wait=0.25)) as client:
        assert client.export_records() == []
    waits = [r.getMessage() for r in redcap_log.records if "retrying in" in r.getMessage()]
    assert "retrying in 0s" in waits[0] and "retrying in 0.25s" in waits[1]


def test_exhausted_retries_are_service_unavailable(
    server: ScriptedServer, client: RedcapClient
) -> None:
    server.queue(Answer(502, "bad gateway"))
    with pytest.raises(RedcapUnavailable) as info:
        client.export_metadata()
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert "127.0.0.1" in str(info.value) and "content=metadata" in str(info.value)
    assert "HTTP 502" in str(info.value)
    assert client.calls == 3


def test_connection_refused_is_service_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RedcapClient(
        f"http://127.0.0.1:{port}/api/", TOKEN, backoff=Backoff(attempts=2, base=0.001)
    )
    with pytest.raises(RedcapUnavailable, match="could not connect"):
        client.export_project_info()
    assert client.calls == 2


def test_a_hanging_server_times_out(server: ScriptedServer) -> None:
    server.queue(Answer(200, "[]", delay=1.0))
    client = RedcapClient(server.url, TOKEN, timeout=0.1, backoff=Backoff(attempts=1))
    with pytest.raises(RedcapUnavailable, match=r"no answer within 0.1s"):
        client.export_metadata()


def test_403_is_token_rejected_and_not_retried(
    server: ScriptedServer, client: RedcapClient
) -> None:
    server.queue(Answer(403, '{"error": "You do not have permissions to use the API"}'))
    with pytest.raises(RedcapTokenRejected) as info:
        client.export_project_info()
    message = str(info.value)
    assert message.startswith("REDCap rejected the API token (403): check REDCAP_API_TOKEN")
    assert "You do not have permissions to use the API" in message
    assert info.value.exit_code == ExitCode.CONFIG
    assert client.calls == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"error": "The value of filterLogic is invalid"}', "The value of filterLogic"),
        (
            '<?xml version="1.0" encoding="UTF-8" ?><hash><error>Field age unknown</error></hash>',
            "Field age unknown",
        ),
        ("ERROR: plain text complaint", "ERROR: plain text complaint"),
    ],
)
def test_400_carries_redcaps_own_text(
    server: ScriptedServer, client: RedcapClient, body: str, expected: str
) -> None:
    server.queue(Answer(400, body))
    with pytest.raises(RedcapError) as info:
        client.export_records(filter_logic="[age] >")
    assert expected in str(info.value)
    assert info.value.status == 400
    assert not isinstance(info.value, RedcapTokenRejected)
    assert info.value.exit_code == ExitCode.REFUSED  # REDCap said no: 7, never 1 (a bug)
    assert client.calls == 1


def test_long_error_text_is_truncated(server: ScriptedServer, client: RedcapClient) -> None:
    server.queue(Answer(400, json.dumps({"error": "x" * 5000})))
    with pytest.raises(RedcapError) as info:
        client.export_records()
    assert len(str(info.value)) < 400


def test_404_html_page_points_at_the_url(server: ScriptedServer, client: RedcapClient) -> None:
    server.queue(Answer(404, HTML, content_type="text/html"))
    with pytest.raises(
        RedcapNotFound, match=r"HTTP 404 Not Found at /.*check \[redcap\] url"
    ) as info:
        client.export_records()
    assert info.value.exit_code == ExitCode.CONFIG  # the URL in the configuration is wrong


def test_200_html_is_an_error(server: ScriptedServer, client: RedcapClient) -> None:
    server.queue(Answer(200, HTML, content_type="text/html"))
    with pytest.raises(RedcapError, match=r"HTML, not JSON: is the URL the API endpoint"):
        client.export_records()


@pytest.mark.parametrize("body", ["", "{not json", "garbage", "[1, 2"])
def test_200_non_json_is_an_error(server: ScriptedServer, client: RedcapClient, body: str) -> None:
    server.queue(Answer(200, body))
    with pytest.raises(RedcapError, match="not JSON"):
        client.export_records()


def test_200_with_error_object_is_an_error(server: ScriptedServer, client: RedcapClient) -> None:
    server.queue(Answer(200, '{"error": "Invalid field names"}'))
    with pytest.raises(RedcapError, match="Invalid field names"):
        client.export_metadata()


@pytest.mark.parametrize("body", ['{"record_id": "1"}', '["a", "b"]', "42"])
def test_200_json_of_the_wrong_shape_is_an_error(
    server: ScriptedServer, client: RedcapClient, body: str
) -> None:
    # JSON, but not rows: a malformed answer (exit 4), not REDCap saying no (exit 7).
    server.queue(Answer(200, body))
    with pytest.raises(RedcapBadAnswer, match=r"not a list of rows|not an object"):
        client.export_records()


def test_export_records_sends_pycap_style_parameters(
    server: ScriptedServer, client: RedcapClient
) -> None:
    client.export_records(
        records=["3", "4"],
        fields=["record_id", "age"],
        forms=["screening_survey"],
        filter_logic="[age] >= 18",
        date_range_begin=datetime(2024, 5, 1, 8, 30),
        date_range_end="2024-06-01 00:00:00",
    )
    sent = server.requests[-1]
    assert sent["token"] == TOKEN
    assert sent["content"] == "record" and sent["action"] == "export"
    assert sent["format"] == "json" and sent["type"] == "flat"
    assert sent["returnFormat"] == "json"
    assert (sent["records[0]"], sent["records[1]"]) == ("3", "4")
    assert (sent["fields[0]"], sent["fields[1]"]) == ("record_id", "age")
    assert sent["forms[0]"] == "screening_survey"
    assert sent["filterLogic"] == "[age] >= 18"
    assert sent["dateRangeBegin"] == "2024-05-01 08:30:00"
    assert sent["dateRangeEnd"] == "2024-06-01 00:00:00"


def test_import_sends_json_and_checks_the_count(
    server: ScriptedServer, client: RedcapClient
) -> None:
    rows = [{"record_id": "1", "x": "a"}, {"record_id": "2", "x": "b"}]
    server.queue(Answer(200, '{"count": 2}'), Answer(200, '{"count": 1}'))
    assert client.import_records(rows, overwrite=True) == 2
    sent = server.requests[-1]
    assert json.loads(sent["data"]) == rows
    assert sent["overwriteBehavior"] == "overwrite"
    assert sent["returnContent"] == "count" and sent["forceAutoNumber"] == "false"
    with pytest.raises(RedcapError, match="imported 1 records but 2 were sent"):
        client.import_records(rows)
    assert server.requests[-1]["overwriteBehavior"] == "normal"


def test_import_counts_distinct_record_ids(server: ScriptedServer) -> None:
    rows = [{"pid": "7", "a": "1"}, {"pid": "7", "b": "2"}, {"pid": "8", "a": "3"}]
    server.queue(Answer(200, '{"count": 2}'))
    client = RedcapClient(server.url, TOKEN, record_id_field="pid")
    assert client.import_records(rows) == 2
    assert client.import_records([]) == 0  # nothing to send: no call
    assert client.calls == 1


def test_imports_are_retried(server: ScriptedServer, client: RedcapClient) -> None:
    server.queue(Answer(504, "gateway timeout"), Answer(200, '{"count": 1}'))
    assert client.import_records([{"record_id": "1", "x": "a"}]) == 1
    assert client.calls == 2


def test_auto_number_and_metadata_imports_are_never_retried(
    server: ScriptedServer, client: RedcapClient
) -> None:
    server.queue(Answer(503, "busy"))
    with pytest.raises(RedcapUnavailable, match="tried once"):
        client.import_records([{"record_id": "new", "x": "a"}], force_auto_number=True)
    assert server.requests[-1]["forceAutoNumber"] == "true"
    with pytest.raises(RedcapUnavailable, match="tried once"):
        client.import_metadata([{"field_name": "record_id"}])
    assert client.calls == 2


def test_metadata_import_count_is_checked(server: ScriptedServer, client: RedcapClient) -> None:
    server.queue(Answer(200, "2"), Answer(200, "1"))
    rows = [{"field_name": "record_id"}, {"field_name": "age"}]
    assert client.import_metadata(rows) == 2
    with pytest.raises(RedcapError, match="imported 1 fields but 2 were sent"):
        client.import_metadata(rows)


def test_logging_parameters(server: ScriptedServer, client: RedcapClient) -> None:
    server.queue(Answer(200, '[{"timestamp": "2024-01-01 10:00", "action": "Update record 1"}]'))
    rows = client.export_logging(
        log_type="record", record="1", begin_time=datetime(2024, 1, 1, 9, 0)
    )
    assert rows[0]["action"] == "Update record 1"
    sent = server.requests[-1]
    assert (sent["content"], sent["logtype"], sent["record"]) == ("log", "record", "1")
    assert sent["beginTime"] == "2024-01-01 09:00"


def test_project_info_values_become_strings(server: ScriptedServer, client: RedcapClient) -> None:
    server.queue(Answer(200, '{"project_id": 12, "secondary_unique_field": null, "x": true}'))
    info = client.export_project_info()
    assert info == {"project_id": "12", "secondary_unique_field": "", "x": "1"}
