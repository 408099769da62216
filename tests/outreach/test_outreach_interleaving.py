"""Two senders driven step by step: every interleaving of the claim protocol, on the sandbox.

``outreach.acquire`` claims a window in four steps (W(x) intent, R(y) re-read, W(y) claim,
R(x) read back). Two runs, A and B, each take the four steps on the same records; all 70
orders in which their steps can interleave are played against a real REDCap (the
sandbox). In none do both hold a record; in some one of them backs off, in some both do
(the record then waits for the lease, and a later run takes it over).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from outreach_support import outbox, person, records

from recruit_cli.mail.transports.outbox import OutboxTransport
from recruit_cli.outreach.acquire import BACKED_OFF, Acquirer, Held
from recruit_cli.outreach.claims import Lease
from recruit_cli.outreach.invite import build_invite, invite_spec
from recruit_cli.outreach.plan import Decision, message_key, plan_pass
from recruit_cli.outreach.send import Outreach
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.settings import Settings, Status

IDS = ("1", "2", "3")
CLAIM, INTENT = "pipeline_email_claim", "pipeline_email_intent"
NOW = datetime.now(UTC).replace(microsecond=0)


def engine(settings: Settings, client: RedcapClient, now: datetime = NOW) -> Outreach:
    return Outreach(
        settings,
        client,
        OutboxTransport(settings.email.outbox_dir),
        invite_spec(settings),
        build=build_invite,
        read_ids=IDS,
        now=now,
    )


def planned(settings: Settings, client: RedcapClient, now: datetime = NOW) -> list[Decision]:
    spec = invite_spec(settings)
    rows = client.export_records(fields=list(spec.fields), filter_logic=spec.filter_logic)
    lease = Lease(now, settings.email.claim_lease_minutes)
    keys = lambda row: message_key(settings, row, spec.kind)  # noqa: E731
    return list(plan_pass(settings, spec, rows, keys=keys, lease=lease))


class Run:
    """One sender, stepping through the protocol on demand."""

    def __init__(self, settings: Settings, client: RedcapClient) -> None:
        self.engine = engine(settings, client)
        self.acquirer: Acquirer = self.engine.acquirer
        self.window: list[Decision] = planned(settings, client)
        self.claimed_at = 0.0
        self.held: list[Held] = []

    def step(self, n: int) -> None:
        a = self.acquirer
        if n == 1:
            self.window = a.intend(self.window)
        elif n == 2:
            self.window = a.check(self.window)
        elif n == 3:
            self.window, self.claimed_at = a.claim(self.window)
        else:
            self.held = a.confirm(self.window, self.claimed_at)

    def backed_off(self) -> int:
        return sum(1 for act in self.engine.tally.actions.values() if act.detail == BACKED_OFF)


def schedules() -> Iterator[tuple[str, ...]]:
    """Every interleaving of A's four steps with B's, as a sequence of "A" / "B"."""
    for a_slots in itertools.combinations(range(8), 4):
        yield tuple("A" if i in a_slots else "B" for i in range(8))


def play(settings: Settings, client: RedcapClient, order: tuple[str, ...]) -> dict[str, Any]:
    client.import_records(
        [person(rid, Status.ELIGIBLE_ID_ASSIGNED, **{CLAIM: "", INTENT: ""}) for rid in IDS],
        overwrite=True,
    )
    runs = {"A": Run(settings, client), "B": Run(settings, client)}
    steps = Counter[str]()
    for who in order:
        steps[who] += 1
        runs[who].step(steps[who])
    holders = Counter(h.decision.record_id for r in runs.values() for h in r.held)
    return {
        "holders": holders,
        "held_by": {who: len(r.held) for who, r in runs.items()},
        "backed_off": sum(r.backed_off() for r in runs.values()),
    }


def test_no_interleaving_lets_both_runs_hold_a_record(
    settings: Settings, client: RedcapClient
) -> None:
    outcomes = Counter[str]()
    backed_off = 0
    for order in schedules():
        result = play(settings, client, order)
        assert all(n <= 1 for n in result["holders"].values()), (order, result)
        held = result["held_by"]
        # All three records go to the same run or to none: the window moves as one.
        assert set(held.values()) <= {0, len(IDS)}, (order, result)
        outcomes["A" if held["A"] else "B" if held["B"] else "nobody"] += 1
        backed_off += result["backed_off"]
    assert sum(outcomes.values()) == 70
    # Run alone first, a run holds; in the thick of it one or both back off.
    assert outcomes["A"] and outcomes["B"] and outcomes["nobody"], outcomes
    assert backed_off > 0


def test_a_back_off_leaves_the_record_to_a_later_run_once_the_lease_is_over(
    settings: Settings, client: RedcapClient
) -> None:
    client.import_records([person(rid, Status.ELIGIBLE_ID_ASSIGNED) for rid in IDS])
    a, b = Run(settings, client), Run(settings, client)
    # A claims; B writes its intent over A's, then reads A's young claim and hands off;
    # A reads B's intent back and backs off too. Nobody sends.
    for who, n in [(a, 1), (a, 2), (a, 3), (b, 1), (b, 2), (a, 4), (b, 3), (b, 4)]:
        who.step(n)
    assert a.held == b.held == []
    assert a.backed_off() == len(IDS)
    assert {act.action for act in b.engine.tally.actions.values()} == {"skipped"}
    held = records(client)
    assert all(held[rid][CLAIM].startswith(f"{rid}:invite:1|claimed|") for rid in IDS)
    assert outbox(settings) == {}

    # Within the lease, every run leaves the records alone.
    soon = engine(settings, client, NOW + timedelta(minutes=30))
    assert soon.apply(planned(settings, client, NOW + timedelta(minutes=30))).counts == {
        "skipped": 3
    }
    # Past it, the next run takes them over, asks the outbox, and sends each once.
    late = NOW + timedelta(minutes=61)
    result = engine(settings, client, late).apply(planned(settings, client, late))
    assert result.counts == {"invited": 3}
    assert sorted(outbox(settings)) == [f"{rid}:invite:1" for rid in IDS]
    assert {r[CLAIM].split("|")[1] for r in records(client).values()} == {"sent"}


@pytest.fixture(autouse=True)
def _quiet_outbox_dir(settings: Settings) -> None:
    settings.email.outbox_dir.mkdir(parents=True, exist_ok=True)
