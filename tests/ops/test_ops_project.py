"""Every command starts with the project: its shape is checked, and its lock is its own.

- A longitudinal project, or one with repeating instruments or events, exports several rows
  per record: `doctor` and every pass refuse it (exit 3) with a plain message, instead of
  "all OK" and a run that invites nobody. (The sandbox serves classic projects only, so a
  proxy makes the project info say otherwise.)
- The lock is keyed by the project (REDCap URL and project id), not the state directory:
  two studies on one host, sharing a state directory, run side by side, while a second run
  of one study still finds the lock held.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hostile_servers import Drip, HostileRedcap, Rewrite, call
from ops_support import write_study

from recruit_cli.cli.main import run
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox, run_sandbox

HANG_GUARD = 90.0
SHAPES = {
    "longitudinal": ("is_longitudinal", "events (it is longitudinal)"),
    "repeating": ("has_repeating_instruments_or_events", "repeating instruments or events"),
}


def statuses(sb: Sandbox) -> dict[str, str]:
    with RedcapClient(sb.url, sb.token, record_id_field="record_id") as client:
        rows = client.export_records(fields=["record_id", "pipeline_processing_status"])
    return {r["record_id"]: r["pipeline_processing_status"] for r in rows}


def shaped(flag: str) -> Rewrite:
    def change(info: Any) -> Any:
        return {**info, flag: 1}

    return Rewrite(change)


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_doctor_refuses_a_project_recruit_does_not_handle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    flag, has = SHAPES[shape]
    with run_sandbox(demo=5) as sb, HostileRedcap(sb.url) as proxy:
        proxy.on(call("project"), shaped(flag))
        config = write_study(tmp_path, proxy.url, sb.token)
        code = run(["-c", str(config), "doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3 and report["exit_code"] == 3
    row = next(c for c in report["checks"] if c["name"] == "project shape")
    assert row["state"] == "fail"
    assert f"the REDCap project has {has}, which recruit does not handle yet" in row["detail"]


@pytest.mark.parametrize("args", [["run"], ["screen"], ["status"], ["invite"]])
@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_every_pass_refuses_a_project_recruit_does_not_handle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str, args: list[str]
) -> None:
    flag, has = SHAPES[shape]
    with run_sandbox(demo=20) as sb, HostileRedcap(sb.url) as proxy:
        proxy.on(call("project"), shaped(flag))
        config = write_study(tmp_path, proxy.url, sb.token)
        code = run(["-c", str(config), *args])
        held = statuses(sb)
    err = capsys.readouterr().err
    assert code == 3, err
    assert f"recruit: error: the REDCap project has {has}" in err
    assert [c["content"] for c in proxy.calls] == ["project"]  # nothing read, nothing written
    assert set(held.values()) == {""}
    assert not (tmp_path / "outbox").exists()


def _recruit(config: Path, state: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
    env["RECRUIT_STATE_DIR"] = str(state)  # one state directory for both studies
    return subprocess.Popen(
        [sys.executable, "-m", "recruit_cli", "-c", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_two_studies_on_one_host_run_side_by_side_and_each_keeps_its_own_lock(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        run_sandbox(demo=12) as study_a,
        run_sandbox(demo=12) as study_b,
        HostileRedcap(study_a.url) as a_proxy,
    ):
        # Study A's run is stuck on a slow export, holding A's lock all the while.
        a_proxy.on(call("record", "export"), Drip())
        config_a = write_study(tmp_path / "a", a_proxy.url, study_a.token)
        config_b = write_study(tmp_path / "b", study_b.url, study_b.token)
        stuck = _recruit(config_a, state)
        try:
            waited = 0.0
            while not any(call("record", "export")(c) for c in a_proxy.calls):
                assert stuck.poll() is None and waited < HANG_GUARD, "A never got going"
                time.sleep(0.05)
                waited += 0.05
            # Study B, same host, same state directory: runs, and does its work.
            b_run = _recruit(config_b, state)
            _, b_err = b_run.communicate(timeout=HANG_GUARD)
            assert b_run.returncode == 0, b_err
            assert "eligible_invited" in statuses(study_b).values()
            # A second run of study A finds A's lock held: exit 0, and it does nothing.
            again = _recruit(config_a, state)
            _, again_err = again.communicate(timeout=HANG_GUARD)
            assert again.returncode == 0, again_err
            assert "another recruit run holds" in again_err
            assert set(statuses(study_a).values()) == {""}
            assert [c["content"] for c in a_proxy.calls].count("record") == 1  # A's first
        finally:
            stuck.kill()
            stuck.communicate(timeout=HANG_GUARD)
