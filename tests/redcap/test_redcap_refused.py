"""REDCap saying no reaches the command line as exit 7 with REDCap's words, never exit 1.

Exit 1 is the contract's "bug in recruit": cron and health checks read it that way. A 400
that names no missing field (and is not a refused token) is REDCap refusing the request.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redcap_scripted import TOKEN, Answer, ScriptedServer

from recruit_cli.cli.main import run
from recruit_cli.exit_codes import ExitCode
from recruit_cli.ops.demo import demo_config_text

# REDCap's wording for a parameter it refuses (one an older REDCap does not know, say).
REFUSAL = 'The value of the parameter "exportCheckboxLabel" is not valid'


@pytest.fixture
def config(server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "recruit.toml"
    path.write_text(demo_config_text(server.url), encoding="utf-8")
    monkeypatch.setenv("REDCAP_API_TOKEN", TOKEN)
    monkeypatch.setenv("RECRUIT_STATE_DIR", str(tmp_path / "state"))
    server.queue(Answer(400, json.dumps({"error": REFUSAL})))  # every call, from now on
    return path


def test_a_command_refused_by_redcap_exits_7_with_redcaps_message(
    config: Path, server: ScriptedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", str(config), "status"]) == ExitCode.REFUSED == 7
    err = capsys.readouterr().err
    # Every command's first call is the project info (its shape, and the lock's key).
    said = f"REDCap refused content=project (HTTP 400): {REFUSAL}"
    assert f"recruit: error: {said}" in err
    assert "unexpected" not in err and TOKEN not in err
    assert len(server.requests) == 1  # a refusal is not retried


def test_doctor_reports_the_refusal_as_exit_7(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", str(config), "doctor", "--json"]) == ExitCode.REFUSED
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == 7
    failed = [c for c in report["checks"] if c["state"] != "ok"]
    assert [c["name"] for c in failed] == ["token accepted"] and REFUSAL in failed[0]["detail"]
