"""Benchmark: the whole `invite` pass for N participants: sandbox REDCap + its Graph stand-in.

The issue's budget: 1,000 invitations through the Graph stand-in with pacing off take <= 60 s,
and the REDCap calls per pass stay <= a small constant + N. The table shows the pass's
REDCap calls (select, per-window re-read, claim+mark imports) against that bound, for the
outbox and for Graph, and a second pass that finds nothing to do.

    .venv/bin/python bench/bench_invite.py [--count 1000] [--transport graph outbox]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from recruit_cli.config import settings_from_mapping
from recruit_cli.mail.transports import make_transport
from recruit_cli.outreach.invite import invite_pass
from recruit_cli.outreach.result import OutreachDetails
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.microsoft import run_microsoft_sandbox
from recruit_cli.settings import Settings, Status

MAILBOX = "lab@example.org"


def settings_for(tmp: Path, url: str, token: str, transport: str, fake: Any) -> Settings:
    email: dict[str, Any] = {
        "transport": transport,
        "sender": MAILBOX,
        "booking_url": "https://book.example.org/lab",
        "per_minute": 0,
        "outbox_dir": str(tmp / "outbox"),
    }
    environ = {"REDCAP_API_TOKEN": token}
    if transport == "graph":
        email["graph"] = {
            "mode": "app",
            "client_id": fake.client_id,
            "tenant_id": fake.tenant_id,
            "authority_host": fake.authority_host,
            "endpoint": fake.endpoint,
            "ca_bundle": str(fake.ca_bundle),
            "mailbox": MAILBOX,
        }
        environ["RECRUIT_GRAPH_CLIENT_SECRET"] = fake.client_secret
    data = {
        "study": {"name": "Benchmark study"},
        "redcap": {"url": url},
        "fields": {"email": "participant_email", "study_id": "assigned_study_id"},
        "email": email,
        "state_dir": str(tmp / "state"),
    }
    return settings_from_mapping(data, environ=environ)


def one(count: int, transport_name: str) -> list[str]:
    rows = [
        {
            "record_id": str(i),
            "pipeline_processing_status": Status.ELIGIBLE_ID_ASSIGNED.value,
            "assigned_study_id": str(3000 + i),
            "participant_email": f"person{i}@example.org",
        }
        for i in range(1, count + 1)
    ]
    with (
        run_sandbox(faults="") as sb,
        run_microsoft_sandbox() as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        settings = settings_for(Path(tmp), sb.url, sb.token, transport_name, fake)
        with RedcapClient.from_settings(settings) as client:
            client.import_records(rows)
            transport = make_transport(settings)
            try:
                started = time.perf_counter()
                result = invite_pass(settings, client, transport)
                seconds = time.perf_counter() - started
                again = invite_pass(settings, client, transport)
            finally:
                transport.close()
        sent = len(fake.sent) if transport_name == "graph" else result.detail(OutreachDetails).sent
        calls = result.detail(OutreachDetails).redcap_calls
        ok = result.counts == {"invited": count} and sent == count and not again.actions
        return [
            transport_name,
            str(count),
            f"{seconds:.1f}",
            f"{count / seconds:.0f}",
            str(calls),
            f"{2 + count}",
            str(again.detail(OutreachDetails).redcap_calls),
            "yes" if ok and calls <= 2 + count else "NO",
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--transport", nargs="+", default=["graph", "outbox"])
    args = parser.parse_args()
    header = ["transport", "N", "seconds", "msg/s", "REDCap calls", "bound 2+N", "2nd pass", "ok"]
    table = [one(args.count, name) for name in args.transport]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *table]:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
