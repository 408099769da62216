"""The outbox transport: .eml files that parse back, atomic writes, was_sent, the factory."""

from __future__ import annotations

import email
import email.message
import email.policy
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mail_support import PARTICIPANT, SAMPLE_CONTEXT, SENDER, make_settings

from recruit_cli.errors import ConfigError, MailError
from recruit_cli.mail.compose import compose
from recruit_cli.mail.message import Attachment, OutgoingMessage
from recruit_cli.mail.transports import TestRecipientGuard, make_transport
from recruit_cli.mail.transports.outbox import OutboxTransport, eml_name
from recruit_cli.mail.transports.smtp import SmtpTransport
from recruit_cli.settings import Settings


def invite(settings: Settings, record: str = "42", to: str = PARTICIPANT) -> OutgoingMessage:
    key = f"{record}:invite:1"
    return compose(settings, "invite", {"study_id": "3001"}, to=[to], key=key, record_id=record)


def read(path: Path) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").rstrip("\n").split("\n")


def test_the_outbox_writes_an_eml_that_parses_back(settings: Settings) -> None:
    outbox = OutboxTransport(settings.email.outbox_dir)
    message = invite(settings)
    assert outbox.was_sent(message.key) is False
    receipt = outbox.send(message)
    path = settings.email.outbox_dir / "42_invite_1.eml"
    assert receipt.detail == str(path) and receipt.transport == "outbox"
    assert outbox.was_sent(message.key) is True
    parsed = read(path)
    assert parsed["Message-ID"] == message.message_id
    assert parsed["X-Recruit-Key"] == "42:invite:1"
    assert parsed["X-Recruit-Template"] == "invite"
    assert parsed["From"] == SENDER and parsed["To"] == PARTICIPANT
    assert parsed["Subject"] == "Your research study ID"
    assert parsed["Date"].datetime.tzinfo is not None
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert _lines(text.get_content()) == _lines(message.text)
    assert _lines(html.get_content()) == _lines(message.html)
    assert b"\r\n" in path.read_bytes()  # RFC 5322 line endings
    # Only the owner can read participants' addresses; no temporary file is left behind.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(settings.email.outbox_dir) == ["42_invite_1.eml"]


def test_spanish_text_survives_the_round_trip(settings: Settings) -> None:
    outbox = OutboxTransport(settings.email.outbox_dir)
    message = compose(
        settings, "invite", {"study_id": "3001"}, to=[PARTICIPANT], key="7:invite:1",
        language="es",
    )  # fmt: skip
    parsed = read(Path(outbox.send(message).detail))
    assert parsed["Subject"] == "Su número de identificación para el estudio"
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None and "SOLO su número" in body.get_content()


def test_a_report_carries_its_attachment(settings: Settings) -> None:
    report = Attachment("report-2025-W02.html", "text/html", b"<html><p>full</p></html>")
    message = compose(
        settings, "report", SAMPLE_CONTEXT["report"], to=[SENDER], key="report:2025-W02",
        attachments=[report],
    )  # fmt: skip
    parsed = read(Path(OutboxTransport(settings.email.outbox_dir).send(message).detail))
    assert parsed.get_content_type() == "multipart/mixed"
    html = parsed.get_body(preferencelist=("html",))
    assert html is not None and "Invited" in html.get_content()
    [attached] = list(parsed.iter_attachments())
    assert attached.get_filename() == "report-2025-W02.html"
    assert attached.get_content() == "<html><p>full</p></html>"


def test_sending_the_same_key_again_replaces_the_file(settings: Settings) -> None:
    outbox = OutboxTransport(settings.email.outbox_dir)
    first, second = invite(settings), invite(settings)
    outbox.send(first)
    outbox.send(second)
    files = list(settings.email.outbox_dir.iterdir())
    assert len(files) == 1 and read(files[0])["Message-ID"] == second.message_id


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("12:invite:1", "12_invite_1.eml"),
        ("report:2025-W02", "report_2025-W02.eml"),
        ("a_b:invite:1", "a%5Fb_invite_1.eml"),
        # The kind keeps its underscore: staff read these names (issue 14).
        ("11:safety_alert:1", "11_safety_alert_1.eml"),
        ("1_2:safety_alert:v_1", "1%5F2_safety_alert_v%5F1.eml"),
        ("12:invite:1:test-20260101T000000Z", "12_invite_1%3Atest-20260101T000000Z.eml"),
        ("../x:invite:1", "%2E.%2Fx_invite_1.eml"),
        ("é:invite:1", "%C3%A9_invite_1.eml"),
    ],
)
def test_file_names_come_from_the_key(key: str, name: str) -> None:
    assert eml_name(key) == name


def test_different_keys_never_share_a_file() -> None:
    keys = [
        "a_b:invite:1",
        "a:b_invite:1",
        "a:b:invite:1",
        "a%5Fb:invite:1",
        "a.b:x:1",
        "a_b_x_1",
        "a:b_c:d",
        "a:b:c:d",
        "a:b:c_d",
        "a:b:c%3Ad",
        "a_b:c:d",
        "a:b:c:d:e",
        "a:b_c_d:e",
        "a:b_c:d_e",
        "a:b:c_d_e",
        "a_b_c:d",
    ]
    assert len({eml_name(k) for k in keys}) == len(keys)


def test_an_outbox_written_by_an_earlier_version_still_counts_as_sent(
    settings: Settings,
) -> None:
    outbox = settings.email.outbox_dir
    outbox.mkdir(parents=True)
    (outbox / "11_safety%5Falert_1.eml").write_bytes(b"Subject: x\r\n\r\nx\r\n")
    assert OutboxTransport(outbox).was_sent("11:safety_alert:1") is True
    assert OutboxTransport(outbox).was_sent("12:safety_alert:1") is False


def test_an_unwritable_outbox_is_a_mail_error(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MailError, match="cannot write to the outbox"):
        OutboxTransport(blocker / "outbox").send(invite(settings))


def test_a_kill_before_the_rename_leaves_no_message(settings: Settings, tmp_path: Path) -> None:
    outbox_dir = settings.email.outbox_dir
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from mail_support import make_settings
        from recruit_cli.mail.compose import compose
        from recruit_cli.mail.transports.outbox import OutboxTransport
        settings = make_settings(Path({str(tmp_path)!r}))
        message = compose(settings, "invite", {{"study_id": "1"}}, to=["a@example.com"],
                          key="42:invite:1")
        OutboxTransport(settings.email.outbox_dir).send(message)
        """
    )
    env = {**os.environ, "RECRUIT_CRASH_AT": "outbox.before_rename"}
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=60, check=False)
    assert done.returncode == -9
    assert OutboxTransport(outbox_dir).was_sent("42:invite:1") is False
    assert not list(outbox_dir.glob("*_invite_1.eml"))


def test_make_transport_picks_the_configured_one(tmp_path: Path) -> None:
    outbox = make_transport(make_settings(tmp_path))
    assert isinstance(outbox, OutboxTransport) and outbox.name == "outbox"
    smtp = make_transport(make_settings(tmp_path, transport="smtp"))
    assert isinstance(smtp, SmtpTransport) and smtp.was_sent("x") is None
    with pytest.raises(ConfigError, match=r"email\.transport: must be one of"):
        make_transport(make_settings(tmp_path, transport="pigeon"))


def test_a_test_recipient_guards_the_transport(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, test_recipient="tester@lab.example.org")
    transport = make_transport(settings)
    assert isinstance(transport, TestRecipientGuard) and transport.name == "outbox"
    # compose() redirected: the guard lets it through.
    transport.send(invite(settings))
    assert transport.was_sent("42:invite:1") is True
    # A message built without the redirect (any bug upstream) is refused, nothing written.
    stray = invite(make_settings(tmp_path), record="43")
    with pytest.raises(MailError, match="refusing to send key 43:invite:1"):
        transport.send(stray)
    assert transport.was_sent("43:invite:1") is False
    # The --to override of the CLI can be given here as well.
    guarded = make_transport(make_settings(tmp_path), test_recipient="tester@lab.example.org")
    with pytest.raises(MailError):
        guarded.send(stray)
    transport.close()
