"""A real SMTP server on loopback (aiosmtpd) that records what it receives."""

from __future__ import annotations

import email
import email.message
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Handler:
    received: list[email.message.EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # addresses answered 550
    drop_in_data: bool = False  # the message arrives, the 250 never does
    data_reply: str = ""  # answered to DATA instead of accepting the message

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.received.append(message)
        if self.drop_in_data:
            server.transport.close()
        return "250 2.0.0 queued"

    def keys(self) -> list[str]:
        return [str(m["X-Recruit-Key"]) for m in self.received]


@contextmanager
def smtp_server() -> Iterator[tuple[Handler, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
