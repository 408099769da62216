"""The one write path (``redcap.writes.RecordWriter``) against the sandbox.

What it refuses, it refuses before any request; what REDCap refuses is isolated to the
records at fault, with REDCap's words, and the others are written.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recruit_cli.errors import ProjectMismatch, UnsafeWrite
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.redcap.writes import RecordWriter
from recruit_cli.retry import Backoff
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.settings import FieldMap

STATUS = "pipeline_processing_status"
FIELDS = FieldMap()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[RedcapClient]:
    with RedcapClient(
        sandbox.url, sandbox.token, backoff=Backoff(attempts=1), record_id_field="record_id"
    ) as c:
        c.import_records([{"record_id": str(i), "age": "30"} for i in range(1, 8)])
        yield c


def statuses(client: RedcapClient) -> dict[str, str]:
    return {r["record_id"]: r[STATUS] for r in client.export_records(fields=[STATUS])}


def rows(*ids: str, status: str = "eligible") -> list[dict[str, str]]:
    return [{"record_id": rid, STATUS: status} for rid in ids]


def test_a_row_for_a_record_the_pass_did_not_read_raises_before_any_request(
    client: RedcapClient,
) -> None:
    writer = RecordWriter(client, FIELDS, read={"1", "2"}, batch_size=100)
    calls = client.calls
    with pytest.raises(UnsafeWrite, match="record '99', which this pass did not read"):
        writer.write(rows("1", "99"), overwrite=True)
    assert client.calls == calls  # nothing was sent, not even the good row
    assert "99" not in statuses(client) and statuses(client)["1"] == ""


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"record_id": "1", "age": "31"}, "holds age, which recruit never writes"),
        ({"record_id": "1", "pipeline_safety_acknowledged": "1"}, "pipeline_safety_ack"),
        ({"record_id": "1", "participant_email": "x@example.org"}, "participant_email"),
        ({STATUS: "eligible"}, "has no record_id"),
    ],
)
def test_a_row_with_anything_but_pipeline_fields_raises_before_any_request(
    client: RedcapClient, row: dict[str, str], expected: str
) -> None:
    writer = RecordWriter(client, FIELDS, read={"1"}, batch_size=100)
    calls = client.calls
    with pytest.raises(UnsafeWrite, match=expected):
        writer.write([row], overwrite=True)
    assert client.calls == calls


def test_two_rows_for_one_record_raise(client: RedcapClient) -> None:
    writer = RecordWriter(client, FIELDS, read={"1"}, batch_size=100)
    with pytest.raises(UnsafeWrite, match="repeats record '1'"):
        writer.write(rows("1", "1"), overwrite=True)


def test_a_locked_record_is_refused_alone_with_redcaps_reason(
    sandbox: Sandbox, client: RedcapClient
) -> None:
    ids = [str(i) for i in range(1, 8)]
    sandbox.set_faults("locked=5")
    writer = RecordWriter(client, FIELDS, read=ids, batch_size=100)
    out = writer.write(rows(*ids), overwrite=True)
    assert sorted(out.written) == ["1", "2", "3", "4", "6", "7"]
    assert list(out.refused) == ["5"]
    assert "locked and cannot be modified: 5" in out.refused["5"]
    assert not out.all_refused and not out.retried
    held = statuses(client)
    assert [rid for rid in ids if held[rid] == "eligible"] == ["1", "2", "3", "4", "6", "7"]
    assert held["5"] == ""
    # 1 refused batch of 7, then halves of 3 and 4, then down to the one record.
    assert out.calls == 7 and writer.written == list(out.written)


def test_rows_go_in_batches_of_batch_size(client: RedcapClient) -> None:
    ids = [str(i) for i in range(1, 8)]
    out = RecordWriter(client, FIELDS, read=ids, batch_size=3).write(rows(*ids), overwrite=False)
    assert out.calls == 3 and len(out.written) == 7 and not out.refused


def test_every_record_refused_is_told_as_such(sandbox: Sandbox, client: RedcapClient) -> None:
    sandbox.set_faults("locked=1,locked=2")
    out = RecordWriter(client, FIELDS, read={"1", "2"}, batch_size=10).write(
        rows("1", "2"), overwrite=True
    )
    assert out.all_refused and set(out.refused) == {"1", "2"}


def test_a_field_the_project_lacks_is_raised_not_bisected() -> None:
    metadata = [r for r in DEMO_METADATA if r["field_name"] != STATUS]
    with (
        run_sandbox(metadata=metadata) as sb,
        RedcapClient(sb.url, sb.token, backoff=Backoff(attempts=1)) as c,
    ):
        c.import_records([{"record_id": "1"}, {"record_id": "2"}])
        calls = c.calls
        with pytest.raises(ProjectMismatch):
            RecordWriter(c, FIELDS, read={"1", "2"}, batch_size=10).write(
                rows("1", "2"), overwrite=True
            )
        assert c.calls == calls + 1
