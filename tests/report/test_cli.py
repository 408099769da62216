"""`recruit report` end to end: a sandbox project, the real CLI, files and the outbox."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path

import pytest

from recruit_cli.cli.main import run
from recruit_cli.lock import lock_name, run_lock
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox
from recruit_cli.sandbox.project import PROJECT_ID

TOKEN_ENV = "RECRUIT_REPORT_TEST_TOKEN"
PLANTED_EMAIL = "planted.cli.person@example.net"
TODAY = datetime.now(UTC).date()
SINCE = (TODAY - timedelta(days=6)).isoformat()
UNTIL = (TODAY + timedelta(days=1)).isoformat()  # everything imported below is inside


def write_config(tmp_path: Path, url: str, *, extra: str = "") -> Path:
    config = tmp_path / "recruit.toml"
    config.write_text(
        f"""
state_dir = "state"

[study]
name = "CLI Study"
timezone = "UTC"

[redcap]
url = "{url}"
token_env = "{TOKEN_ENV}"

[fields]
email = "participant_email"
booked_at = "booking_date"

[[screening.criteria]]
name = "age"
require = "[age] >= 18"
reason = "Must be 18 or older"

[[groups]]
name = "HC"
label = "Healthy control"
when = "[qids_score] <= 5"
first_id = 3000
last_id = 3999
target = 10

[email]
transport = "outbox"
outbox_dir = "outbox"
sender = "team@example.org"

[report]
out_dir = "reports"
{extra}
""",
        encoding="utf-8",
    )
    return config


def seed(sandbox: Sandbox) -> None:
    """Six records: 2 ineligible, 3 eligible HC with IDs (2 invited), 1 unscreened."""
    at = datetime.now(UTC) - timedelta(hours=3)
    iso = (at + timedelta(minutes=1)).isoformat(timespec="seconds")
    rows = []
    for n in range(1, 7):
        r = {"record_id": str(n), "participant_email": PLANTED_EMAIL, "age": "99"}
        if n <= 2:
            r |= {
                "pipeline_processing_status": "ineligible",
                "pipeline_ineligibility_reasons": "age: Must be 18 or older",
                "pipeline_screened_timestamp": iso,
            }
        elif n <= 5:
            r |= {
                "pipeline_processing_status": "eligible_id_assigned",
                "pipeline_group": "HC",
                "assigned_study_id": str(2997 + n),
                "pipeline_screened_timestamp": iso,
            }
            if n <= 4:
                r["pipeline_processing_status"] = "eligible_invited"
                r["pipeline_invitation_sent_timestamp"] = iso
        rows.append(r)
    with RedcapClient(sandbox.url, sandbox.token) as client:
        client.import_records(rows)


@pytest.fixture
def project(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, sandbox.token)
    monkeypatch.chdir(tmp_path)
    seed(sandbox)
    return write_config(tmp_path, sandbox.url)


def recruit(config: Path, *args: str) -> int:
    return run(["-c", str(config), "report", *args])


def test_html_report_written_and_path_printed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["-v", "-c", str(project), "report", "--since", SINCE, "--until", UNTIL])
    out = capsys.readouterr()
    path = project.parent / "reports" / f"enrollment-{SINCE}_{UNTIL}.html"
    assert code == 0, out.err
    assert out.out.strip() == str(path)  # out_dir is relative to the config file
    html = path.read_text(encoding="utf-8")
    HTMLParser().feed(html)
    assert PLANTED_EMAIL not in html and "example.net" not in html
    assert 'data-key="flow|screened||cumulative">5<' in html
    assert not list(path.parent.glob(".*.tmp"))  # written atomically, nothing left over


def test_the_path_is_printed_off_a_terminal_too(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # stdout is not a terminal here and there is no -v: a person running it from a script
    # still learns where the report went (issue 14); the crontab sends stdout to /dev/null.
    assert recruit(project, "--since", SINCE, "--until", UNTIL) == 0
    path = project.parent / "reports" / f"enrollment-{SINCE}_{UNTIL}.html"
    assert capsys.readouterr().out == f"{path}\n"
    assert path.is_file()


def test_json_format_numbers(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "elsewhere"
    code = recruit(
        project, "--since", SINCE, "--until", UNTIL, "--format", "json", "--out", str(out_dir)
    )
    assert code == 0, capsys.readouterr().err
    doc = json.loads((out_dir / f"enrollment-{SINCE}_{UNTIL}.json").read_text())
    flow = {(x["metric"], x["group"]): x["cumulative"] for x in doc["flow"]}
    assert flow[("submitted", "")] == 6  # creation times from the sandbox's log
    assert flow[("screened", "")] == 5
    assert flow[("excluded", "")] == 2
    assert flow[("id_assigned", "HC")] == 3
    assert flow[("invited", "")] == 2
    assert doc["exclusions"][0] == {
        "code": "age",
        "reason": "Must be 18 or older",
        "period": 2,
        "cumulative": 2,
    }
    assert doc["submission_time_source"] == "REDCap log (record creation)"
    assert PLANTED_EMAIL not in json.dumps(doc)


def test_csv_and_json_result_envelope(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = recruit(project, "--since", SINCE, "--until", UNTIL, "--format", "csv", "--json")
    out = capsys.readouterr()
    assert code == 0, out.err
    envelope = json.loads(out.out)
    assert envelope["command"] == "report" and envelope["ok"] is True
    path = Path(envelope["data"]["path"])
    assert path.name.endswith(".csv") and path.is_file()
    assert "flow,screened,,cumulative,5,Screened," in path.read_text()


def test_email_through_the_outbox_with_the_attachment(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = recruit(project, "--since", SINCE, "--until", UNTIL, "--email", "pi@example.org")
    out = capsys.readouterr()
    assert code == 0, out.err
    emls = list((project.parent / "outbox").glob("*.eml"))
    assert len(emls) == 1
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=default)
    assert isinstance(msg, EmailMessage)
    assert msg["To"] == "pi@example.org"
    assert msg["X-Recruit-Key"] == f"report:{SINCE}_{UNTIL}:1"
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"enrollment-{SINCE}_{UNTIL}.html"]
    written = (project.parent / "reports" / f"enrollment-{SINCE}_{UNTIL}.html").read_bytes()
    assert attachments[0].get_payload(decode=True) == written  # the page names its charset
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and "Screened" in body.get_content()
    assert PLANTED_EMAIL not in emls[0].read_text(errors="replace")


def test_inline_email_format_links_the_report_and_attaches_nothing(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Issue 14: some institutions' filters quarantine .html attachments.
    monkeypatch.setenv(TOKEN_ENV, sandbox.token)
    monkeypatch.chdir(tmp_path)
    seed(sandbox)
    link = "https://share.example.org/sites/study/reports/"
    config = write_config(tmp_path, sandbox.url, extra=f'email_format = "inline"\nlink = "{link}"')
    assert recruit(config, "--since", SINCE, "--until", UNTIL, "--email", "pi@example.org") == 0
    [eml] = (tmp_path / "outbox").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=default)
    assert isinstance(msg, EmailMessage)
    assert list(msg.iter_attachments()) == []
    target = f"{link}enrollment-{SINCE}_{UNTIL}.html"
    for kind in ("plain", "html"):
        part = msg.get_body(preferencelist=(kind,))
        assert part is not None
        text = part.get_content()
        assert target in text and "Screened" in text and "attached" not in text
    assert "CLI Study" in msg["Subject"]  # staff on several studies see which one


def test_a_bad_email_format_names_its_key(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv(TOKEN_ENV, sandbox.token)
    config = write_config(tmp_path, sandbox.url, extra='email_format = "pdf"')
    assert recruit(config, "--dry-run") == 3
    assert 'report.email_format: must be one of "attachment", "inline"' in capsys.readouterr().err


def test_configured_recipients_get_each_period_once(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, sandbox.token)
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, sandbox.url, extra='recipients = ["pi@example.org"]')
    assert recruit(config, "--week", "2026-W47") == 0
    assert recruit(config, "--week", "2026-W47") == 0
    err = capsys.readouterr().err
    assert "already e-mailed; not sent again" in err
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_dry_run_writes_and_sends_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = recruit(project, "--week", "2026-W47", "--email", "pi@example.org", "--dry-run")
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith("[dry run] would write ")
    assert out.out.strip().endswith("enrollment-2026-W47.html")
    assert not (project.parent / "reports").exists()
    assert not (project.parent / "outbox").exists()


def test_only_a_report_that_is_e_mailed_waits_for_the_run_lock(
    project: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    held = lock_name(sandbox.url, str(PROJECT_ID))
    with run_lock(project.parent / "state", held):  # a `recruit run` in progress
        assert recruit(project, "--week", "2026-W47", "--email", "pi@example.org") == 0
        assert "another recruit run" in capsys.readouterr().err
        assert not (project.parent / "reports").exists()  # it did not start
        assert recruit(project, "--week", "2026-W47") == 0  # reads REDCap only: no lock
    assert (project.parent / "reports" / "enrollment-2026-W47.html").is_file()
    assert not (project.parent / "outbox").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-W60"], "--week: 2026 has ISO weeks 01 to 53, not 60"),
        (["--week", "last"], "--week: expected an ISO week like 2026-W47"),
        (["--since", "2026-02-30", "--until", "2026-03-01"], "--since: expected a date"),
        (["--since", "2026-03-01"], "--until is needed too"),
        (["--since", "yesterday"], "--since: expected a date like 2026-11-16, got 'yesterday'"),
        (["--week", "2999-W01"], "--week: 2999-W01 has not started yet"),
        (["--format", "pdf"], "--format: expected one of html, json, csv"),
        (["--email", "not-an-address"], "--email: argument 1 is not an e-mail address"),
        (
            ["--email", "pi@example.org", "--email", "pi@exa_mple.org"],
            "--email: argument 2 is not an e-mail address (the domain is not valid)",
        ),
    ],
)
def test_bad_options_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert recruit(project, *args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (project.parent / "reports").exists()


def test_demo_project_submissions_from_the_log(
    demo_sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, demo_sandbox.token)
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, demo_sandbox.url)
    with RedcapClient(demo_sandbox.url, demo_sandbox.token) as client:
        records = len(client.export_records(fields=["record_id"]))
    since = (TODAY - timedelta(days=7 * 20)).isoformat()
    assert recruit(config, "--since", since, "--until", UNTIL, "--format", "json") == 0
    doc = json.loads((tmp_path / "reports" / f"enrollment-{since}_{UNTIL}.json").read_text())
    submitted = next(x for x in doc["flow"] if x["metric"] == "submitted")
    assert submitted["period"] == submitted["cumulative"] == records > 0
    weekly = next(s for s in doc["trend"]["series"] if s["metric"] == "submitted")
    assert sum(weekly["values"]) == weekly["total"] <= records
    assert capsys.readouterr().err == ""


def test_cli_import_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from recruit_cli.cli import main, report_cmd\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'jinja2') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_email_respects_the_test_recipient(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A trial set-up sends everything to one address: the report too, whatever --email says.
    text = project.read_text()
    project.write_text(
        text.replace('sender = "team@example.org"', 'sender = "team@example.org"\n'
                     'test_recipient = "trial@example.edu"'),
        encoding="utf-8",
    )  # fmt: skip
    code = recruit(project, "--since", SINCE, "--until", UNTIL, "--email", "pi@example.org")
    assert code == 0, capsys.readouterr().err
    (eml,) = (project.parent / "outbox").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=default)
    assert msg["To"] == "trial@example.edu"
    assert "pi@example.org" not in eml.read_text(errors="replace")
