"""An SMTP server that quotes the recipient back: its reply never carries the address on.

Mail servers quote the recipient in their refusals in every style (``<jane.doe>``,
``jane.doe@x.org``, sendmail's ``jane.doe... User unknown``), at RCPT or only after DATA.
Whatever recruit repeats of a reply goes through ``redact.server_text``; these run
`recruit invite` against aiosmtpd and look at stderr, ``--json``, ``--log-file`` and every
pipeline field REDCap holds afterwards.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from outreach_support import TOKEN_ENV, config_data, person, records, toml

from recruit_cli.cli.main import run
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox
from recruit_cli.settings import Status

ADDRESS = "Jane.Doe+study@example.org"
LOCAL = "jane.doe+study"
PIPELINE = ("pipeline_", "assigned_study_id")


@dataclass
class Quoting:
    """Answers RCPT or DATA with ``reply`` (``{local}`` and ``{address}`` filled in)."""

    at: str = "RCPT"
    reply: str = ""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.at == "RCPT":
            return self.reply.format(local=address.split("@")[0], address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        address = envelope.rcpt_tos[0]
        return self.reply.format(local=address.split("@")[0], address=address.upper())


REPLIES = {
    "RCPT angle-quoted": ("RCPT", "550 5.1.1 <{local}>: Recipient address rejected"),
    "DATA angle-quoted": ("DATA", "550 5.1.1 <{local}>: Recipient address rejected"),
    "DATA whole address": ("DATA", "554 5.7.1 {address}: relay access denied for {local}"),
    "DATA sendmail": ("DATA", "550 5.1.1 {local}... User unknown"),
    "DATA quoted, deferred": ("DATA", '451 4.3.0 "{local}": mailbox busy, try later'),
}


@pytest.fixture
def smtp() -> Iterator[tuple[Quoting, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    handler = Quoting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.mark.parametrize("case", sorted(REPLIES))
def test_a_reply_quoting_the_recipient_is_redacted_everywhere(
    case: str,
    smtp: tuple[Quoting, int],
    sb: Sandbox,
    client: RedcapClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler, port = smtp
    handler.at, handler.reply = REPLIES[case]
    smtp_table = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5}
    data = config_data(tmp_path, url=sb.url, email={"transport": "smtp", "smtp": smtp_table})
    config = tmp_path / "recruit.toml"
    config.write_text(toml(data), encoding="utf-8")
    monkeypatch.setenv(TOKEN_ENV, sb.token)
    client.import_records([person("1", Status.ELIGIBLE_ID_ASSIGNED, participant_email=ADDRESS)])
    log = tmp_path / "recruit.log"

    code = run(["-c", str(config), "-vv", "--log-file", str(log), "invite", "--json"])

    out, err = capsys.readouterr()
    row = records(client, "1")["1"]
    pipeline = " ".join(v for k, v in row.items() if k.startswith(PIPELINE))
    said = "\n".join([out, err, log.read_text(encoding="utf-8"), pipeline])
    if handler.at == "RCPT":  # refused for good: the record goes to review, the pass is ok
        assert code == 0 and row["pipeline_processing_status"] == Status.MANUAL_REVIEW
        assert "email_invalid" in row["pipeline_ineligibility_reasons"]
    else:  # the message itself was refused or deferred: the pass stops (7, or 4)
        assert code in (4, 7)
        assert "<address>" in out  # the reply is shown (a notice), redacted
        assert json.loads(out)["exit_code"] == code
    assert LOCAL not in said.lower()
    assert "jane" not in said.lower()
