"""The outgoing message and the transport interface every mail transport implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/html"
    data: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered e-mail, ready for any transport.

    ``key`` is the idempotency key "<record>:<kind>:<template version>" (for reports and
    alerts, a key naming the week or the alert). Transports put it in the
    ``X-Recruit-Key`` header (Graph also in a single-value extended property) so that a
    later pass can find out whether the message went out.
    """

    key: str
    kind: str  # "invite" | "ineligible" | "safety_alert" | "report"
    to: tuple[str, ...]
    sender: str
    subject: str
    text: str
    html: str
    message_id: str  # "<...@...>"
    record_id: str | None = None
    attachments: tuple[Attachment, ...] = field(default=())


@dataclass(frozen=True)
class SendReceipt:
    key: str
    transport: str
    detail: str = ""  # e.g. the .eml path or the SMTP queue id; never an address


class Transport(Protocol):
    """Sends messages. Raises:

    - ``errors.RecipientRejected`` for a permanent error about this recipient (invalid
      address): the record goes to review, the pass goes on;
    - ``errors.ServiceUnavailable`` when the service can't be reached or stays throttled
      after the retries the transport is allowed (never retry after a 202/250 acceptance);
    - ``errors.AuthError`` when sign-in is needed (Graph);
    - ``errors.MailSetupError`` when the set-up refuses every message (send-as denied, a
      mailbox not enabled): exit 3;
    - ``errors.MailError`` for other refusals of this message (exit 7).
    """

    name: str

    def send(self, message: OutgoingMessage) -> SendReceipt: ...

    def was_sent(self, key: str) -> bool | None:
        """True/False when the transport can tell whether ``key`` went out; None if it can't.

        May raise ``errors.ServiceUnavailable`` or ``errors.AuthError`` when the service
        can't be asked right now (Graph): the pass stops rather than guess.
        """
        ...

    def close(self) -> None: ...
