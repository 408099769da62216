"""Two `recruit run` at once on one project, each with its own state directory.

The case of a second host, or of cron and a coordinator's own account on one host: the
per-host lock does not keep them apart, so only the claim protocol (``outreach.acquire``)
does. Each round, 300 new records wait for an invitation, an ineligibility notice or a
staff safety alert, and two real `recruit` processes are started together on them. After
the rounds, once the claims of records both runs backed off from are older than the lease
(a small one, set in the configuration), one more run sends what was left. Over the outbox
and over the fake Graph (real msal), every message went out exactly once: none twice,
none lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from outreach_support import (
    GRAPH_SECRET_ENV,
    TOKEN_ENV,
    config_data,
    graph_table,
    outbox,
    person,
    records,
    toml,
)

from recruit_cli.outreach.acquire import BACKED_OFF
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox
from recruit_cli.sandbox.microsoft import MicrosoftSandbox, run_microsoft_sandbox
from recruit_cli.settings import Settings, Status

RECRUIT = str(Path(sys.executable).with_name("recruit"))
LEASE_MINUTES = 0.15  # 9 s: each run sends only while its claims are younger than 6.75 s
ROUNDS, PER_ROUND = 4, 300
DONE = {"invited", "notified", "alerted"}


@pytest.fixture
def fake() -> Iterator[MicrosoftSandbox]:
    with run_microsoft_sandbox() as server:
        yield server


def arrive(client: RedcapClient, first: int) -> dict[str, str]:
    """PER_ROUND records waiting for mail from id ``first``: record id -> expected kind."""
    rows, kinds = [], {}
    for i in range(first, first + PER_ROUND):
        rid = str(i)
        if i % 20 == 0:
            rows.append(person(rid, Status.SAFETY_REVIEW, qids_12="3"))
            kinds[rid] = "safety_alert"
        elif i % 5 == 0:
            rows.append(person(rid, Status.INELIGIBLE))
            kinds[rid] = "ineligible"
        else:
            rows.append(person(rid, Status.ELIGIBLE_ID_ASSIGNED))
            kinds[rid] = "invite"
    client.import_records(rows)
    return kinds


class Senders:
    """The study's recruit.toml and the `recruit run` processes, each its own state dir."""

    def __init__(self, tmp: Path, sb: Sandbox, email: dict[str, Any], **env: str) -> None:
        email = {**email, "claim_lease_minutes": LEASE_MINUTES}
        self.config = tmp / "recruit.toml"
        self.config.write_text(toml(config_data(tmp, url=sb.url, email=email)), encoding="utf-8")
        base = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
        self.env = {**base, TOKEN_ENV: sb.token, **env}
        self.tmp = tmp
        self.outputs: list[dict[str, Any]] = []

    def run(self, *state_dirs: str) -> None:
        """Start one `recruit run` per state directory at once; wait for them all."""
        procs = [
            subprocess.Popen(
                [RECRUIT, "-c", str(self.config), "run", "--json"],
                env={**self.env, "RECRUIT_STATE_DIR": str(self.tmp / name)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in state_dirs
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err[-2000:]
            self.outputs.append(json.loads(out))

    def sent(self) -> Counter[str]:
        """Every message key the runs say they handed to the transport."""
        return Counter(
            str(r["detail"]) for o in self.outputs for r in o["records"] if r["action"] in DONE
        )

    def contended(self) -> int:
        """Records a run left because the other held them or was claiming them too."""
        return sum(
            1
            for o in self.outputs
            for r in o["records"]
            if r["detail"] in (BACKED_OFF, "another recruit run holds it")
        )


def race(senders: Senders, client: RedcapClient) -> dict[str, str]:
    expected: dict[str, str] = {}
    for round_ in range(ROUNDS):
        expected |= arrive(client, 1 + round_ * PER_ROUND)
        senders.run("state-a", "state-b")
    time.sleep(LEASE_MINUTES * 60 + 1)  # what both backed off from is free again
    senders.run("state-a")
    return {f"{rid}:{kind}:1": rid for rid, kind in expected.items()}


def check_redcap(client: RedcapClient, keys: dict[str, str]) -> None:
    held = records(client)
    for key, rid in keys.items():
        row = held[rid]
        assert row["pipeline_email_claim"].startswith(f"{key}|sent|"), (rid, row)
        if key.endswith(":safety_alert:1"):
            assert row["pipeline_safety_alert_timestamp"], rid
        else:
            assert row["pipeline_processing_status"] in (
                Status.ELIGIBLE_INVITED,
                Status.INELIGIBLE_NOTIFIED,
            ), rid


def test_two_senders_over_the_outbox_send_each_message_once(
    sb: Sandbox, tmp_path: Path, settings: Settings, client: RedcapClient
) -> None:
    senders = Senders(tmp_path, sb, {"transport": "outbox"})
    keys = race(senders, client)
    sent = senders.sent()
    assert [k for k, n in sent.items() if n > 1] == []  # no message twice
    assert sorted(sent) == sorted(keys)  # none lost
    assert sorted(outbox(settings)) == sorted(keys)  # the same outbox directory for both
    check_redcap(client, keys)
    assert senders.contended() > 0  # the two runs really met


def test_two_senders_over_graph_send_each_message_once(
    sb: Sandbox, fake: MicrosoftSandbox, tmp_path: Path, client: RedcapClient
) -> None:
    email = graph_table(fake, sent_items_grace=0)
    senders = Senders(tmp_path, sb, email, **{GRAPH_SECRET_ENV: fake.client_secret})
    keys = race(senders, client)
    accepted = Counter(str(m["key"]) for m in fake.sent)
    assert [k for k, n in accepted.items() if n > 1] == []  # no message twice
    assert sorted(accepted) == sorted(keys)  # none lost
    assert senders.sent() == accepted
    check_redcap(client, keys)
    assert senders.contended() > 0
