"""Compose one e-mail: render its templates and check everything that becomes a header.

Every value that ends up in a header (subject, recipients, sender, key, kind, attachment
names) is refused if it holds a line break or another control character, so no data can
inject a header. Invalid recipient addresses raise ``RecipientRejected`` naming the record,
never the address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.utils import make_msgid
from typing import Any

from recruit_cli.address import InvalidAddress, normalise
from recruit_cli.errors import ConfigError, MailError, RecipientRejected, TemplateError
from recruit_cli.mail.message import Attachment, OutgoingMessage
from recruit_cli.mail.templates import get_templates, template_name
from recruit_cli.settings import Settings
from recruit_cli.text import has_control

_KEY_PART_RE = re.compile(r"[^\s|]+\Z")
_CONTENT_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*\Z", re.I)


def idempotency_key(record_id: str, kind: str, version: str) -> str:
    """The key that makes a message exactly-once: ``"<record>:<kind>:<version>"``.

    Raises:
        MailError: a part is empty or holds whitespace, ``|`` (the claim field's separator)
            or a control character.
    """
    for what, value in (("record id", record_id), ("kind", kind), ("template version", version)):
        if not _KEY_PART_RE.match(value) or has_control(value):
            raise MailError(f"cannot build an idempotency key: the {what} {value!r} is not usable")
    return f"{record_id}:{kind}:{version}"


def check_address(address: str, *, record_id: str | None = None) -> str:
    """Validate one recipient address and return it normalised (``recruit_cli.address``).

    Surrounding spaces and tabs are dropped (common in typed-in survey answers); an
    internationalised domain becomes its ASCII (punycode) form.

    Raises:
        RecipientRejected: the address is unusable. The message names the record and the
            problem, never the address.
    """
    try:
        return normalise(address)
    except InvalidAddress as exc:
        raise RecipientRejected(
            f"{_who(record_id)}the e-mail address is not valid ({exc.reason})"
        ) from exc


def compose(
    settings: Settings,
    kind: str,
    context: Mapping[str, Any],
    *,
    to: Sequence[str],
    key: str,
    record_id: str | None = None,
    language: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> OutgoingMessage:
    """Render ``kind`` for the given recipients into a message any transport can send.

    Adds ``study_name``, ``booking_url`` and ``contact_email`` (the sender) to ``context``
    and applies ``settings.email.test_recipient``, which replaces every recipient (the
    original addresses appear nowhere in the message).

    Args:
        settings: The loaded settings.
        kind: ``"invite"``, ``"ineligible"``, ``"safety_alert"`` or ``"report"``.
        context: The values specific to this message (e.g. ``{"study_id": "3001"}``).
        to: The recipients.
        key: The idempotency key (see ``idempotency_key``).
        record_id: The REDCap record the message is about, for errors and the transport.
        language: The participant's language value; the default language if unusable.
        attachments: Files to attach.

    Raises:
        RecipientRejected: a recipient address is invalid (names the record only).
        TemplateError: a template is missing or fails to render (names file and line), or
            the rendered subject is not a single clean line.
        MailError: a message value bound for a header holds a line break.
        ConfigError: the sender or the test recipient in the settings is not valid.
    """
    email = settings.email
    sender = _config_address(email.sender, "email.sender")
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise RecipientRejected(_who(record_id) + "there is no recipient address")
    checked = tuple(check_address(address, record_id=record_id) for address in recipients)
    if email.test_recipient:  # "" counts as unset
        checked = (_config_address(email.test_recipient, "email.test_recipient"),)
    for what, value in (("key", key), ("kind", kind)):
        if not value or has_control(value):
            raise MailError(
                _who(record_id) + f"the message {what} is empty or holds a control character"
            )

    # Values from the configuration are checked here, so a line break in one is reported as
    # the configuration mistake it is, not blamed on (and filed to review for) each record.
    for setting, value in (
        ("study.name", settings.study.name),
        ("email.booking_url", email.booking_url),
    ):
        if has_control(value):
            raise ConfigError("holds a line break or control character", key=setting)
    full_context: dict[str, Any] = {"study_name": settings.study.name, "contact_email": sender}
    if email.booking_url:  # left undefined when unset, so a template using it says so
        full_context["booking_url"] = email.booking_url
    full_context.update(context)
    templates = get_templates(email.templates_dir, email.default_language)
    rendered = templates.render(kind, full_context, language=language)

    subject = rendered.subject.strip()
    if has_control(subject):
        if any(isinstance(v, str) and has_control(v) for v in full_context.values()):
            raise MailError(
                _who(record_id) + f"a value rendered into the {kind} subject holds a line "
                "break or control character; the message was refused"
            )
        raise TemplateError(
            "the subject must render to a single line",
            path=template_name(kind, "subject", rendered.language),
        )
    if not subject:
        raise TemplateError(
            "the subject renders empty", path=template_name(kind, "subject", rendered.language)
        )
    for attachment in attachments:
        _check_attachment(attachment)

    return OutgoingMessage(
        key=key,
        kind=kind,
        to=checked,
        sender=sender,
        subject=subject,
        text=rendered.text,
        html=rendered.html,
        message_id=make_msgid(domain=sender.rpartition("@")[2]),
        record_id=record_id,
        attachments=tuple(attachments),
    )


def _who(record_id: str | None) -> str:
    return f"record {record_id}: " if record_id is not None else ""


def _config_address(value: str, key: str) -> str:
    if not value.strip():
        raise ConfigError("no address is set", key=key)
    try:
        return normalise(value)
    except InvalidAddress as exc:
        # It is the lab's own address, but still keep addresses out of messages.
        raise ConfigError(f"the address is not valid ({exc.reason})", key=key) from exc


def _check_attachment(attachment: Attachment) -> None:
    name = attachment.filename
    if not name or has_control(name) or "/" in name or "\\" in name or name.startswith("."):
        raise MailError(f"attachment file name {name!r} is not usable")
    if not _CONTENT_TYPE_RE.match(attachment.content_type):
        raise MailError(f"attachment content type {attachment.content_type!r} is not valid")
