"""`recruit doctor`'s e-mail rows: what would otherwise fail only when a message is due."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recruit_cli.config import settings_from_mapping
from recruit_cli.doctor.mail import mail_checks
from recruit_cli.exit_codes import ExitCode
from recruit_cli.settings import Settings


def settings(tmp_path: Path, **email: Any) -> Settings:
    data: dict[str, Any] = {
        "state_dir": str(tmp_path / "state"),
        "study": {"name": "S"},
        "redcap": {"url": "http://127.0.0.1:9/api/"},
        "email": {
            "transport": "outbox",
            "sender": "team@example.org",
            "booking_url": "https://example.org/book",
            **email,
        },
    }
    return settings_from_mapping(data, path=tmp_path / "recruit.toml", environ={})


def rows(s: Settings) -> dict[str, tuple[str, str, ExitCode]]:
    return {c.name: (c.state, c.detail, c.exit_code) for c in mail_checks(s)}


def test_a_good_configuration_renders_every_template(tmp_path: Path) -> None:
    found = rows(settings(tmp_path))
    assert found["e-mail settings"][0] == "ok"
    state, detail, _ = found["e-mail templates"]
    assert state == "ok" and "render" in detail
    assert "Microsoft sign-in" not in found  # not a Graph configuration


def test_missing_booking_url_fails_naming_the_key(tmp_path: Path) -> None:
    state, detail, code = rows(settings(tmp_path, booking_url=""))["e-mail settings"]
    assert (state, code) == ("fail", ExitCode.CONFIG)
    assert "email.booking_url" in detail


def test_a_broken_study_template_fails_naming_the_file(tmp_path: Path) -> None:
    study = tmp_path / "templates"
    study.mkdir()
    (study / "invite.subject.j2").write_text("Your ID {{ studyid }}\n", encoding="utf-8")
    state, detail, code = rows(settings(tmp_path, templates_dir=str(study)))["e-mail templates"]
    assert (state, code) == ("fail", ExitCode.CONFIG)
    assert "invite.subject.j2" in detail


def test_graph_with_nobody_signed_in_fails_with_the_auth_exit_code(tmp_path: Path) -> None:
    s = settings(
        tmp_path, transport="graph", graph={"client_id": "00000000-0000-0000-0000-000000000001"}
    )
    state, detail, code = rows(s)["Microsoft sign-in"]
    assert (state, code) == ("fail", ExitCode.AUTH)
    assert "recruit auth login" in detail
