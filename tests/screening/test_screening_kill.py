"""A pass killed with SIGKILL midway: the next pass completes it, without duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from screening_data import GOOD, pipeline_state, write_config

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox


def recruit(cfg: Path, token: str, *args: str, crash: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
    env["REDCAP_API_TOKEN"] = token
    if crash:
        env["RECRUIT_CRASH_AT"] = crash
    return subprocess.run(
        [sys.executable, "-m", "recruit_cli", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def config(tmp_path: Path, sb: Sandbox) -> Path:
    redcap = {"url": sb.url, "token_env": "REDCAP_API_TOKEN", "batch_size": 5}
    return write_config(tmp_path, sb.url, redcap=redcap)


def test_killed_assign_is_completed_by_the_next_pass(sb: Sandbox, tmp_path: Path) -> None:
    cfg = config(tmp_path, sb)
    with RedcapClient(sb.url, sb.token) as client:
        client.import_records(
            [
                {"record_id": str(i), "pipeline_processing_status": "eligible",
                 "pipeline_group": "HC"}
                for i in range(1, 24)
            ]
        )  # fmt: skip
    killed = recruit(cfg, sb.token, "assign", crash="assign.after_batch:2")
    assert killed.returncode == -signal.SIGKILL
    with RedcapClient(sb.url, sb.token) as client:
        half = {k: r for k, r in pipeline_state(client).items() if r["assigned_study_id"]}
    assert len(half) == 10  # two batches of five, each complete (status and ID together)
    assert {r["pipeline_processing_status"] for r in half.values()} == {"eligible_id_assigned"}

    done = recruit(cfg, sb.token, "assign")
    assert done.returncode == 0, done.stderr
    with RedcapClient(sb.url, sb.token) as client:
        rows = pipeline_state(client)
    ids = {k: int(r["assigned_study_id"]) for k, r in rows.items()}
    assert max(Counter(ids.values()).values()) == 1
    assert [ids[str(i)] for i in range(1, 24)] == list(range(3000, 3023))
    assert recruit(cfg, sb.token, "assign", "--json").stdout.count('"record_id"') == 0


def test_killed_screen_is_completed_by_the_next_pass(sb: Sandbox, tmp_path: Path) -> None:
    cfg = config(tmp_path, sb)
    with RedcapClient(sb.url, sb.token) as client:
        client.import_records([{**GOOD, "record_id": str(i)} for i in range(1, 13)])
    killed = recruit(cfg, sb.token, "screen", crash="screen.after_batch:1")
    assert killed.returncode == -signal.SIGKILL
    with RedcapClient(sb.url, sb.token) as client:
        first = pipeline_state(client)
    assert sum(1 for r in first.values() if r["pipeline_processing_status"]) == 5
    done = recruit(cfg, sb.token, "screen", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"action": "eligible"') == 7
    with RedcapClient(sb.url, sb.token) as client:
        after = pipeline_state(client)
    assert {r["pipeline_processing_status"] for r in after.values()} == {"eligible"}
    # the records the killed pass wrote were not re-screened
    assert all(
        after[k]["pipeline_screened_timestamp"] == r["pipeline_screened_timestamp"]
        for k, r in first.items()
        if r["pipeline_processing_status"]
    )
