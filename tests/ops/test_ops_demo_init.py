"""`recruit demo` and `recruit init`, through the CLI entry point."""

from __future__ import annotations

import email
import email.policy
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from recruit_cli.cli.main import run
from recruit_cli.cli.render import demo_summary_lines
from recruit_cli.config import load_settings
from recruit_cli.mail.templates import EmailTemplates
from recruit_cli.ops.demo import MARKER, DemoResult, demo_config_text, prepare_directory
from recruit_cli.ops.run import RunDetails
from recruit_cli.ops.status import StatusReport
from recruit_cli.results import PassResult


def test_demo_leaves_emails_a_report_and_status_in_its_directory(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory = tmp_path / "recruit-demo"
    assert run(["demo", "--dir", str(directory), "--records", "40"]) == 0
    out = capsys.readouterr().out
    emails = sorted((directory / "outbox").glob("*.eml"))
    reports = sorted((directory / "reports").glob("enrollment-*.html"))
    assert emails and len(reports) == 1
    assert "Records: 40" in out  # `recruit status`
    assert "What `recruit run` did, step by step, in " in out
    assert any(line.split()[:1] == ["invite"] and "invited" in line for line in out.splitlines())
    assert f"({len(emails)})" in out and str(reports[0].name) in out
    invite = next(p for p in emails if "_invite_" in p.name)
    message = email.message_from_bytes(invite.read_bytes(), policy=email.policy.default)
    assert message["X-Recruit-Template"] == "invite"
    assert message["To"].endswith("@example.org")
    # No participant identifier reaches the report.
    html = reports[0].read_text(encoding="utf-8")
    assert "@example.org" not in html

    # A second demo starts again from a fresh sandbox: same number of messages, not more.
    assert run(["demo", "--dir", str(directory), "--records", "40"]) == 0
    assert len(list((directory / "outbox").glob("*.eml"))) == len(emails)
    # Everything it made is in its directory, nothing else.
    assert {p.name for p in directory.iterdir()} == {
        ".recruit-demo",
        ".env",
        "recruit.toml",
        "sandbox.db",
        "outbox",
        "reports",
        "state",
    }


def test_rerunning_the_demo_while_its_sandbox_is_served_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The demo's closing message suggests serving its database; a second `make demo` in
    # that state used to delete sandbox.db, keep its -wal/-shm, and fail with exit 3.
    directory = tmp_path / "recruit-demo"
    assert run(["demo", "--dir", str(directory), "--records", "10"]) == 0
    capsys.readouterr()
    before = {p.name: p.stat().st_mtime_ns for p in directory.rglob("*") if p.is_file()}
    # The served token is the one the demo's .env holds, letter for letter.
    token = _env_token(directory)
    serving = subprocess.Popen(
        [sys.executable, "-m", "recruit_cli", "sandbox", "serve", "--port", "0", "--db",
         str(directory / "sandbox.db")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert serving.stdout is not None
        serving.stdout.readline()
        assert serving.stdout.readline().strip() == f"token: {token}"
        assert run(["demo", "--dir", str(directory), "--records", "10"]) == 2
        err = capsys.readouterr().err
        assert "sandbox.db is open in another process" in err and "nothing was changed" in err
        after = {p.name: p.stat().st_mtime_ns for p in directory.rglob("*") if p.is_file()}
        assert {k: v for k, v in after.items() if not k.startswith("sandbox.db")} == {
            k: v for k, v in before.items() if not k.startswith("sandbox.db")
        }
    finally:
        serving.send_signal(signal.SIGTERM)
        serving.wait(timeout=20)
    # Once it is stopped, the demo runs again.
    assert run(["demo", "--dir", str(directory), "--records", "10"]) == 0


def test_a_killed_sandbox_leaves_nothing_that_breaks_the_next_demo(tmp_path: Path) -> None:
    directory = tmp_path / "recruit-demo"
    assert run(["demo", "--dir", str(directory), "--records", "10"]) == 0
    # What a sandbox killed mid-write leaves: the WAL and shared-memory files.
    (directory / "sandbox.db-wal").write_bytes(b"\0" * 4096)
    (directory / "sandbox.db-shm").write_bytes(b"\0" * 32768)
    assert run(["demo", "--dir", str(directory), "--records", "10"]) == 0


def _env_token(directory: Path) -> str:
    for line in (directory / ".env").read_text(encoding="utf-8").splitlines():
        if line.startswith("REDCAP_API_TOKEN="):
            return line.partition("=")[2]
    raise AssertionError("no token in the demo's .env")


def test_demo_never_clears_a_directory_it_did_not_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    (study / "state").mkdir(parents=True)
    (study / "recruit.toml").write_text("# the lab's real configuration\n")
    (study / ".env").write_text("REDCAP_API_TOKEN=" + "a" * 32 + "\n")
    (study / "state" / "msal_token_cache.bin").write_text("{}")
    before = {p: p.read_bytes() for p in study.rglob("*") if p.is_file()}
    assert run(["demo", "--dir", str(study)]) == 2
    assert "was not made by `recruit demo`" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in study.rglob("*") if p.is_file()} == before


def test_a_demo_directory_from_before_the_marker_is_still_recognised(tmp_path: Path) -> None:
    old = tmp_path / "recruit-demo"
    (old / "outbox").mkdir(parents=True)
    (old / "recruit.toml").write_text(demo_config_text("http://127.0.0.1:1/api/"))
    (old / "outbox" / "1_invite_1.eml").write_text("x")
    prepare_directory(old)
    assert not (old / "recruit.toml").exists() and not list((old / "outbox").iterdir())
    assert (old / MARKER).is_file()


def test_the_summary_shows_commands_that_work_where_recruit_is_not_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    result = DemoResult(
        directory=tmp_path / "recruit-demo",
        run=PassResult(command="run", details=(RunDetails(()),)),
        cycles=1,
        report_path=tmp_path / "recruit-demo" / "reports" / "r.html",
        outbox=tmp_path / "recruit-demo" / "outbox",
        emails=0,
        port=8765,
        status=StatusReport(0, (), (), (), (), ()),
    )
    text = "\n".join(demo_summary_lines(result, argv0=".venv/bin/recruit"))
    assert ".venv/bin/recruit sandbox serve --db recruit-demo/sandbox.db --port 8765" in text
    assert ".venv/bin/recruit -c recruit-demo/recruit.toml status" in text
    text = "\n".join(demo_summary_lines(result, argv0="/usr/lib/python3/pytest"))
    assert "\n  recruit sandbox serve" in text


def test_init_scaffolds_a_study_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    assert run(["init", str(study)]) == 0
    assert "recruit doctor" in capsys.readouterr().out
    assert (study / ".env.example").read_text().count("REDCAP_API_TOKEN=") == 1
    settings = load_settings(study / "recruit.toml", environ={"REDCAP_API_TOKEN": "a" * 32})
    assert settings.email.templates_dir == study / "templates" / "email"
    copies = sorted(p.name for p in (study / "templates" / "email").glob("*.j2"))
    assert "invite.html.j2" in copies and "ineligible.subject.j2" in copies
    # The copies render (their comment headers included) and override the shipped ones.
    rendered = EmailTemplates(settings.email.templates_dir).render(
        "invite",
        {
            "study_id": "3001",
            "booking_url": "https://example.org/book",
            "study_name": "S",
            "contact_email": "s@example.org",
        },
    )
    assert "3001" in rendered.text and "\n" not in rendered.subject
    assert "{#" not in rendered.html


def test_init_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    study.mkdir()
    (study / "recruit.toml").write_text("# mine\n")
    assert run(["init", str(study)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (study / "recruit.toml").read_text() == "# mine\n"
    assert not (study / ".env.example").exists()
    assert not (study / "templates").exists()
    assert run(["init", "--force", str(study)]) == 0
    assert (study / "recruit.toml").read_text() != "# mine\n"


def test_init_keeps_secrets_and_participant_mail_out_of_git(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    assert run(["init", str(study)]) == 0
    ignored = (study / ".gitignore").read_text().split()
    assert {".env", "outbox/", "reports/", "state/"} <= set(ignored)

    # A directory with its own .gitignore: init goes ahead and never touches it.
    mine = tmp_path / "repo"
    mine.mkdir()
    (mine / ".gitignore").write_text("*.pyc\n")
    assert run(["init", str(mine)]) == 0
    assert (mine / ".gitignore").read_text() == "*.pyc\n"
    assert (mine / "recruit.toml").exists()
    assert "make sure it lists .env, outbox/" in capsys.readouterr().err
    assert run(["init", "--force", str(mine)]) == 0
    assert (mine / ".gitignore").read_text() == "*.pyc\n"


def test_what_init_and_the_readme_say_is_true(tmp_path: Path) -> None:
    # Issue 14: the init config said doctor "does not check e-mail" (it does), and nothing
    # said that a group's target only shows in the report (the demo invites past it).
    assert run(["init", str(tmp_path / "study")]) == 0
    config = (tmp_path / "study" / "recruit.toml").read_text(encoding="utf-8")
    assert "does not check e-mail" not in config
    assert "against your REDCap project and your e-mail settings" in config
    assert "shown in the report only: recruit" in config
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "report-only: recruit keeps inviting past it" in readme


def test_the_demo_shows_the_timings_of_a_5_minute_cron(tmp_path: Path) -> None:
    # Issue 14: the demo screened a 12-week backlog at once, and its report said the
    # median time to invitation was 27.9 days. Submissions now arrive over the weeks and a
    # cycle runs at the next 5-minute tick after each, on a simulated clock.
    from recruit_cli.ops.demo import run_demo

    result = run_demo(tmp_path / "demo", records=60)
    assert result.run.exit_code == 0
    assert result.cycles > 30  # about one per arrival, not one for everything
    html = result.report_path.read_text(encoding="utf-8")

    def cell(key: str) -> str:
        found = re.search(rf'data-key="{re.escape(key)}">([^<]*)<', html)
        assert found is not None, key
        return found.group(1)

    assert int(cell("time_to_invite|n||cumulative")) > 10
    assert float(cell("time_to_invite|p90_hours||cumulative")) <= 0.1  # within 5 minutes
    # Screening happened over the weeks too, not all in the last one.
    weeks = re.findall(r'data-key="trend\|screened\|\|\d{4}-W\d{2}">(\d+)<', html)
    assert len(weeks) == 12 and sum(1 for n in weeks if n != "0") >= 8
