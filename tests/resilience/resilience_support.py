"""The fault-injection harness: a study on the sandbox + fake Graph, cron cycles, kills.

``Study`` writes a recruit.toml (the embedded demo configuration, sending through the fake
Graph in app-only mode) and runs ``recruit -c CFG run --json`` as a real subprocess, the way
cron does. A cycle runs to the end, is SIGKILLed after a random delay, kills itself at a
named crash point (``RECRUIT_CRASH_AT``), or meets REDCap and/or Graph going down mid-run.
Submissions arrive in waves between cycles. Everything random comes from one seed.

The invariants live in ``resilience_invariants``.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redcap import Project
from resilience_invariants import Rules, rid_key

from recruit_cli.ops.demo import demo_config_text
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff
from recruit_cli.sandbox import Sandbox
from recruit_cli.sandbox.microsoft import MicrosoftSandbox

RECRUIT = str(Path(sys.executable).with_name("recruit"))
SECRET_ENV = "RESILIENCE_GRAPH_SECRET"
MAILBOX = "study-team@example.org"  # the demo config's sender
RUN_TIMEOUT = 300.0  # one `recruit run`; a hang is a failure, not a wait

# Crash points on the Graph path (outbox.before_rename is the outbox's only), and about how
# many times a pass over ``n`` new records reaches each (so a random count usually hits).
# Outreach claims windows of up to 100 records, each pass's mail steps (alerts, invitations,
# notices) at least one window each.
CRASH_POINTS: dict[str, Callable[[int, int], int]] = {
    "screen.after_batch": lambda n, batch: max(1, n // batch),
    "assign.after_batch": lambda n, batch: max(1, n // 2 // batch),
    "outreach.after_intent": lambda n, batch: max(2, n // 100),
    "outreach.after_claim": lambda n, batch: max(2, n // 100),
    "outreach.after_hold": lambda n, batch: max(2, n // 100),
    "outreach.after_send": lambda n, batch: max(1, n // 2),
    "outreach.after_mark": lambda n, batch: max(1, n // 100),
}
# [email] claim_lease_minutes: cycles never overlap here, so a short lease is safe, and a
# killed cycle's claims are taken over a few cycles later instead of an hour later.
LEASE_MINUTES = 0.15


def sandbox_faults(rng: random.Random) -> str:
    """About 10% of REDCap requests fail: 5xx, timeouts, drops, drops after the commit."""
    return (
        "500:0.02,502:0.015,503:0.02,delay:0.02=1.6,drop:0.01,drop-after-commit:0.03,"
        f"retry-after={rng.choice((0, 1))},seed={rng.randrange(10**6)}"
    )


def graph_faults(rng: random.Random) -> str:
    """About 10% of Graph requests fail: 429, 503, and 202-then-dropped on sendMail."""
    return (
        "429@0.05,503@0.04,drop@0.01,sent_items:429@0.05,sent_items:503@0.05,"
        f"retry_after={rng.choice((0, 1))},seed={rng.randrange(10**6)}"
    )


def config_text(sb: Sandbox, fake: MicrosoftSandbox, *, batch_size: int) -> str:
    """The demo recruit.toml, sending through the fake Graph, with a short REDCap timeout."""
    text = demo_config_text(sb.url)
    replacements = {
        'token_env = "REDCAP_API_TOKEN"': (
            f'token_env = "REDCAP_API_TOKEN"\ntimeout = 1.0\nbatch_size = {batch_size}'
        ),
        'transport = "outbox"': f'transport = "graph"\nclaim_lease_minutes = {LEASE_MINUTES}',
        "[report]": "\n".join(
            [
                "[email.graph]",
                'mode = "app"',
                f'client_id = "{fake.client_id}"',
                f'tenant_id = "{fake.tenant_id}"',
                f'authority_host = "{fake.authority_host}"',
                f'endpoint = "{fake.endpoint}"',
                f'ca_bundle = "{fake.ca_bundle}"',
                f'mailbox = "{MAILBOX}"',
                f'client_secret_env = "{SECRET_ENV}"',
                "sent_items_grace = 1.0",
                "timeout = 5.0",
                "",
                "[report]",
            ]
        ),
    }
    for old, new in replacements.items():
        if text.count(old) != 1:
            raise AssertionError(f"the demo config changed: {old!r} is not there exactly once")
        text = text.replace(old, new)
    return text


@dataclass
class Stats:
    cycles: int = 0
    kills: int = 0  # SIGKILLed by us after a delay
    crashes: int = 0  # killed themselves at a crash point
    exits: Counter[int] = field(default_factory=Counter)
    redcap_retries: Counter[str] = field(default_factory=Counter)  # by reason, from the logs
    graph_uncertain: int = 0  # sends whose answer was lost (202 then drop)
    points: Counter[str] = field(default_factory=Counter)
    outages: Counter[str] = field(default_factory=Counter)  # "redcap" | "graph" | "both"

    def line(self, fake: MicrosoftSandbox) -> str:
        graph_faulted = fake.calls["request:send"] - fake.calls["sent"]
        return (
            f"cycles={self.cycles} kills={self.kills} crash_points={self.crashes} "
            f"outages={dict(self.outages)} "
            f"exits={dict(sorted(self.exits.items()))} "
            f"redcap_retries={dict(self.redcap_retries.most_common())} "
            f"graph: sendMail requests={fake.calls['request:send']} accepted={len(fake.sent)} "
            f"refused_429_503={graph_faulted} dropped_after_202={self.graph_uncertain} "
            f"sent_items_queries={fake.calls['request:sent_items']}"
        )


_RETRY_LOG = re.compile(r"REDCap at \S+: (?P<reason>.+?) \(content=")


class Study:
    """A study directory on the sandbox + fake Graph, and `recruit run` as cron runs it."""

    def __init__(
        self, directory: Path, sb: Sandbox, fake: MicrosoftSandbox, *, n: int, seed: int, waves: int
    ) -> None:
        self.sb, self.fake, self.n, self.seed = sb, fake, n, seed
        self.rng = random.Random(seed)
        # Small import batches: screen and assign write in several calls, so a kill or a
        # fault can land between two of them.
        self.batch = max(5, n // waves // 3)
        text = config_text(sb, fake, batch_size=self.batch)
        self.rules = Rules.from_toml(text)
        self.config = directory / "recruit.toml"
        self.config.write_text(text, encoding="utf-8")
        (directory / ".env").write_text(f"REDCAP_API_TOKEN={sb.token}\n", encoding="utf-8")
        base = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
        self.env = {
            **base,
            "RECRUIT_STATE_DIR": str(directory / "state"),
            SECRET_ENV: fake.client_secret,
        }
        self.stats = Stats()
        self.longest = 1.0 + n / 300  # the longest run seen: kills land anywhere within it
        self.waiting: list[list[dict[str, str]]] = []  # submissions that have not arrived yet
        self.wave = n  # records the next pass may find new (sizes the crash counts)
        self._hold_back(waves)

    # -- submissions arrive over time ----------------------------------------------------------

    def _hold_back(self, waves: int) -> None:
        """Keep all but the first of ``waves`` waves of submissions out of REDCap for now.

        Cron meets new submissions every cycle, so the faults and kills land on passes that
        have real work (screening, IDs, mail) rather than on passes with nothing to do.
        """
        with self._client() as client:
            rows = sorted(client.export_records(), key=lambda r: rid_key(r["record_id"]))
        size = -(-len(rows) // waves)
        batches = [rows[i : i + size] for i in range(0, len(rows), size)]
        later = [r["record_id"] for batch in batches[1:] for r in batch]
        if later:  # recruit never deletes records, so its client can't: PyCap does it here
            Project(self.sb.url, self.sb.token).delete_records(later)
        self.waiting = batches[1:]
        self.wave = size

    def arrive(self) -> int:
        """The next wave of submissions lands in REDCap (through any faults). Returns its size."""
        if not self.waiting:
            return 0
        batch = self.waiting.pop(0)
        with self._client() as client:
            client.import_records(batch)
        return len(batch)

    def _client(self) -> RedcapClient:
        # The harness's own calls must get through: patient retries, a timeout over the delays.
        return RedcapClient(
            self.sb.url,
            self.sb.token,
            timeout=10.0,
            backoff=Backoff(attempts=12, base=0.05, jitter=0.05),
        )

    # -- faults ------------------------------------------------------------------------------

    def faults_on(self) -> str:
        """About 10% of requests fail from now on (fresh seeds drawn from the study's)."""
        redcap, graph = sandbox_faults(self.rng), graph_faults(self.rng)
        self.sb.set_faults(redcap)
        self.fake.set_faults(graph)
        return f"sandbox={redcap!r} graph={graph!r}"

    def faults_off(self) -> None:
        self.sb.set_faults("")
        self.fake.set_faults("")

    def _outage(self, proc: subprocess.Popen[str]) -> None:
        """REDCap or Graph refuses every request for a moment, mid-run, beyond the retries:
        the windows between claim, send and mark meet a service that stays down."""
        time.sleep(self.rng.uniform(0.2, self.longest))
        if proc.poll() is not None:
            return
        which = self.rng.choice(("redcap", "graph", "both"))
        if which != "graph":
            self.sb.set_faults("503:1,retry-after=0")
        if which != "redcap":
            self.fake.set_faults("503@1,retry_after=0")
        self.stats.outages[which] += 1
        time.sleep(self.rng.uniform(0.3, 1.5))
        self.faults_on()

    # -- cycles ------------------------------------------------------------------------------

    def command(self) -> list[str]:
        return [RECRUIT, "-v", "-c", str(self.config), "run", "--json"]

    def cycle(self, mode: str = "plain") -> tuple[int, dict[str, Any] | None]:
        """One cron run. Returns the exit code (-9 when killed) and the JSON result, if any.

        Modes: "plain" (runs to the end), "kill" (SIGKILL after a random delay), "crash"
        (kills itself at a random crash point), "outage" (a service goes down mid-run).
        """
        env = dict(self.env)
        if mode == "crash":
            point = self.rng.choice(sorted(CRASH_POINTS))
            nth = self.rng.randint(1, CRASH_POINTS[point](self.wave, self.batch))
            env["RECRUIT_CRASH_AT"] = f"{point}:{nth}"
            self.stats.points[point] += 1
        started = time.monotonic()
        proc = subprocess.Popen(
            self.command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        out, err = self._wait(proc, mode)
        code = proc.returncode
        self.stats.cycles += 1
        self.stats.exits[code] += 1
        if mode == "crash" and code == -signal.SIGKILL:
            self.stats.crashes += 1
        if code >= 0:
            self.longest = max(self.longest, time.monotonic() - started)
        for match in _RETRY_LOG.finditer(err):
            reason = match["reason"]
            self.stats.redcap_retries["timeout" if "no answer" in reason else reason] += 1
        if code not in (0, 4, 5, -signal.SIGKILL):
            raise AssertionError(
                f"seed {self.seed}: `recruit run` exited {code} (mode {mode}, "
                f"{env.get('RECRUIT_CRASH_AT', '')}); stderr tail:\n{_scrub(err)[-3000:]}"
            )
        payload = json.loads(out) if code >= 0 and out.strip() else None
        if payload is not None:
            self.stats.graph_uncertain += payload.get("counts", {}).get("uncertain", 0)
        return code, payload

    def _wait(self, proc: subprocess.Popen[str], mode: str) -> tuple[str, str]:
        if mode == "kill":
            try:
                return proc.communicate(timeout=self.rng.uniform(0.2, self.longest))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                self.stats.kills += 1
        elif mode == "outage":
            self._outage(proc)
        try:
            return proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError(
                f"seed {self.seed}: `recruit run` hung for {RUN_TIMEOUT:g}s"
            ) from None


def _scrub(text: str) -> str:
    """Stderr for a failure message: addresses are synthetic, but keep the habit."""
    return re.sub(r"[\w.+-]+@[\w.-]+", "<address>", text)


def is_quiet(code: int, payload: Mapping[str, Any] | None) -> bool:
    """A run that exited 0 and did nothing at all."""
    return code == 0 and payload is not None and not payload.get("counts")
