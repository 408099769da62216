"""Benchmark: N sends through GraphTransport against the sandbox's Graph stand-in (pacing off).

Measures the transport alone (token from the shared MSAL cache, https to loopback, JSON body
with headers, extended property and an attachment); the <= 60 s budget for 1,000 invitations
is for the whole invite pass, REDCap writes included.

    .venv/bin/python bench/bench_invite_graph.py [--count 1000] [--mode app]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from recruit_cli.mail.message import Attachment, OutgoingMessage
from recruit_cli.mail.transports.graph import GraphTransport
from recruit_cli.msgraph.auth import MicrosoftAuth
from recruit_cli.msgraph.client import GraphClient
from recruit_cli.sandbox.microsoft import run_microsoft_sandbox
from recruit_cli.settings import (
    EmailSettings,
    GraphSettings,
    RedcapSettings,
    Secret,
    Settings,
    StudySettings,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--mode", choices=("delegated", "shared", "app"), default="app")
    args = parser.parse_args()

    with run_microsoft_sandbox() as fake, tempfile.TemporaryDirectory() as tmp:
        graph = GraphSettings(
            mode=args.mode,
            client_id=fake.client_id,
            tenant_id=fake.tenant_id,
            authority_host=fake.authority_host,
            endpoint=fake.endpoint,
            ca_bundle=fake.ca_bundle,
            mailbox="" if args.mode == "delegated" else "lab@example.org",
            client_secret=Secret(fake.client_secret if args.mode == "app" else ""),
        )
        settings = Settings(
            path=None,
            study=StudySettings(name="Benchmark study"),
            redcap=RedcapSettings(url="https://redcap.example.org/api/"),
            email=EmailSettings(transport="graph", per_minute=0, graph=graph),
            state_dir=Path(tmp),
        )
        auth = MicrosoftAuth.from_settings(settings)
        auth.login()
        transport = GraphTransport(GraphClient(auth), per_minute=0)
        messages = [
            OutgoingMessage(
                key=f"{n}:invite:1",
                kind="invite",
                to=(f"participant{n}@example.com",),
                sender="lab@example.org",
                subject="Your study appointment",
                text=f"Your study ID is {3000 + n}.",
                html=f"<p>Your study ID is <b>{3000 + n}</b>.</p>" + "<p>Booking…</p>" * 20,
                message_id=f"<{n}.invite@recruit.bench>",
                record_id=str(n),
                attachments=(Attachment("info.txt", "text/plain", b"x" * 2048),),
            )
            for n in range(args.count)
        ]
        start = time.perf_counter()
        for message in messages:
            transport.send(message)
        sent_s = time.perf_counter() - start
        start = time.perf_counter()
        checked = sum(1 for n in range(0, args.count, 10) if transport.was_sent(f"{n}:invite:1"))
        check_s = time.perf_counter() - start
        transport.close()
        assert len(fake.sent) == args.count, "the fake did not receive every message"

    rows = [
        ("sendMail", args.count, sent_s),
        ("was_sent (Sent Items query)", checked, check_s),
    ]
    print(f"GraphTransport against the Graph stand-in ({args.mode} mode, pacing off)")
    print(f"{'step':<30}{'count':>8}{'seconds':>10}{'per s':>10}")
    for step, count, seconds in rows:
        print(f"{step:<30}{count:>8}{seconds:>10.2f}{count / seconds:>10.1f}")


if __name__ == "__main__":
    main()
