"""The SMTP transport: smtplib over STARTTLS or implicit TLS, one connection per pass.

The SMTP dialogue is driven command by command (MAIL, RCPT, DATA) so that we know how far
a message got. A connection that turns out to be dead before DATA is re-opened once and the
message retried; once DATA has started nothing is retried, because the server may already
have accepted the message (never a duplicate e-mail). SMTP cannot tell afterwards whether a
message went out, so ``was_sent`` is always None.

Every step runs within the send's wall-clock bound (``[email.smtp] max_send_seconds``, or
what is left of the run's ``[ops] max_run_minutes``, whichever comes first): smtplib's
``timeout`` bounds each wait for a reply, and a server that answers a byte at a time would
otherwise hold the run for ever. Past the bound the connection is cut: before DATA the
message was not sent (exit 4); from DATA on, delivery is uncertain. Near the end of the run
no new message is started (``OutOfTime``, exit 0: the next run sends it).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from typing import TypeVar

from recruit_cli.deadline import Deadline, Expired, call_within
from recruit_cli.errors import (
    AuthError,
    ConfigError,
    DeliveryUncertain,
    MailError,
    MailSetupError,
    MailUnavailable,
    RecipientRejected,
)
from recruit_cli.logs import get_logger
from recruit_cli.mail.message import OutgoingMessage, SendReceipt
from recruit_cli.mail.mime import to_bytes
from recruit_cli.redact import server_text
from recruit_cli.settings import Settings, SmtpSettings

log = get_logger("mail.smtp")

T = TypeVar("T")
SECURITY_MODES = ("starttls", "ssl", "none")
CLOSE_SECONDS = 5.0  # QUIT at the end of a pass: a courtesy, never worth a longer wait


class _DeadConnection(Exception):
    """The server went away before DATA: the message can safely be tried again."""


class _TooSlow(Exception):
    """A step of the dialogue passed the send's bound; the connection was cut."""


class _Opening:
    """The connection being opened, so that a cut can reach it before it is returned."""

    conn: smtplib.SMTP | None = None


class SmtpTransport:
    """Sends through an SMTP server (``[email.smtp]``)."""

    name = "smtp"

    def __init__(
        self,
        settings: SmtpSettings,
        sender: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        """Set up the transport; the connection is opened by the first send.

        Args:
            settings: Host, port, security mode, login, timeout and ``max_send_seconds``.
            sender: The envelope sender (``[email] sender``).
            ssl_context: For tests (a private CA); default: the system's trusted CAs.
            deadline: The run's bound (``[ops] max_run_minutes``); None: none.
        """
        if settings.security not in SECURITY_MODES:
            raise ConfigError(
                f"must be one of {', '.join(SECURITY_MODES)}, not {settings.security!r}",
                key="email.smtp.security",
            )
        if settings.username and not settings.password:
            raise ConfigError(
                f"a username is set but ${settings.password_env} is empty",
                key="email.smtp.password_env",
            )
        self.settings = settings
        self.sender = sender
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.deadline = deadline if deadline is not None else Deadline.never()
        self._bound = self.deadline  # the bound of the send under way
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, deadline: Deadline | None = None
    ) -> SmtpTransport:
        """The transport for ``settings.email``, within the run's ``deadline``."""
        return cls(settings.email.smtp, settings.email.sender, deadline=deadline)

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send one message; see the module docstring for what is retried.

        Raises:
            RecipientRejected: the server refused a recipient for good (5xx at RCPT).
            DeliveryUncertain: the connection was lost during DATA: the message may have
                gone out (never retried).
            MailUnavailable: the server is unreachable, timed out or answered 4xx; the
                message was not accepted.
            AuthError: the server refused the login.
            MailSetupError: the server refused the sender (every message would fail).
            MailError: the server refused this message for good.
            DeadlineExceeded: the run's time bound passed before the message was handed over
                (from DATA on: DeliveryUncertain).
            OutOfTime: the run is near its time bound: the message was not started (exit 0).
        """
        self.deadline.require_time(f"the message for key {message.key}")
        s = self.settings
        self._bound = self.deadline.within(
            s.max_send_seconds, f"[email.smtp] max_send_seconds = {s.max_send_seconds:g}"
        )
        data = to_bytes(message)
        try:
            conn = self._connection()
            try:
                self._envelope(conn, message)
            except _DeadConnection:
                # Servers close idle connections; nothing of this message was sent yet.
                self._drop()
                log.info("the SMTP server closed the connection; reconnecting once")
                conn = self._connection()
                try:
                    self._envelope(conn, message)
                except _DeadConnection as exc:
                    self._drop()
                    raise MailUnavailable(
                        f"{self._where()}: the connection was lost before the message was "
                        "sent (it was not sent)"
                    ) from exc
        except _TooSlow as exc:
            what = f"{self._where()}: the message for key {message.key} (not sent)"
            if self._bound is self.deadline:
                raise self.deadline.exceeded(what) from exc
            raise MailUnavailable(
                f"{self._where()}: no answer within {self._bound.describe()}; the message for "
                f"key {message.key} was not sent"
            ) from exc
        return self._data(conn, message, data)

    def was_sent(self, key: str) -> bool | None:
        """SMTP cannot tell: always None."""
        return None

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open (a few seconds at most)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            seconds = min(CLOSE_SECONDS, self.settings.timeout)
            try:
                call_within(seconds, conn.quit, on_expiry=lambda: _cut(conn), name="recruit-smtp")
            except (smtplib.SMTPException, OSError, Expired):
                _close_quietly(conn)

    # -- the dialogue -------------------------------------------------------------------

    def _envelope(self, conn: smtplib.SMTP, message: OutgoingMessage) -> None:
        """MAIL FROM and RCPT TO; raises _DeadConnection if the server went away."""
        who = f"record {message.record_id}: " if message.record_id else ""
        with self._dead_on_disconnect():
            code, reply = self._step(conn, lambda: conn.mail(self.sender))
        if code == 421:  # "closing transmission channel": the connection is gone
            raise _DeadConnection()
        if code != 250:
            self._reset(conn)
            if 400 <= code < 500:
                raise MailUnavailable(f"{self._where()}: MAIL FROM answered {_reply(code, reply)}")
            # Every message would meet the same refusal: a set-up problem, not this record's.
            raise MailSetupError(
                f"{self._where()}: the sender ([email] sender) was refused: {_reply(code, reply)}"
            )
        for recipient in message.to:
            with self._dead_on_disconnect():
                code, reply = self._step(conn, partial(conn.rcpt, recipient))
            if code in (250, 251):
                continue
            if code == 421:
                raise _DeadConnection()
            self._reset(conn)
            # The reply usually quotes the address: only the code goes in the message.
            if 400 <= code < 500:
                raise MailUnavailable(f"{who}the SMTP server deferred the recipient ({code})")
            raise RecipientRejected(f"{who}the SMTP server refused the recipient ({code})")

    def _data(self, conn: smtplib.SMTP, message: OutgoingMessage, data: bytes) -> SendReceipt:
        """DATA: from here on nothing is retried."""
        try:
            code, reply = self._step(conn, lambda: conn.data(data))
        except _TooSlow as exc:
            raise DeliveryUncertain(
                f"delivery uncertain: {self._where()} did not finish taking the message for "
                f"key {message.key} within {self._bound.describe()}"
            ) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise DeliveryUncertain(
                f"delivery uncertain: the connection to {self._where()} was lost after the "
                f"message for key {message.key} was handed over"
            ) from exc
        except smtplib.SMTPDataError as exc:  # DATA itself (before the message) refused
            self._reset(conn)
            raise self._data_error(exc.smtp_code, exc.smtp_error, message.to) from exc
        if code != 250:
            self._reset(conn)
            raise self._data_error(code, reply, message.to)
        log.info("SMTP accepted key %s", message.key)
        detail = _reply(code, reply, message.to)
        return SendReceipt(key=message.key, transport=self.name, detail=detail)

    def _data_error(
        self, code: int, reply: bytes | str, recipients: Sequence[str]
    ) -> MailError | MailUnavailable:
        said = _reply(code, reply, recipients)
        if 400 <= code < 500:
            return MailUnavailable(f"{self._where()}: the message was deferred: {said}")
        return MailError(f"{self._where()}: the message was refused: {said}")

    # -- the connection -----------------------------------------------------------------

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            opening = _Opening()
            try:
                self._conn = call_within(
                    self._bound.remaining(),
                    lambda: self._connect(opening),
                    on_expiry=lambda: _cut(opening.conn),
                    name="recruit-smtp",
                )
            except Expired as exc:
                raise _TooSlow() from exc
        return self._conn

    def _step(self, conn: smtplib.SMTP, command: Callable[[], T]) -> T:
        """One command of the dialogue, within the send's bound; past it, the cut."""
        try:
            return call_within(
                self._bound.remaining(), command, on_expiry=lambda: _cut(conn), name="recruit-smtp"
            )
        except Expired as exc:
            self._drop()
            raise _TooSlow() from exc

    def _connect(self, opening: _Opening) -> smtplib.SMTP:
        s = self.settings
        conn: smtplib.SMTP | None = None
        try:
            # Connecting reads the greeting before the object is ours, so a cut can't reach
            # that one read; the send's bound still holds (call_within stops waiting).
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.ssl_context)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            opening.conn = conn
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise ConfigError(
                        f"{self._where()} does not offer STARTTLS; refusing to send in clear",
                        key="email.smtp.security",
                    )
                conn.starttls(context=self.ssl_context)
                conn.ehlo()
            if s.username:
                self._login(conn)
        except ssl.SSLCertVerificationError as exc:
            _close_quietly(conn)
            raise ConfigError(
                f"the TLS certificate of {self._where()} failed verification: {exc.verify_message}",
                key="email.smtp.host",
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(conn)
            raise MailUnavailable(
                f"cannot reach the SMTP server {self._where()}: {_describe(exc)}"
            ) from exc
        except BaseException:
            _close_quietly(conn)
            raise
        return conn

    def _login(self, conn: smtplib.SMTP) -> None:
        s = self.settings
        try:
            conn.login(s.username, s.password.reveal())
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthError(
                f"the SMTP server {self._where()} refused the login for [email.smtp] username "
                f"({exc.smtp_code}); check ${s.password_env}"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise ConfigError(
                f"{self._where()} does not offer AUTH on this connection (is "
                "[email.smtp] security right?)",
                key="email.smtp.username",
            ) from exc

    @contextmanager
    def _dead_on_disconnect(self) -> Iterator[None]:
        try:
            yield
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _DeadConnection() from exc

    def _reset(self, conn: smtplib.SMTP) -> None:
        # RSET so the connection can carry the next message; drop it if even that fails.
        try:
            self._step(conn, conn.rset)
        except (smtplib.SMTPException, OSError, _TooSlow):
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        _close_quietly(conn)

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"


def _cut(conn: smtplib.SMTP | None) -> None:
    """Shut the connection's socket: a reply being read ends at once (the bound passed)."""
    sock = getattr(conn, "sock", None) if conn is not None else None
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _close_quietly(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with suppress(OSError):
            conn.close()


def _reply(code: int, reply: bytes | str, recipients: Sequence[str] = ()) -> str:
    """An SMTP reply for a message or a log: addresses and quoted local parts the server
    quoted, and the recipients' wherever they appear, are blanked (``redact.server_text``)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    text = server_text(" ".join(text.split()), addresses=recipients)
    return f"{code} {text}".strip()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return _reply(0, str(exc)).removeprefix("0 ") or type(exc).__name__
