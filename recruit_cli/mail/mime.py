"""The one place an ``OutgoingMessage`` becomes MIME (used by the outbox and SMTP)."""

from __future__ import annotations

import email.errors
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from recruit_cli.errors import MailError
from recruit_cli.mail.message import OutgoingMessage
from recruit_cli.text import has_control

# CRLF line endings (RFC 5322) and 7-bit transfer encodings: non-ASCII bodies become
# quoted-printable/base64, so no SMTP server needs 8BITMIME.
POLICY = email.policy.SMTP.clone(cte_type="7bit")

KEY_HEADER = "X-Recruit-Key"
TEMPLATE_HEADER = "X-Recruit-Template"


def to_mime(message: OutgoingMessage, *, date: datetime | None = None) -> EmailMessage:
    """Build the RFC 5322 message: text and HTML as multipart/alternative, attachments mixed.

    Headers: Message-ID, Date, From, To, Subject, X-Recruit-Key, X-Recruit-Template and
    ``Auto-Submitted: auto-generated`` (RFC 3834: out-of-office replies stay quiet).

    Raises:
        MailError: a header value holds a line break or is malformed (compose() prevents
            both; this is the last line of defence for hand-made messages).
    """
    mime = EmailMessage(policy=POLICY)
    headers = (
        ("Message-ID", message.message_id),
        ("Date", format_datetime(date or datetime.now(UTC))),
        ("From", message.sender),
        ("To", ", ".join(message.to)),
        ("Subject", message.subject),
        (KEY_HEADER, message.key),
        (TEMPLATE_HEADER, message.kind),
        ("Auto-Submitted", "auto-generated"),
    )
    for name, value in headers:
        if has_control(value):
            raise MailError(f"refusing a {name} header that holds a control character")
        try:
            mime[name] = value
        except (ValueError, email.errors.MessageError) as exc:
            raise MailError(f"refusing a {name} header the email package cannot parse") from exc
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return mime


def to_bytes(message: OutgoingMessage, *, date: datetime | None = None) -> bytes:
    """The message as the bytes an ``.eml`` file or an SMTP DATA command carries."""
    return to_mime(message, date=date).as_bytes(policy=POLICY)
