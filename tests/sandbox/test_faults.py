"""Fault injection: each kind, the grammar, and that drop-after-commit really commits."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import requests

from recruit_cli.errors import UsageError
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.faults import Faults, parse_faults

Api = Callable[..., requests.Response]


def version(api: Api, sb: Sandbox) -> int:
    return api(sb, content="version").status_code


def test_nth_request_fails(sandbox: Sandbox, api: Api) -> None:
    sandbox.set_faults("500@2,502@4")
    assert [version(api, sandbox) for _ in range(5)] == [200, 500, 200, 502, 200]


def test_503_carries_retry_after(sandbox: Sandbox, api: Api) -> None:
    sandbox.set_faults("503@1,retry-after=3")
    resp = api(sandbox, content="version")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "3"
    assert version(api, sandbox) == 200


def test_fraction_is_reproducible_with_a_seed(sandbox: Sandbox, api: Api) -> None:
    sandbox.set_faults("503:0.3,seed=11")
    first = [version(api, sandbox) for _ in range(60)]
    sandbox.set_faults("503:0.3,seed=11")
    assert [version(api, sandbox) for _ in range(60)] == first
    assert 5 < first.count(503) < 35
    sandbox.set_faults("")
    assert all(version(api, sandbox) == 200 for _ in range(10))


def test_failed_request_applies_nothing(sandbox: Sandbox, api: Api) -> None:
    sandbox.set_faults("500@1")
    data = json.dumps([{"record_id": "1"}])
    assert api(sandbox, content="record", format="json", data=data).status_code == 500
    assert api(sandbox, content="record", format="json").json() == []


def test_a_locked_record_refuses_every_import_that_touches_it(sandbox: Sandbox, api: Api) -> None:
    two = json.dumps([{"record_id": "1", "age": "30"}, {"record_id": "2", "age": "40"}])
    assert api(sandbox, content="record", format="json", data=two).status_code == 200
    sandbox.set_faults("locked=2")
    both = json.dumps([{"record_id": "1", "age": "31"}, {"record_id": "2", "age": "41"}])
    refused = api(sandbox, content="record", format="json", data=both)
    assert refused.status_code == 400
    assert refused.json() == {"error": "The following records are locked and cannot be modified: 2"}
    one = json.dumps([{"record_id": "1", "age": "32"}])
    assert api(sandbox, content="record", format="json", data=one).status_code == 200
    rows = api(sandbox, content="record", format="json", fields="record_id,age").json()
    assert rows == [{"record_id": "1", "age": "32"}, {"record_id": "2", "age": "40"}]


def test_drop_after_commit_applies_the_write(sandbox: Sandbox, api: Api) -> None:
    sandbox.set_faults("drop-after-commit@1")
    assert version(api, sandbox) == 200  # reads are never dropped
    data = json.dumps([{"record_id": "1", "age": "30"}])
    with pytest.raises(requests.ConnectionError):
        api(sandbox, content="record", format="json", data=data)
    rows = api(sandbox, content="record", format="json", fields="record_id,age").json()
    assert rows == [{"record_id": "1", "age": "30"}]
    # Only the first write was struck: the retry gets its answer.
    assert api(sandbox, content="record", format="json", data=data).json() == {"count": 1}


def test_drop_after_commit_applies_a_delete(sandbox: Sandbox, api: Api) -> None:
    data = json.dumps([{"record_id": "1"}, {"record_id": "2"}])
    assert api(sandbox, content="record", format="json", data=data).json() == {"count": 2}
    sandbox.set_faults("drop-after-commit@1")
    with pytest.raises(requests.ConnectionError):
        api(sandbox, content="record", action="delete", returnFormat="json", **{"records[0]": "1"})
    rows = api(sandbox, content="record", format="json", fields="record_id").json()
    assert rows == [{"record_id": "2"}]


def test_rejected_write_is_not_dropped(sandbox: Sandbox, api: Api) -> None:
    sandbox.set_faults("drop-after-commit:1")
    bad = json.dumps([{"record_id": "1", "nope": "x"}])
    assert api(sandbox, content="record", format="json", data=bad).status_code == 400


def test_drop_before_processing(sandbox: Sandbox, api: Api) -> None:
    sandbox.set_faults("drop@1")
    with pytest.raises(requests.ConnectionError):
        api(sandbox, content="record", format="json", data=json.dumps([{"record_id": "1"}]))
    assert api(sandbox, content="record", format="json").json() == []


def test_delay_makes_a_client_time_out_after_the_work_is_done(sandbox: Sandbox) -> None:
    sandbox.set_faults("delay=0.6")
    data = {"token": sandbox.token, "content": "record", "format": "json"}
    with pytest.raises(requests.Timeout):
        requests.post(sandbox.url, data={**data, "data": '[{"record_id": "1"}]'}, timeout=0.2)
    sandbox.set_faults(None)
    time.sleep(0.6)
    assert requests.post(sandbox.url, data=data, timeout=5).json()[0]["record_id"] == "1"


def test_faults_from_the_environment(monkeypatch: pytest.MonkeyPatch, api: Api) -> None:
    monkeypatch.setenv("RECRUIT_SANDBOX_FAULTS", "502@1")
    with run_sandbox() as sb:
        assert [version(api, sb) for _ in range(2)] == [502, 200]


@pytest.mark.parametrize(
    "spec",
    ["418@1", "500@0", "503:1.5", "delay=abc", "drop-after-commit", "seed=x", "hello", "500:"],
)
def test_bad_specs_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError, match="fault"):
        parse_faults(spec)


def test_grammar() -> None:
    spec = parse_faults(" 500@3, 503:0.1 ,delay:0.2=1.5,drop-after-commit:0.1,seed=4,retry-after=0")
    kinds = [(r.kind, r.nth, r.probability, r.status, r.seconds) for r in spec.rules]
    assert kinds == [
        ("status", 3, 0.0, 500, 0.0),
        ("status", None, 0.1, 503, 0.0),
        ("delay", None, 0.2, 0, 1.5),
        ("drop-after-commit", None, 0.1, 0, 0.0),
    ]
    assert (spec.seed, spec.retry_after) == (4, 0)
    faults = Faults()
    faults.set("delay=2")
    assert faults.decide().delay == 2.0
