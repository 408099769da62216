"""`recruit sandbox serve` as a process, and the demo data."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.demo import MESSY_AGES

TOKEN = "0123456789ABCDEF0123456789ABCDEF"


def serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "recruit_cli", "sandbox", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def url_of(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("REDCap sandbox: http://127.0.0.1:"), line
    token_line = proc.stdout.readline()
    assert token_line.strip() == f"token: {TOKEN}"
    return line.split(": ", 1)[1].strip()


def stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=20)


def test_serve_persists_with_db_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    proc = serve("--db", str(db), "--token", TOKEN, "--demo", "5")
    try:
        url = url_of(proc)
        data = {"token": TOKEN, "content": "record", "format": "json"}
        resp = requests.post(url, data={**data, "data": '[{"record_id": "99"}]'}, timeout=10)
        assert resp.json() == {"count": 1}
    finally:
        assert stop(proc) == 0
    proc = serve("--db", str(db), "--token", TOKEN, "--demo", "5")
    try:
        ids = [r["record_id"] for r in requests.post(url_of(proc), data=data, timeout=10).json()]
        assert ids == ["1", "2", "3", "4", "5", "99"]  # not seeded twice
    finally:
        assert stop(proc) == 0


@pytest.mark.parametrize(
    "args",
    [("--token", "abc"), ("--token", "Z" * 32), ("--faults", "nope"), ("--port", "-1")],
)
def test_bad_options_exit_2(args: tuple[str, ...]) -> None:
    proc = serve(*args)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2, err


@pytest.mark.parametrize(
    "problem", ["not-sqlite", "no-directory", "unique-field", "no-file", "survey"]
)
def test_config_problems_exit_3_naming_the_file(tmp_path: Path, problem: str) -> None:
    bad_db = tmp_path / "notes.sqlite"
    bad_db.write_text("not a database\n")
    args = {
        "not-sqlite": ("--db", str(bad_db)),
        "no-directory": ("--db", str(tmp_path / "missing" / "s.sqlite")),
        "unique-field": ("--unique-field", "no_such_field"),
        "no-file": ("--metadata", str(tmp_path / "dd.csv")),
        "survey": ("--surveys", "no_such_form"),
    }[problem]
    proc = serve(*args)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    assert args[1] in err


def test_metadata_file(tmp_path: Path) -> None:
    path = tmp_path / "dd.csv"
    path.write_text(
        "Variable / Field Name,Form Name,Section Header,Field Type,Field Label\n"
        "study_id,main,,text,Study ID\nscore,main,,text,Score\n"
    )
    proc = serve("--metadata", str(path), "--token", TOKEN)
    try:
        url = url_of(proc)
        meta = requests.post(
            url, data={"token": TOKEN, "content": "metadata", "format": "json"}, timeout=10
        ).json()
        assert [m["field_name"] for m in meta] == ["study_id", "score"]
    finally:
        assert stop(proc) == 0


def test_demo_is_reproducible_and_realistic() -> None:
    def export(seed: int) -> list[dict[str, str]]:
        with run_sandbox(demo=500, seed=seed) as sb:
            data = {"token": sb.token, "content": "record", "format": "json"}
            rows: list[dict[str, str]] = requests.post(sb.url, data=data, timeout=30).json()
            return rows

    rows = export(7)
    assert rows == export(7)
    assert rows != export(8)
    assert len(rows) == 500
    assert sum(r["agree_participate"] == "1" for r in rows) > 430
    assert all(r["pipeline_processing_status"] == "" for r in rows)
    messy_ages = Counter(r["age"] for r in rows if r["age"] in MESSY_AGES)
    assert sum(messy_ages.values()) >= 5
    assert any("@" not in r["participant_email"] for r in rows)
    assert any("<" in r["participant_email"] for r in rows)
    # Synthetic addresses only: every domain is example.org or example.com.
    assert all(
        r["participant_email"].strip(" <>/b").endswith(("example.org", "example.com")) for r in rows
    )
    risky = [r for r in rows if r["qids_12"] in ("2", "3")]
    assert 2 <= len(risky) <= 40


def test_demo_creation_times_span_twelve_weeks() -> None:
    with run_sandbox(demo=300) as sb:
        data = {"token": sb.token, "content": "log", "format": "json", "logtype": "record_add"}
        log = requests.post(sb.url, data=data, timeout=30).json()
    assert len(log) == 300
    assert log[0]["username"] == "[survey respondent]"
    assert log[0]["action"] == "Create survey response 300"  # newest first
    days = {e["timestamp"][:10] for e in log}
    assert len(days) > 40


def test_surveys_option_enables_survey_timestamps() -> None:
    proc = serve("--token", TOKEN, "--surveys", "screening_survey")
    try:
        url = url_of(proc)
        base = {"token": TOKEN, "format": "json"}
        info = requests.post(url, data={**base, "content": "project"}, timeout=10).json()
        assert info["surveys_enabled"] == 1
        requests.post(
            url, data={**base, "content": "record", "data": '[{"record_id": "1"}]'}, timeout=10
        ).raise_for_status()
        rows = requests.post(
            url, data={**base, "content": "record", "exportSurveyFields": "true"}, timeout=10
        ).json()
        assert list(rows[0])[:3] == [
            "record_id", "redcap_survey_identifier", "screening_survey_timestamp"
        ]  # fmt: skip
    finally:
        assert stop(proc) == 0
