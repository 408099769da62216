"""`recruit run`: every pass in one process, against the sandbox over loopback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from ops_support import no_retry_waits, ping_server, write_study

from recruit_cli.cli.main import run
from recruit_cli.lock import lock_name, run_lock
from recruit_cli.mail.transports.outbox import eml_name
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.project import PROJECT_ID

TERMINAL = {
    "eligible_invited",
    "ineligible_notified",
    "manual_review_required",
    "safety_review",
}


def _records(url: str, token: str) -> list[dict[str, str]]:
    with RedcapClient(url, token) as client:
        return client.export_records()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_one_run_takes_every_ready_record_to_an_end_state(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with run_sandbox(demo=60, unique_field="assigned_study_id") as sb:
        config = write_study(tmp_path, sb.url, sb.token)
        assert run(["-c", str(config), "run"]) == 0
        rows = _records(sb.url, sb.token)
        outbox = sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))

        ready = [r for r in rows if r["agree_participate"] == "1"]
        assert ready, "the demo data has ready records"
        for row in ready:
            assert row["pipeline_processing_status"] in TERMINAL, row["record_id"]
        for row in rows:
            if row["agree_participate"] != "1":
                assert row["pipeline_processing_status"] == ""

        invited = {
            r["record_id"] for r in rows if r["pipeline_processing_status"] == "eligible_invited"
        }
        notified = {
            r["record_id"] for r in rows if r["pipeline_processing_status"] == "ineligible_notified"
        }
        safety = {
            r["record_id"] for r in rows if r["pipeline_processing_status"] == "safety_review"
        }
        assert invited and notified
        expected = (
            {eml_name(f"{r}:invite:1") for r in invited}
            | {eml_name(f"{r}:ineligible:1") for r in notified}
            | {eml_name(f"{r}:safety_alert:1") for r in safety}
        )
        assert set(outbox) == expected
        ids = [r["assigned_study_id"] for r in rows if r["assigned_study_id"]]
        assert len(ids) == len(set(ids))
        # Everyone invited has an ID; an ID holder not invited was stopped at the send
        # (do-not-contact, a refused address) and waits in manual review.
        for row in rows:
            if row["record_id"] in invited:
                assert row["assigned_study_id"]
            elif row["assigned_study_id"]:
                assert row["pipeline_processing_status"] == "manual_review_required"

        # Under cron (stdout not a terminal) a successful run prints nothing.
        assert capsys.readouterr().out == ""

        # A second run finds nothing to do: no e-mail, no write.
        before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "outbox").glob("*.eml")}
        assert run(["-c", str(config), "run", "--json"]) == 0
        payload = json.loads(capsys.readouterr().out)
        assert payload["counts"] == {}
        assert [s["step"] for s in payload["data"]["steps"]] == [
            "screen",
            "alert",
            "assign",
            "invite",
            "notify",
        ]
        after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "outbox").glob("*.eml")}
        assert after == before
        assert _records(sb.url, sb.token) == rows


def test_dry_run_writes_and_sends_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with run_sandbox(demo=30) as sb:
        config = write_study(tmp_path, sb.url, sb.token)
        before = _records(sb.url, sb.token)
        assert run(["-c", str(config), "run", "--dry-run", "--json"]) == 0
        payload = json.loads(capsys.readouterr().out)
        assert payload["dry_run"] is True
        assert payload["counts"], "the plan lists what would happen"
        assert _records(sb.url, sb.token) == before
        assert not list((tmp_path / "outbox").glob("*.eml"))


def test_health_check_pings_start_and_the_exit_status(tmp_path: Path) -> None:
    with run_sandbox(demo=10) as sb, ping_server() as (url, paths):
        config = write_study(
            tmp_path, sb.url, sb.token, extra=f'\n[ops]\nhealthcheck_url = "{url}"\n'
        )
        assert run(["-c", str(config), "run"]) == 0
        assert paths == ["/ping/check-uuid/start", "/ping/check-uuid/0"]


def test_redcap_unreachable_exits_4_pings_the_failure_and_skips_the_rest(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/api/"
    with ping_server() as (url, paths):
        config = write_study(
            tmp_path,
            dead,
            "0" * 32,
            extra=f'\n[ops]\nhealthcheck_url = "{url}"\n',
            edit=no_retry_waits,
        )
        assert run(["-v", "-c", str(config), "run", "--json"]) == 4
    out, err = capsys.readouterr()
    # The run stops at its first call (the project info, before the lock): no step ran,
    # and --json still prints one envelope, with the error.
    envelope = json.loads(out)
    assert (envelope["exit_code"], envelope["error"]["type"]) == (4, "RedcapUnavailable")
    assert "data" not in envelope
    assert "REDCap at 127.0.0.1" in err and "unavailable (content=project)" in err
    assert err.count("could not connect; retrying in 0s") == 3  # [redcap] retries = 3
    assert paths == ["/ping/check-uuid/start", "/ping/check-uuid/4"]
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").iterdir())


def test_mail_down_skips_mail_steps_but_still_assigns(tmp_path: Path) -> None:
    dead_smtp = _free_port()

    def to_smtp(text: str) -> str:
        return text.replace('transport = "outbox"', 'transport = "smtp"').replace(
            "[report]",
            f'[email.smtp]\nhost = "127.0.0.1"\nport = {dead_smtp}\nsecurity = "none"\n\n[report]',
        )

    with run_sandbox(demo=60) as sb:
        config = write_study(tmp_path, sb.url, sb.token, edit=to_smtp)
        code = run(["-c", str(config), "run"])
        assert code == 4
        rows = _records(sb.url, sb.token)
        statuses = {r["pipeline_processing_status"] for r in rows}
        # Screening and ID assignment only need REDCap, so they happened ...
        assert "eligible_id_assigned" in statuses
        assert any(r["assigned_study_id"] for r in rows)
        # ... and nobody is marked as e-mailed.
        assert not statuses & {"eligible_invited", "ineligible_notified"}
        assert not any(r["pipeline_invitation_sent_timestamp"] for r in rows)


def test_a_second_run_while_one_holds_the_lock_exits_0_and_does_nothing(tmp_path: Path) -> None:
    with run_sandbox(demo=10) as sb:
        config = write_study(tmp_path, sb.url, sb.token)
        before = _records(sb.url, sb.token)
        with run_lock(tmp_path / "state", lock_name(sb.url, str(PROJECT_ID))):
            assert run(["-c", str(config), "run"]) == 0
        assert _records(sb.url, sb.token) == before


@pytest.mark.parametrize("args", [["run", "--help"], ["demo", "--help"], ["init", "--help"]])
def test_ops_commands_have_help(args: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(args) == 0
    assert "Usage" in capsys.readouterr().out
