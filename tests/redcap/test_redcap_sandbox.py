"""The client against the real sandbox over loopback: every call, and faults injected."""

from __future__ import annotations

import pytest

from recruit_cli.errors import RedcapError, RedcapTokenRejected, RedcapUnavailable
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff
from recruit_cli.sandbox import Sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA

ROWS = [
    {"record_id": "1", "age": "34", "travel": "1", "participant_email": "a@example.org"},
    {"record_id": "2", "age": "17", "travel": "0", "participant_email": "b@example.org"},
    {"record_id": "3", "age": "abc", "travel": "1", "participant_email": ""},
]


def fast(sb: Sandbox, **kwargs: object) -> RedcapClient:
    options: dict[str, object] = {"backoff": Backoff(attempts=3, base=0.001, max_wait=0.01)}
    options.update(kwargs)
    return RedcapClient(sb.url, sb.token, **options)  # type: ignore[arg-type]


def test_project_info(sandbox: Sandbox) -> None:
    client = fast(sandbox)
    info = client.export_project_info()
    assert info["secondary_unique_field"] == ""
    assert info["is_longitudinal"] == "0"  # every value a string
    assert client.calls == 1


def test_metadata_is_typed(sandbox: Sandbox) -> None:
    meta = {m.field_name: m for m in fast(sandbox).export_metadata()}
    assert meta["agree_participate"].field_type == "yesno"
    assert meta["agree_participate"].choices == {"1": "Yes", "0": "No"}
    assert set(meta["qids_12"].choices) == {"0", "1", "2", "3"}
    assert set(meta["preferred_language"].choices) == {"en", "es"}
    assert meta["booking_date"].validation == "date_ymd"
    assert meta["assigned_study_id"].validation == "integer"
    assert meta["age"].form_name == "screening_survey"
    only = fast(sandbox).export_metadata(fields=["age", "travel"])
    assert [m.field_name for m in only] == ["age", "travel"]
    by_form = fast(sandbox).export_metadata(forms=["staff_tracking"])
    assert {m.field_name for m in by_form} == {"do_not_contact", "booking_date"}


def test_import_then_export_round_trip(sandbox: Sandbox) -> None:
    client = fast(sandbox)
    assert client.import_records(ROWS) == 3
    rows = client.export_records(fields=["record_id", "age", "travel"])
    assert [(r["record_id"], r["age"], r["travel"]) for r in rows] == [
        ("1", "34", "1"),
        ("2", "17", "0"),
        ("3", "abc", "1"),
    ]
    assert [r["record_id"] for r in client.export_records(records=["2", "3"])] == ["2", "3"]
    adults = client.export_records(fields=["record_id"], filter_logic="[travel] = '1'")
    assert [r["record_id"] for r in adults] == ["1", "3"]


def test_overwrite_behaviour(sandbox: Sandbox) -> None:
    client = fast(sandbox)
    client.import_records(ROWS[:1])
    client.import_records([{"record_id": "1", "age": ""}])  # normal: blank keeps the value
    assert client.export_records(records=["1"], fields=["age"])[0]["age"] == "34"
    client.import_records([{"record_id": "1", "age": ""}], overwrite=True)
    assert client.export_records(records=["1"], fields=["age"])[0]["age"] == ""


def test_refused_import_carries_redcaps_message(sandbox: Sandbox) -> None:
    client = fast(sandbox)
    with pytest.raises(RedcapError) as info:
        client.import_records([{"record_id": "1", "no_such_field": "x"}])
    assert "no_such_field" in str(info.value)
    assert client.calls == 1  # a refusal is not retried
    assert client.export_records() == []


def test_bad_filter_logic_is_redcap_error(sandbox: Sandbox) -> None:
    with pytest.raises(RedcapError, match="nope"):
        fast(sandbox).export_records(filter_logic="[nope] = '1'")


def test_metadata_import(sandbox: Sandbox) -> None:
    client = fast(sandbox)
    assert client.import_metadata(DEMO_METADATA) == len(DEMO_METADATA)
    assert len(client.export_metadata()) == len(DEMO_METADATA)


def test_wrong_token_is_rejected(sandbox: Sandbox) -> None:
    client = RedcapClient(sandbox.url, "0" * 32, token_env="STUDY_TOKEN")
    with pytest.raises(RedcapTokenRejected, match=r"\(403\): check STUDY_TOKEN"):
        client.export_records()
    assert client.calls == 1


def test_demo_project_has_records(demo_sandbox: Sandbox) -> None:
    rows = fast(demo_sandbox).export_records(fields=["record_id", "age"])
    assert rows and all(set(r) >= {"record_id", "age"} for r in rows)


# ---- faults -------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["503@1", "429@1", "500@1", "drop@1"])
def test_a_transient_failure_is_retried(sandbox: Sandbox, fault: str) -> None:
    client = fast(sandbox)
    sandbox.set_faults(f"{fault},retry-after=0")
    assert client.import_records(ROWS) == 3
    assert client.calls == 2
    assert len(client.export_records()) == 3


def test_an_import_whose_answer_was_lost_is_safely_repeated(sandbox: Sandbox) -> None:
    client = fast(sandbox)
    sandbox.set_faults("drop-after-commit@1")
    assert client.import_records(ROWS) == 3  # applied, answer lost, applied again: same state
    assert client.calls == 2
    assert [r["age"] for r in client.export_records(fields=["age"])] == ["34", "17", "abc"]


def test_an_auto_numbered_import_is_not_repeated(sandbox: Sandbox) -> None:
    client = fast(sandbox)
    sandbox.set_faults("drop-after-commit@1")
    with pytest.raises(RedcapUnavailable, match="tried once"):
        client.import_records([{"record_id": "new", "age": "40"}], force_auto_number=True)
    sandbox.set_faults("")
    assert len(client.export_records()) == 1  # one record, not two


def test_persistent_failure_is_unavailable(sandbox: Sandbox) -> None:
    client = fast(sandbox)
    sandbox.set_faults("503:1,retry-after=0")
    with pytest.raises(RedcapUnavailable, match="content=record") as info:
        client.export_records()
    assert info.value.exit_code == 4
    assert client.calls == 3


def test_slow_sandbox_times_out(sandbox: Sandbox) -> None:
    client = fast(sandbox, timeout=0.1, backoff=Backoff(attempts=2, base=0.001, max_wait=0.01))
    sandbox.set_faults("delay=0.5")
    with pytest.raises(RedcapUnavailable, match="no answer within"):
        client.export_project_info()
