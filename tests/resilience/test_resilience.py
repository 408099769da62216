"""The proof: under REDCap and Graph faults and SIGKILLed passes, nothing is lost or duplicated.

A synthetic study (the demo data: messy answers, invalid addresses, do-not-contact flags,
safety cases) runs through cron cycles of `recruit run` as a subprocess while the sandbox
fails about 10% of REDCap requests (500/502/503, answers slower than the client's timeout,
connections dropped before or after a write commits) and the fake Graph fails about 10% of
its requests (429, 503, and a 202 whose connection drops). Some cycles are SIGKILLed after a
random delay, others kill themselves at a random crash point. Then the faults stop and the
cycles go on until a run has nothing left to do; the invariants are checked on what REDCap
holds and what the fake Graph received.

Size: N = 1000 with RECRUIT_RESILIENCE_FULL=1 (`make resilience`), else a reduced N that
keeps this under about a minute and a half in CI. RECRUIT_RESILIENCE_SEED replays one seed.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from resilience_invariants import Rules, check_invariants, duplicate_keys
from resilience_support import LEASE_MINUTES, Study, is_quiet

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.microsoft import run_microsoft_sandbox

FULL = os.environ.get("RECRUIT_RESILIENCE_FULL") == "1"
N = 1000 if FULL else 150
FAULT_CYCLES = 30 if FULL else 16  # at least this many cycles under faults
CALM_CYCLES = 10  # at most this many fault-free cycles to get quiet
SEED = int(os.environ.get("RECRUIT_RESILIENCE_SEED", "20240611"))
# Cycles under faults run slower at full size (about 10 s each, with retries and kills).
TIMEOUT = max(120, int(60 + N * 0.5))


@pytest.mark.timeout(TIMEOUT)
def test_faults_and_kills_never_lose_or_duplicate_anything(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    with (
        run_sandbox(demo=N, seed=rng.randrange(1000), unique_field="assigned_study_id") as sb,
        run_microsoft_sandbox() as fake,
    ):
        # Submissions arrive in waves, one before each of the first cycles, as under cron.
        study = Study(tmp_path, sb, fake, n=N, seed=SEED, waves=FAULT_CYCLES - 2)
        where = f"seed {SEED} (RECRUIT_RESILIENCE_SEED={SEED} replays it), N={N}"
        faults = study.faults_on()
        modes = ["plain", "kill", "crash", "outage"]
        for cycle in range(FAULT_CYCLES):
            if cycle:
                study.arrive()
            study.cycle(study.rng.choice(modes))
            dupes = duplicate_keys(fake.sent)
            assert not dupes, f"{where}: duplicate sends {dupes}; {study.stats.line(fake)}"

        study.faults_off()
        # Claims a killed cycle left are taken over once they are older than the lease.
        time.sleep(LEASE_MINUTES * 60)
        for _ in range(CALM_CYCLES):
            if is_quiet(*study.cycle()):
                break
        else:
            pytest.fail(
                f"{where}: not quiet after {CALM_CYCLES} fault-free cycles; "
                f"{study.stats.line(fake)}"
            )

        with RedcapClient(sb.url, sb.token) as client:
            rows = client.export_records()
        problems = check_invariants(rows, fake.sent, study.rules)
        summary = f"{where}; faults {faults}; {study.stats.line(fake)}"
        print(f"\nresilience: {summary}; emails={len(fake.sent)}")
        assert not problems, f"{summary}\n" + "\n".join(problems[:40])
        assert study.stats.kills + study.stats.crashes > 0, f"no pass was killed: {summary}"
        assert fake.sent, f"nothing was sent: {summary}"
        assert not study.waiting, "every wave of submissions arrived"


# -- the checker itself can fail ------------------------------------------------------------

RULES = Rules(
    {"HC": (3000, 10199), "MDD": (10200, 20000)}, ("oncall@example.org",), "[qids_12] >= 2"
)
KEY_SENT = "|sent|2024-05-01T12:00:00+00:00"


def _invited(rid: str, study_id: str) -> dict[str, str]:
    return {
        "record_id": rid,
        "agree_participate": "1",
        "participant_email": f"p{rid}@example.org",
        "pipeline_processing_status": "eligible_invited",
        "pipeline_group": "HC",
        "assigned_study_id": study_id,
        "pipeline_invitation_sent_timestamp": "2024-05-01T05:00:00-07:00",
        "pipeline_email_claim": f"{rid}:invite:1{KEY_SENT}",
    }


def _mail(rid: str, kind: str = "invite", to: str = "") -> dict[str, object]:
    key = f"{rid}:{kind}:1"
    return {
        "key": key,
        "headers": {"X-Recruit-Key": key, "X-Recruit-Template": kind},
        "recipients": [to or f"p{rid}@example.org"],
        "body": "3000 3001",
    }


def _flagged(rid: str, agree: str) -> dict[str, str]:
    """A safety case, alerted: ready or not (the safety rule is checked either way)."""
    return {
        "record_id": rid,
        "agree_participate": agree,
        "qids_12": "3",
        "pipeline_processing_status": "safety_review",
        "pipeline_ineligibility_reasons": "safety: matched the safety rule",
        "pipeline_safety_alert_timestamp": "2024-05-01T05:00:00-07:00",
        "pipeline_email_claim": f"{rid}:safety_alert:1{KEY_SENT}",
    }


def test_the_checker_passes_a_clean_state() -> None:
    rows = [_invited("1", "3000"), _invited("2", "3001"), _flagged("3", "0"), _flagged("4", "1")]
    sent = [_mail("1"), _mail("2")]
    sent += [_mail(r, "safety_alert", "oncall@example.org") for r in ("3", "4")]
    assert check_invariants(rows, sent, RULES) == []


@pytest.mark.parametrize(
    ("rows", "sent", "expected"),
    [
        ([_invited("1", "3000")], [_mail("1"), _mail("1")], "duplicate: 1:invite:1"),
        ([_invited("1", "3000"), _invited("2", "3000")], [_mail("1"), _mail("2")], "study ID"),
        ([_invited("1", "3001")], [_mail("1")], "not contiguous"),
        ([_invited("1", "3000")], [], "messages sent: []"),
        ([_invited("1", "3000")], [_mail("1", to="x@example.org")], "own address"),
        (
            [{**_invited("1", "3000"), "pipeline_email_claim": "1:invite:1|claimed|2024"}],
            [_mail("1")],
            "claim is not",
        ),
        (
            [{**_invited("1", "3000"), "pipeline_processing_status": "eligible_id_assigned"}],
            [],
            "lost: record 1",
        ),
        (
            [
                {
                    **_invited("1", "3000"),
                    "pipeline_processing_status": "manual_review_required",
                    "pipeline_ineligibility_reasons": "email_invalid: refused",
                }
            ],
            [_mail("1")],
            "got participant mail",
        ),
        (
            [{**_invited("1", "3000"), "pipeline_processing_status": "manual_review_required"}],
            [],
            "claim says 1:invite:1 was sent",
        ),
        (
            [
                {
                    **_invited("2", "3000"),
                    "pipeline_processing_status": "manual_review_required",
                    "pipeline_ineligibility_reasons": "delivery_uncertain: check",
                    "pipeline_email_claim": "2:invite:1|claimed|2024-05-01T12:00:00+00:00",
                }
            ],
            [],
            "unresolved claim",
        ),
        ([_flagged("3", "0")], [], "messages sent: []"),
        (
            [{"record_id": "3", "agree_participate": "0", "qids_12": "2"}],
            [],
            "matches the safety rule but is blank",
        ),
        (
            [{**_flagged("3", "0"), "assigned_study_id": "3000", "pipeline_group": "HC"}],
            [_mail("3", "safety_alert", "oncall@example.org")],
            "not ready but was touched",
        ),
        (
            [{"record_id": "1", "agree_participate": "0", "pipeline_processing_status": "x"}],
            [],
            "not ready but was touched",
        ),
    ],
)
def test_the_checker_catches_each_violation(
    rows: list[dict[str, str]], sent: list[dict[str, object]], expected: str
) -> None:
    problems = check_invariants(rows, sent, RULES)
    assert any(expected in p for p in problems), problems
