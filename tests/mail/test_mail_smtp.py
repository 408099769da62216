"""The SMTP transport against a real aiosmtpd server on loopback."""

from __future__ import annotations

import email
import email.message
import email.policy
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from mail_support import PARTICIPANT, SENDER, make_settings

from recruit_cli.errors import (
    AuthError,
    ConfigError,
    DeliveryUncertain,
    MailError,
    MailSetupError,
    RecipientRejected,
    ServiceUnavailable,
)
from recruit_cli.mail.compose import compose
from recruit_cli.mail.message import OutgoingMessage
from recruit_cli.mail.transports.smtp import SmtpTransport
from recruit_cli.settings import Secret, Settings, SmtpSettings

PASSWORD = "correct horse battery staple"


@dataclass
class Handler:
    """Records what arrives; can refuse recipients, defer data or drop connections."""

    received: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_reply: dict[str, str] = field(default_factory=dict)  # address -> refusal
    data_reply: str = "250 2.0.0 Ok: queued as ABC123"
    drop_next_mail: bool = False
    drop_in_data: bool = False
    mail_commands: int = 0
    refuse_sender: str = ""
    sessions: list[tuple[Any, bool]] = field(default_factory=list)  # (peer, over TLS?)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.mail_commands += 1
        if self.drop_next_mail:  # like a server that timed out an idle connection
            self.drop_next_mail = False
            server.transport.close()
            return "421 closing"
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.rcpt_reply:
            return self.rcpt_reply[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.received.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.sessions.append((session.peer, session.ssl is not None))
        if self.drop_in_data:  # the message arrived, but the 250 never reaches the client
            server.transport.close()
        return self.data_reply


@dataclass
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="module")
def tls() -> Tls:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Tls(server=server, client=client)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(handler: Handler, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def transport(port: int, security: str = "none", **kwargs: Any) -> SmtpTransport:
    ssl_context = kwargs.pop("ssl_context", None)
    settings = SmtpSettings(host="127.0.0.1", port=port, security=security, timeout=5, **kwargs)
    return SmtpTransport(settings, SENDER, ssl_context=ssl_context)


def invite(settings: Settings, record: str = "42", to: str = PARTICIPANT) -> OutgoingMessage:
    return compose(
        settings, "invite", {"study_id": "3001"}, to=[to], key=f"{record}:invite:1",
        record_id=record,
    )  # fmt: skip


def test_plain_smtp_delivers_the_message(settings: Settings) -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        smtp = transport(port)
        message = invite(settings)
        receipt = smtp.send(message)
        smtp.close()
    assert receipt.transport == "smtp" and "queued as ABC123" in receipt.detail
    assert smtp.was_sent(message.key) is None
    assert handler.envelopes == [(SENDER, [PARTICIPANT])]
    [got] = handler.received
    assert got["X-Recruit-Key"] == "42:invite:1" and got["X-Recruit-Template"] == "invite"
    assert got["Message-ID"] == message.message_id and got["Subject"] == message.subject


def test_starttls_with_login_reuses_one_connection(settings: Settings, tls: Tls) -> None:
    handler = Handler()
    with smtp_server(
        handler, tls_context=tls.server, require_starttls=True, authenticator=authenticator,
        auth_required=True,
    ) as port:  # fmt: skip
        smtp = transport(
            port, "starttls", ssl_context=tls.client, username="lab", password=Secret(PASSWORD)
        )
        for record in ("1", "2", "3"):
            smtp.send(invite(settings, record))
        smtp.close()
    assert [m["X-Recruit-Key"] for m in handler.received] == [
        "1:invite:1", "2:invite:1", "3:invite:1",
    ]  # fmt: skip
    # One connection (one client port) carried all three, encrypted.
    assert len(set(handler.sessions)) == 1 and handler.sessions[0][1] is True


def test_implicit_tls(settings: Settings, tls: Tls) -> None:
    handler = Handler()
    with smtp_server(handler, ssl_context=tls.server) as port:
        smtp = transport(port, "ssl", ssl_context=tls.client)
        smtp.send(invite(settings))
        smtp.close()
    assert len(handler.received) == 1


def test_an_untrusted_certificate_is_a_config_error(settings: Settings, tls: Tls) -> None:
    with smtp_server(Handler(), tls_context=tls.server) as port:
        smtp = transport(port, "starttls")  # the system CAs do not trust the test CA
        with pytest.raises(ConfigError, match=r"email\.smtp\.host: the TLS certificate"):
            smtp.send(invite(settings))


def test_a_refused_login_is_an_auth_error_naming_the_variable(settings: Settings, tls: Tls) -> None:
    with smtp_server(
        Handler(), tls_context=tls.server, authenticator=authenticator, auth_required=True
    ) as port:
        smtp = transport(
            port, "starttls", ssl_context=tls.client, username="lab", password=Secret("wrong")
        )
        with pytest.raises(AuthError) as err:
            smtp.send(invite(settings))
    assert "$RECRUIT_SMTP_PASSWORD" in str(err.value) and "wrong" not in str(err.value)


def test_a_username_without_a_password_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"\$RECRUIT_SMTP_PASSWORD is empty"):
        transport(25, username="lab")


def test_starttls_that_the_server_does_not_offer_is_refused(settings: Settings) -> None:
    handler = Handler()
    with (
        smtp_server(handler) as port,
        pytest.raises(ConfigError, match="does not offer STARTTLS"),
    ):
        transport(port, "starttls").send(invite(settings))
    assert handler.received == []


def test_a_rejected_recipient_is_recipient_rejected(settings: Settings) -> None:
    handler = Handler(rcpt_reply={PARTICIPANT: f"550 5.1.1 <{PARTICIPANT}>: user unknown"})
    with smtp_server(handler) as port:
        smtp = transport(port)
        with pytest.raises(RecipientRejected) as err:
            smtp.send(invite(settings))
        # The connection stays usable for the rest of the pass.
        smtp.send(invite(settings, "43", "other@example.com"))
        smtp.close()
    assert str(err.value) == "record 42: the SMTP server refused the recipient (550)"
    assert [m["X-Recruit-Key"] for m in handler.received] == ["43:invite:1"]


def test_a_deferred_recipient_is_unavailable(settings: Settings) -> None:
    handler = Handler(rcpt_reply={PARTICIPANT: "451 4.3.0 try again later"})
    with smtp_server(handler) as port, pytest.raises(ServiceUnavailable, match="deferred"):
        transport(port).send(invite(settings))
    assert handler.received == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [("554 5.7.1 message refused", MailError), ("452 4.3.1 out of space", ServiceUnavailable)],
)
def test_a_refused_message_after_data(settings: Settings, reply: str, error: type) -> None:
    with smtp_server(Handler(data_reply=reply)) as port, pytest.raises(error, match=reply[:3]):
        transport(port).send(invite(settings))


def test_a_refused_sender_is_a_setup_error(settings: Settings) -> None:
    handler = Handler(rcpt_reply={})
    with smtp_server(handler) as port:
        smtp = SmtpTransport(
            SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=5),
            "nobody@example.org",
        )
        handler.refuse_sender = "553 5.7.1 <nobody@example.org>: sender not allowed"
        with pytest.raises(MailSetupError, match="553") as err:
            smtp.send(invite(settings))
    assert "nobody@" not in str(err.value) and handler.received == []


def test_a_server_that_is_down_is_unavailable(settings: Settings) -> None:
    with pytest.raises(ServiceUnavailable, match="cannot reach the SMTP server"):
        transport(free_port()).send(invite(settings))


def test_a_dropped_idle_connection_is_reopened_once(settings: Settings) -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        smtp = transport(port)
        smtp.send(invite(settings, "1"))
        handler.drop_next_mail = True
        smtp.send(invite(settings, "2"))
        smtp.close()
    assert [m["X-Recruit-Key"] for m in handler.received] == ["1:invite:1", "2:invite:1"]
    assert len({peer for peer, _ in handler.sessions}) == 2
    assert handler.mail_commands == 3  # the MAIL that met the dead connection, then the retry


def test_nothing_is_retried_once_data_was_sent(settings: Settings) -> None:
    handler = Handler(drop_in_data=True)
    with smtp_server(handler) as port:
        smtp = transport(port)
        with pytest.raises(DeliveryUncertain, match=r"^delivery uncertain: "):
            smtp.send(invite(settings))
    # The server got the message once; the transport did not try a second time.
    assert len(handler.received) == 1 and handler.mail_commands == 1


def test_smtp_transport_from_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, transport="smtp", smtp=SmtpSettings(host="mail.example.org", port=465,
                                                      security="ssl"),
    )  # fmt: skip
    smtp = SmtpTransport.from_settings(settings)
    assert smtp.sender == SENDER and smtp.settings.port == 465
    with pytest.raises(ConfigError, match=r"email\.smtp\.security"):
        transport(25, "tls")
