"""Mail transports behind one interface (``recruit_cli.mail.message.Transport``).

- ``outbox``: ``.eml`` files in a directory (the demo's default; nothing leaves the host);
- ``smtp``: an SMTP server over STARTTLS or implicit TLS;
- ``graph``: Microsoft Graph ``sendMail`` (imported only when chosen: it needs msal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recruit_cli.address import InvalidAddress, address_key, normalise
from recruit_cli.errors import ConfigError, MailError
from recruit_cli.mail.message import OutgoingMessage, SendReceipt, Transport
from recruit_cli.settings import Settings

if TYPE_CHECKING:
    from recruit_cli.deadline import Deadline

TRANSPORTS = ("outbox", "smtp", "graph")


def make_transport(
    settings: Settings, test_recipient: str | None = None, *, deadline: Deadline | None = None
) -> Transport:
    """The transport ``settings.email.transport`` names.

    ``deadline`` is the run's bound (``[ops] max_run_minutes``): SMTP and Graph sends stop
    when it is near (``recruit_cli.deadline``); the outbox is a local directory.

    When a test recipient is in effect (``test_recipient`` or
    ``settings.email.test_recipient``), the transport is wrapped so that it refuses any
    message addressed to anyone else: compose() already redirects, this makes sure.

    Raises:
        ConfigError: an unknown transport name.
    """
    name = settings.email.transport
    transport: Transport
    if name == "outbox":
        from recruit_cli.mail.transports.outbox import OutboxTransport

        transport = OutboxTransport(settings.email.outbox_dir)
    elif name == "smtp":
        from recruit_cli.mail.transports.smtp import SmtpTransport

        transport = SmtpTransport.from_settings(settings, deadline=deadline)
    elif name == "graph":
        from recruit_cli.mail.transports.graph import GraphTransport

        transport = GraphTransport.from_settings(settings, deadline=deadline)
    else:
        raise ConfigError(
            f"must be one of {', '.join(TRANSPORTS)}, not {name!r}", key="email.transport"
        )
    only = test_recipient or settings.email.test_recipient
    return TestRecipientGuard(transport, only) if only else transport


class TestRecipientGuard:
    """Wraps a transport; refuses messages not addressed to the test recipient alone."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, inner: Transport, test_recipient: str) -> None:
        self.inner = inner
        self.name = inner.name
        try:
            self.test_recipient = normalise(test_recipient)
        except InvalidAddress as exc:
            raise ConfigError(
                f"the test recipient is not valid ({exc.reason})", key="email.test_recipient"
            ) from exc

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send through the wrapped transport if the message goes only to the test recipient.

        Raises:
            MailError: the message is addressed to someone else.
        """
        if tuple(map(_key, message.to)) != (address_key(self.test_recipient),):
            raise MailError(
                f"refusing to send key {message.key}: a test recipient is set and the message "
                "is addressed to someone else"
            )
        return self.inner.send(message)

    def was_sent(self, key: str) -> bool | None:
        """Whatever the wrapped transport can tell."""
        return self.inner.was_sent(key)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


def _key(address: str) -> str | None:
    """``address_key``, or None for an address that is not valid (it matches nothing)."""
    try:
        return address_key(address)
    except InvalidAddress:
        return None
