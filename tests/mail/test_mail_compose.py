"""compose(): context, test recipient, address checks, header safety, escaping."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from pathlib import Path

import pytest
from mail_support import PARTICIPANT, SAMPLE_CONTEXT, SENDER, make_settings

from recruit_cli.errors import ConfigError, MailError, RecipientRejected, TemplateError
from recruit_cli.mail.compose import check_address, compose, idempotency_key
from recruit_cli.mail.message import Attachment, OutgoingMessage
from recruit_cli.mail.mime import to_bytes
from recruit_cli.settings import Settings

KEY = "42:invite:1"


def invite(settings: Settings, study_id: str = "3001", **kwargs: object) -> OutgoingMessage:
    options: dict[str, object] = {"to": [PARTICIPANT], "key": KEY, "record_id": "42"}
    options.update(kwargs)
    return compose(settings, "invite", {"study_id": study_id}, **options)  # type: ignore[arg-type]


def parse(message: OutgoingMessage) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(to_bytes(message), policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_compose_fills_in_the_message(settings: Settings) -> None:
    message = invite(settings, language="es")
    assert message.to == (PARTICIPANT,)
    assert message.sender == SENDER
    assert message.key == KEY and message.kind == "invite" and message.record_id == "42"
    assert message.subject == "Su número de identificación para el estudio"
    assert message.message_id.startswith("<") and message.message_id.endswith("@example.org>")
    assert "3001" in message.text and SENDER in message.text  # contact_email was added
    assert "Demo TMS-EEG study" in message.html  # study_name was added


def test_message_ids_are_unique(settings: Settings) -> None:
    assert len({invite(settings).message_id for _ in range(50)}) == 50


def test_the_test_recipient_replaces_every_recipient(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, test_recipient="tester@lab.example.org")
    message = compose(
        settings,
        "safety_alert",
        SAMPLE_CONTEXT["safety_alert"],
        to=["oncall@example.org", PARTICIPANT],
        key="17:safety_alert:1",
    )
    assert message.to == ("tester@lab.example.org",)
    raw = to_bytes(message)
    assert b"oncall@example.org" not in raw and PARTICIPANT.encode() not in raw


def test_the_original_recipient_is_still_checked_in_test_mode(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, test_recipient="tester@lab.example.org")
    with pytest.raises(RecipientRejected, match="record 42"):
        invite(settings, to=["not-an-address"])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("test_recipient", "tester@@lab"),
        ("sender", ""),
        ("sender", "team@example.org\nBcc: x@y.org"),
    ],
)
def test_bad_configured_addresses_are_config_errors(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"email.{key}") as err:
        invite(make_settings(tmp_path, **{key: value}))
    assert "x@y.org" not in str(err.value) and "tester@@lab" not in str(err.value)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "   ",
        "alice",
        "alice.example.org",
        "alice@@example.org",
        "alice@bob@example.org",
        "alice smith@example.org",
        "alice@exa mple.org",
        "alice@example.org\r\nBcc: mallory@evil.example",
        "alice@example.org\n",
        "alice\x00@example.org",
        "Alice <alice@example.org>",
        "alice@localhost",
        "alice@.example.org",
        "alice@example..org",
        "alice@-example.org",
        ".alice@example.org",
        "alice@example.org,bob@example.org",
        "alicé@example.org",
        "alice@127.0.0.1",
        "alice@lab.test",  # a reserved name: no mail from the internet reaches it
        "alice@[192.0.2.1]",
        '"alice"@example.org',
        "a" * 65 + "lice@example.org",
    ],
)
def test_invalid_addresses_are_rejected_without_showing_them(
    settings: Settings, address: str
) -> None:
    with pytest.raises(RecipientRejected) as err:
        invite(settings, to=[address])
    text = str(err.value)
    assert text.startswith("record 42: the e-mail address is not valid (")
    assert "alice" not in text.lower() and "example" not in text


@pytest.mark.parametrize(
    ("address", "normalised"),
    [
        ("  alice@example.org\t", "alice@example.org"),
        ("o'brien+study@mail.example.co.uk", "o'brien+study@mail.example.co.uk"),
        ("user@bücher.example", "user@xn--bcher-kva.example"),
    ],
)
def test_valid_addresses_are_normalised(address: str, normalised: str) -> None:
    assert check_address(address) == normalised


def test_no_recipient_at_all_is_rejected(settings: Settings) -> None:
    with pytest.raises(RecipientRejected, match="record 42: there is no recipient"):
        invite(settings, to=[])


def test_a_single_string_recipient_is_accepted(settings: Settings) -> None:
    assert invite(settings, to=PARTICIPANT).to == (PARTICIPANT,)


def test_crlf_in_a_body_value_cannot_inject_a_header(settings: Settings) -> None:
    message = invite(settings, study_id="3001\r\nBcc: mallory@evil.example")
    parsed = parse(message)
    assert parsed["Bcc"] is None
    assert parsed["To"] == PARTICIPANT
    assert [k.lower() for k in parsed] == [
        "message-id", "date", "from", "to", "subject", "x-recruit-key", "x-recruit-template",
        "auto-submitted", "mime-version", "content-type",
    ]  # fmt: skip


@pytest.mark.parametrize("value", ["3001\r\nBcc: mallory@evil.example", "3001\nX: y", "30\x0b01"])
def test_crlf_reaching_the_subject_is_refused(tmp_path: Path, value: str) -> None:
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "invite.subject.j2").write_text("Your ID: {{ study_id }}")
    settings = make_settings(tmp_path, templates_dir=overrides)
    with pytest.raises(MailError, match="record 42: a value rendered into the invite subject"):
        invite(settings, study_id=value)


def test_a_line_break_in_the_configuration_is_a_config_error_not_each_records(
    tmp_path: Path,
) -> None:
    # A study subject using {{ study_name }}: the fault is the configuration's, so it must
    # stop the pass (exit 3) rather than send every participant to review one by one.
    (tmp_path / "invite.subject.j2").write_text("{{ study_name }}: your ID")
    settings = make_settings(tmp_path, templates_dir=tmp_path)
    broken = dataclasses.replace(settings, study=dataclasses.replace(settings.study, name="A\nB"))
    with pytest.raises(ConfigError, match=r"study\.name"):
        invite(broken)
    with pytest.raises(ConfigError, match=r"email\.booking_url"):
        invite(make_settings(tmp_path, booking_url="https://b.example.org/\r\nX: y"))


def test_a_subject_template_spanning_lines_is_a_template_error(tmp_path: Path) -> None:
    (tmp_path / "invite.subject.j2").write_text("Your ID\n{{ study_id }}\n")
    settings = make_settings(tmp_path, templates_dir=tmp_path)
    with pytest.raises(TemplateError, match=r"invite\.subject\.j2: the subject must render"):
        invite(settings)


def test_trailing_whitespace_of_a_subject_is_stripped(tmp_path: Path) -> None:
    (tmp_path / "invite.subject.j2").write_text("  Your ID {{ study_id }}  \n\n")
    assert invite(make_settings(tmp_path, templates_dir=tmp_path)).subject == "Your ID 3001"


@pytest.mark.parametrize("key", ["42:invite:1\r\nBcc: x@y.org", ""])
def test_a_bad_key_is_refused(settings: Settings, key: str) -> None:
    with pytest.raises(MailError, match="key"):
        invite(settings, key=key)


def test_hand_made_messages_with_crlf_headers_are_refused_by_mime(settings: Settings) -> None:
    message = dataclasses.replace(invite(settings), subject="Hi\r\nBcc: mallory@evil.example")
    with pytest.raises(MailError, match="Subject"):
        to_bytes(message)


def test_html_and_script_are_escaped_in_the_html_body(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings = dataclasses.replace(
        settings, study=dataclasses.replace(settings.study, name="<b>Lab</b>")
    )
    message = invite(settings, study_id="<script>alert(1)</script>")
    assert "<script>" not in message.html and "<b>Lab</b>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "&lt;b&gt;Lab&lt;/b&gt;" in message.html
    # Plain text is not HTML: the value is shown as typed and is harmless there.
    assert "<script>alert(1)</script>" in message.text


def test_attachments_are_checked(settings: Settings) -> None:
    report = SAMPLE_CONTEXT["report"]
    good = Attachment("report-2025-01-12.html", "text/html", b"<html></html>")
    message = compose(
        settings, "report", report, to=[SENDER], key="report:2025-W02", attachments=[good]
    )
    assert message.attachments == (good,)
    for bad in (
        Attachment("../../etc/passwd", "text/plain", b""),
        Attachment("r.html\r\nBcc: x", "text/html", b""),
        Attachment("r.html", "text/html\r\nX: y", b""),
    ):
        with pytest.raises(MailError):
            compose(settings, "report", report, to=[SENDER], key="r:1", attachments=[bad])


def test_idempotency_key() -> None:
    assert idempotency_key("12", "invite", "1") == "12:invite:1"
    assert idempotency_key("A-7", "ineligible", "2025.1") == "A-7:ineligible:2025.1"
    for record in ("", "1 2", "1|2", "1\n2", "1\x00"):
        with pytest.raises(MailError, match="idempotency key"):
            idempotency_key(record, "invite", "1")
