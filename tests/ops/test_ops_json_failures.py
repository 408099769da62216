"""--json: stdout carries one JSON document even when the command fails (issue 14).

A script reading ``recruit invite --record 999999 --json`` used to get nothing on stdout
and had to scrape stderr; now it gets the envelope with ``ok: false`` and the error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ops_support import write_study

from recruit_cli.cli.main import run
from recruit_cli.lock import lock_name, run_lock
from recruit_cli.sandbox import Sandbox
from recruit_cli.sandbox.project import PROJECT_ID


@pytest.fixture
def config(sandbox: Sandbox, tmp_path: Path) -> Path:
    return write_study(tmp_path, sandbox.url, sandbox.token)


def _envelope(out: str) -> dict[str, object]:
    document = json.loads(out)  # exactly one document, nothing else on stdout
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize(
    ("args", "code", "kind", "message"),
    [
        (["invite", "--record", "999999", "--json"], 2, "UsageError", "record 999999 not found"),
        (["invite", "--bogus", "--json"], 2, "UsageError", "No such option: --bogus"),
        (["report", "--week", "soon", "--json"], 2, "UsageError", "--week: expected an ISO"),
    ],
)
def test_a_failing_command_still_prints_its_envelope(
    config: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    kind: str,
    message: str,
) -> None:
    assert run(["-c", str(config), *args]) == code
    out, err = capsys.readouterr()
    envelope = _envelope(out)
    assert envelope["schema"] == "recruit.result/1"
    assert (envelope["command"], envelope["ok"], envelope["exit_code"]) == (args[0], False, code)
    assert envelope["error"] == {"type": kind, "message": envelope["error"]["message"]}  # type: ignore[index]
    assert str(envelope["error"]["message"]).startswith(message)  # type: ignore[index]
    assert message in err  # people still read it on stderr


def test_a_held_lock_is_an_envelope_with_exit_0(
    config: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_lock(config.parent / "state", lock_name(sandbox.url, str(PROJECT_ID))):
        assert run(["-c", str(config), "run", "--json"]) == 0
    envelope = _envelope(capsys.readouterr().out)
    assert (envelope["ok"], envelope["exit_code"]) == (True, 0)
    assert envelope["error"]["type"] == "LockHeld"  # type: ignore[index]


def test_without_json_stdout_stays_empty_on_failure(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", str(config), "invite", "--record", "999999"]) == 2
    assert capsys.readouterr().out == ""
