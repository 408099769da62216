"""kill -9 at every step of claim -> send -> mark, and REDCap failing mid-pass.

The CLI runs as a subprocess (`recruit -c cfg invite`) with ``RECRUIT_CRASH_AT`` naming the
step; then it runs again without. Whatever the step, every participant ends up invited
exactly once and REDCap marks them all. Duplicates are caught exactly: the fake Graph
counts every accepted sendMail, and an outbox message re-sent under the same key would get
a new Message-ID.
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

from recruit_cli.exit_codes import ExitCode
from recruit_cli.mail.message import OutgoingMessage, SendReceipt
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
N = 23  # three windows of ten


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
    "outreach.after_claim:1",
    "outreach.after_claim:2",
    "outreach.after_send:1",
    "outreach.after_send:14",
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
    assert len(before) < N
    done = run.run()
    assert done.returncode == 0, done.stderr
    after = message_ids(settings)
    assert sorted(after) == sorted(f"{i}:invite:1" for i in range(1, N + 1))
    # A message already written was never written again (same Message-ID).
    assert {k: after[k] for k in before} == before
    assert_all_invited_once(client)


@pytest.mark.parametrize(
    "point", ["outreach.after_claim:2", "outreach.after_send:12", "outreach.after_mark:1"]
)
def test_graph_kill_at_each_step_then_rerun(
    point: str, sb: Sandbox, fake: MicrosoftSandbox, tmp_path: Path, client: RedcapClient
) -> None:
    seed(client)
    email = graph_table(fake, sent_items_grace=0)
    run = cli(tmp_path, sb, email, **{GRAPH_SECRET_ENV: fake.client_secret})
    crashed = run.run(crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    done = run.run()
    assert done.returncode == 0, done.stderr
    assert Counter(str(m["key"]) for m in fake.sent) == Counter(
        {f"{i}:invite:1": 1 for i in range(1, N + 1)}
    )
    assert_all_invited_once(client)


POINTS = ("outreach.after_claim", "outreach.after_send", "outreach.after_mark")


def kill_loop(run: Cli, fake: MicrosoftSandbox, *, seed_: int, exact_kills: int, timed: int) -> int:
    """Kill passes: first at random named steps, then after random delays; then let one finish.

    Checks after every killed pass that no key was ever sent twice. Returns the kill count.
    """
    rng = random.Random(seed_)
    kills = 0
    for attempt in range(exact_kills + timed):
        if attempt < exact_kills:
            crashed = run.run(crash_at=f"{rng.choice(POINTS)}:{rng.randint(1, 4)}")
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
    return kills


def test_random_kills_never_duplicate_or_lose_an_invitation(
    sb: Sandbox, fake: MicrosoftSandbox, tmp_path: Path, client: RedcapClient
) -> None:
    n = 60
    seed(client, n)
    secret = {GRAPH_SECRET_ENV: fake.client_secret}
    run = cli(tmp_path, sb, graph_table(fake, sent_items_grace=0), **secret)
    assert kill_loop(run, fake, seed_=11, exact_kills=4, timed=2) >= 4
    assert Counter(str(m["key"]) for m in fake.sent) == Counter(
        {f"{i}:invite:1": 1 for i in range(1, n + 1)}
    )
    assert_all_invited_once(client, n)


@pytest.mark.slow
@pytest.mark.parametrize("seed_", [1, 2, 3])
def test_many_random_kills_at_larger_size(
    seed_: int, sb: Sandbox, fake: MicrosoftSandbox, tmp_path: Path, client: RedcapClient
) -> None:
    n = 300
    seed(client, n)
    secret = {GRAPH_SECRET_ENV: fake.client_secret}
    run = cli(tmp_path, sb, graph_table(fake, sent_items_grace=0), **secret)
    kill_loop(run, fake, seed_=seed_, exact_kills=15, timed=15)
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
    second = invite_pass(settings, client, OutboxTransport(settings.email.outbox_dir))
    assert second.exit_code == ExitCode.OK
    after = message_ids(settings)
    assert {k: after[k] for k in before} == before
    assert len(after) == N
    assert_all_invited_once(client)
