"""kill -9 at every step of claim -> send -> mark, and REDCap failing mid-pass.

The CLI runs as a subprocess (`recruit -c cfg invite`) with ``RECRUIT_CRASH_AT`` naming the
step; then it runs again without, and then a pass runs once the killed run's claims are
older than the lease (``later``: the pass run with its clock past the lease, as the next
cron run an hour on would be). Whatever the step, every participant ends up invited exactly
once and REDCap marks them all. Duplicates are caught exactly: the fake Graph counts every
accepted sendMail, the SMTP server every message, and an outbox message re-sent under the
same key would get a new Message-ID.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from outreach_support import (
    GRAPH_SECRET_ENV,
    TOKEN_ENV,
    MakeSettings,
    config_data,
    graph_table,
    outbox,
    person,
    records,
    toml,
)
from smtp_support import Handler

from recruit_cli.exit_codes import ExitCode
from recruit_cli.mail.message import OutgoingMessage, SendReceipt
from recruit_cli.mail.transports import make_transport
from recruit_cli.mail.transports.outbox import OutboxTransport
from recruit_cli.outreach.invite import invite_pass
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff
from recruit_cli.sandbox import Sandbox
from recruit_cli.sandbox.microsoft import MicrosoftSandbox, run_microsoft_sandbox
from recruit_cli.settings import Settings, Status

RECRUIT = str(Path(sys.executable).with_name("recruit"))
S = Status
STATUS, CLAIM = "pipeline_processing_status", "pipeline_email_claim"
N = 123  # two windows of claims (100 a window)


def later() -> datetime:
    """A clock past the lease of every claim written so far (default lease: 60 minutes)."""
    return datetime.now(UTC) + timedelta(hours=2)


def rerun_later(settings: Settings, client: RedcapClient) -> Any:
    """The pass a cron run makes once the killed run's claims have gone stale."""
    transport = make_transport(settings)
    try:
        return invite_pass(settings, client, transport, now=later())
    finally:
        transport.close()


@pytest.fixture
def fake() -> Iterator[MicrosoftSandbox]:
    with run_microsoft_sandbox() as server:
        yield server


class Cli:
    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.config, self.env = config, env

    def command(self) -> list[str]:
        return [RECRUIT, "-c", str(self.config), "invite"]

    def run(self, crash_at: str = "") -> subprocess.CompletedProcess[str]:
        env = {**self.env, "RECRUIT_CRASH_AT": crash_at}
        return subprocess.run(
            self.command(), env=env, capture_output=True, text=True, timeout=120, check=False
        )


def cli(tmp_path: Path, sb: Sandbox, email: dict[str, Any] | None = None, **env: str) -> Cli:
    data = config_data(tmp_path, url=sb.url, **({"email": email} if email else {}))
    path = tmp_path / "recruit.toml"
    path.write_text(toml(data), encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
    return Cli(path, {**base, TOKEN_ENV: sb.token, **env})


def seed(client: RedcapClient, n: int = N) -> None:
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, n + 1)])


def assert_all_invited_once(client: RedcapClient, n: int = N) -> None:
    held = records(client)
    for i in range(1, n + 1):
        row = held[str(i)]
        assert row[STATUS] == S.ELIGIBLE_INVITED, i
        assert row[CLAIM].startswith(f"{i}:invite:1|sent|"), i
        assert row["pipeline_invitation_sent_timestamp"], i


def message_ids(settings: Settings) -> dict[str, str]:
    return {key: str(m["Message-ID"]) for key, m in outbox(settings).items()}


OUTBOX_POINTS = [
    "outreach.after_intent:1",
    "outreach.after_intent:2",
    "outreach.after_claim:1",
    "outreach.after_claim:2",
    "outreach.after_hold:1",
    "outreach.after_hold:2",
    "outreach.after_send:1",
    "outreach.after_send:114",
    "outreach.after_mark:1",
    "outreach.after_mark:2",
    "outbox.before_rename:5",
]


@pytest.mark.parametrize("point", OUTBOX_POINTS)
def test_outbox_kill_at_each_step_then_rerun(
    point: str, sb: Sandbox, tmp_path: Path, settings: Settings, client: RedcapClient
) -> None:
    seed(client)
    run = cli(tmp_path, sb)
    crashed = run.run(crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    before = message_ids(settings)
    # At once, the killed run's claims still hold their records: nothing of theirs is sent.
    done = run.run()
    assert done.returncode == 0, done.stderr
    assert {k: v for k, v in message_ids(settings).items() if k in before} == before
    assert rerun_later(settings, client).exit_code == ExitCode.OK
    after = message_ids(settings)
    assert sorted(after) == sorted(f"{i}:invite:1" for i in range(1, N + 1))
    # A message already written was never written again (same Message-ID).
    assert {k: after[k] for k in before} == before
    assert_all_invited_once(client)


@pytest.mark.parametrize(
    "point",
    [
        "outreach.after_intent:2",
        "outreach.after_claim:2",
        "outreach.after_hold:1",
        "outreach.after_send:112",
        "outreach.after_mark:1",
    ],
)
def test_graph_kill_at_each_step_then_rerun(
    point: str,
    sb: Sandbox,
    fake: MicrosoftSandbox,
    tmp_path: Path,
    make_settings: MakeSettings,
    client: RedcapClient,
) -> None:
    seed(client)
    email = graph_table(fake, sent_items_grace=0)
    secret = {GRAPH_SECRET_ENV: fake.client_secret}
    run = cli(tmp_path, sb, email, **secret)
    crashed = run.run(crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    done = run.run()
    assert done.returncode == 0, done.stderr
    assert rerun_later(make_settings(environ=secret, email=email), client).exit_code == 0
    assert Counter(str(m["key"]) for m in fake.sent) == Counter(
        {f"{i}:invite:1": 1 for i in range(1, N + 1)}
    )
    assert_all_invited_once(client)


POINTS = (
    "outreach.after_intent",
    "outreach.after_claim",
    "outreach.after_hold",
    "outreach.after_send",
    "outreach.after_mark",
)


def seed_more(client: RedcapClient, first: int, count: int) -> int:
    """``count`` more records from id ``first``; returns the next free id."""
    client.import_records(
        [person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(first, first + count)]
    )
    return first + count


def kill_loop(
    run: Cli,
    fake: MicrosoftSandbox,
    client: RedcapClient,
    *,
    seed_: int,
    exact_kills: int,
    timed: int,
    per_pass: int,
) -> tuple[int, int]:
    """Kill passes: first at random named steps, then after random delays; then let one finish.

    New submissions arrive before every pass, as under cron: a killed run's claims hold
    their records for the lease, so each pass needs fresh work for the kill to land on.
    Checks after every killed pass that no key was ever sent twice. Returns the kill count
    and the number of records.
    """
    rng = random.Random(seed_)
    kills, next_id = 0, 1
    for attempt in range(exact_kills + timed):
        next_id = seed_more(client, next_id, per_pass)
        if attempt < exact_kills:
            crashed = run.run(crash_at=f"{rng.choice(POINTS)}:{rng.randint(1, 2)}")
            kills += crashed.returncode == -signal.SIGKILL
        else:
            env = {**run.env, "RECRUIT_CRASH_AT": ""}
            proc = subprocess.Popen(
                run.command(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(rng.uniform(0.3, 1.2))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=60)
        keys = Counter(str(m["key"]) for m in fake.sent)
        assert all(count == 1 for count in keys.values()), keys
    assert run.run().returncode == 0
    return kills, next_id - 1


def test_random_kills_never_duplicate_or_lose_an_invitation(
    sb: Sandbox,
    fake: MicrosoftSandbox,
    tmp_path: Path,
    make_settings: MakeSettings,
    client: RedcapClient,
) -> None:
    secret = {GRAPH_SECRET_ENV: fake.client_secret}
    email = graph_table(fake, sent_items_grace=0)
    run = cli(tmp_path, sb, email, **secret)
    kills, n = kill_loop(run, fake, client, seed_=11, exact_kills=5, timed=2, per_pass=150)
    assert kills >= 4
    assert rerun_later(make_settings(environ=secret, email=email), client).exit_code == 0
    assert Counter(str(m["key"]) for m in fake.sent) == Counter(
        {f"{i}:invite:1": 1 for i in range(1, n + 1)}
    )
    assert_all_invited_once(client, n)


@pytest.mark.slow
@pytest.mark.parametrize("seed_", [1, 2, 3])
def test_many_random_kills_at_larger_size(
    seed_: int,
    sb: Sandbox,
    fake: MicrosoftSandbox,
    tmp_path: Path,
    make_settings: MakeSettings,
    client: RedcapClient,
) -> None:
    secret = {GRAPH_SECRET_ENV: fake.client_secret}
    email = graph_table(fake, sent_items_grace=0)
    run = cli(tmp_path, sb, email, **secret)
    _, n = kill_loop(run, fake, client, seed_=seed_, exact_kills=15, timed=15, per_pass=150)
    assert rerun_later(make_settings(environ=secret, email=email), client).exit_code == 0
    assert Counter(str(m["key"]) for m in fake.sent) == Counter(
        {f"{i}:invite:1": 1 for i in range(1, n + 1)}
    )
    assert_all_invited_once(client, n)


class RedcapFailsAfterFirstSend(OutboxTransport):
    """An outbox whose first send is followed by REDCap misbehaving (sandbox faults)."""

    def __init__(self, directory: Path, sb: Sandbox, faults: str) -> None:
        super().__init__(directory)
        self.sb, self.faults, self.done = sb, faults, False

    def send(self, message: OutgoingMessage) -> SendReceipt:
        receipt = super().send(message)
        if not self.done:
            self.done = True
            self.sb.set_faults(self.faults)
        return receipt


@pytest.mark.parametrize("faults", ["503:1", "drop-after-commit:1", "drop:1"])
def test_redcap_failing_after_a_send_never_causes_a_second_email(
    faults: str, sb: Sandbox, settings: Settings, client: RedcapClient
) -> None:
    seed(client)
    transport = RedcapFailsAfterFirstSend(settings.email.outbox_dir, sb, faults)
    with RedcapClient.from_settings(
        settings, backoff=Backoff(attempts=2, base=0.01, max_wait=0.01)
    ) as flaky:
        first = invite_pass(settings, flaky, transport)
    assert first.exit_code == ExitCode.UNAVAILABLE
    before = message_ids(settings)
    sb.set_faults("")
    second = invite_pass(settings, client, OutboxTransport(settings.email.outbox_dir), now=later())
    assert second.exit_code == ExitCode.OK
    after = message_ids(settings)
    assert {k: after[k] for k in before} == before
    assert len(after) == N
    assert_all_invited_once(client)


SMTP_N = 5  # one window: over SMTP the window is claimed "reserved", then each message
# is "claimed" on its own right before it is handed over (crash point after_claim:2 is
# record 1's), sent (after_send) and marked with the next claim.
SMTP_POINTS = {
    # point: the records a stale "claimed" claim sends to delivery-uncertain review
    "outreach.after_intent:1": set(),
    "outreach.after_claim:1": set(),  # the window's reservations: resent, none to review
    "outreach.after_hold:1": set(),
    "outreach.after_claim:2": {"1"},  # record 1 claimed, never handed over: in doubt
    "outreach.after_send:1": {"1"},  # record 1 sent, its claim still "claimed"
    "outreach.after_send:3": {"3"},  # 1 and 2 marked with the next claims; 3 in doubt
}


@pytest.mark.parametrize("point", sorted(SMTP_POINTS))
def test_smtp_kill_at_each_step_never_sends_twice(
    point: str,
    sb: Sandbox,
    smtp: tuple[Handler, int],
    tmp_path: Path,
    make_settings: MakeSettings,
    client: RedcapClient,
) -> None:
    handler, port = smtp
    seed(client, SMTP_N)
    email = {
        "transport": "smtp",
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5},
    }
    run = cli(tmp_path, sb, email)
    crashed = run.run(crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    # At once: what the killed run claimed still holds; anything it had not claimed is sent.
    assert run.run().returncode == 0
    assert all(count == 1 for count in Counter(handler.keys()).values())
    result = rerun_later(make_settings(email=email), client)
    assert result.exit_code == ExitCode.OK
    keys = Counter(handler.keys())
    assert all(count == 1 for count in keys.values()), keys  # never a second message
    held = records(client)
    review = {rid for rid, row in held.items() if row[STATUS] == Status.MANUAL_REVIEW}
    assert review == SMTP_POINTS[point]
    for rid in review:  # a stale "claimed" may have gone out: a person checks
        assert held[rid]["pipeline_ineligibility_reasons"].startswith("delivery_uncertain:")
        assert held[rid][CLAIM].startswith(f"{rid}:invite:1|claimed|")
    invited = {rid for rid, row in held.items() if row[STATUS] == Status.ELIGIBLE_INVITED}
    assert invited == {str(i) for i in range(1, SMTP_N + 1)} - review
    # A stale "reserved" was never handed over: it was sent now, exactly once.
    assert set(keys) >= {f"{rid}:invite:1" for rid in invited}
