"""`recruit demo` and `recruit init`, through the CLI entry point."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from recruit_cli.cli.main import run
from recruit_cli.config import load_settings
from recruit_cli.mail.templates import EmailTemplates


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
