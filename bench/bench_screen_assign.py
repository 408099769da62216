"""Benchmark: `screen` + `assign` on N pending records against the sandbox.

Prints, for N = 1,000 and 10,000: the REDCap calls made (budget: a small constant plus
2 x ceil(N/1000)), the wall time, and the bare export + import of the same data (the same
exports and the same import rows, with no screening logic) for the <= 2x comparison.
CLI start-up has its own script, bench/bench_startup.py.

Run: .venv/bin/python bench/bench_screen_assign.py [N ...]
"""

from __future__ import annotations

import logging
import math
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from recruit_cli.chunks import chunks
from recruit_cli.config import settings_from_mapping
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import run_sandbox
from recruit_cli.screening import assign, screen
from recruit_cli.screening.classify import ScreeningRules
from recruit_cli.settings import Settings

CONFIG: dict[str, Any] = {
    "study": {"name": "bench", "timezone": "UTC"},
    "redcap": {"url": "", "token_env": "REDCAP_API_TOKEN"},
    "fields": {"email": "participant_email", "study_id": "assigned_study_id"},
    "screening": {
        "ready": "[agree_participate] = '1'",
        "criteria": [
            {"name": "age", "require": "[age] >= 18 and [age] <= 65", "reason": "18-65"},
            {"name": "travel", "require": "[travel] = '1'", "reason": "travel"},
            {"name": "english", "require": "[english] = '1'", "reason": "english"},
            {"name": "tms", "require": "[tms_contra] = '0'", "reason": "tms"},
        ],
    },
    "qids": {"total": "qids_score"},
    "safety": {"when": "[qids_12] >= 2", "notify": ["oncall@example.org"]},
    "groups": [
        {"name": "HC", "label": "HC", "when": "[qids_total] <= 5", "first_id": 3000,
         "last_id": 99999},
        {"name": "MDD", "label": "MDD", "when": "[qids_total] >= 11 and [qids_total] <= 20",
         "first_id": 100000, "last_id": 199999},
    ],
}  # fmt: skip
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def records(n: int, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [
        {
            "record_id": str(i),
            "agree_participate": "1",
            "age": str(rng.randint(15, 70)),
            "travel": rng.choice("1111110"),
            "english": "1",
            "tms_contra": rng.choice("0000001"),
            "qids_score": str(rng.choice([1, 2, 3, 4, 5, 8, 12, 15, 18, 20, 24])),
            "qids_12": rng.choice("0000000012"),
            "participant_email": f"p{i}@example.org",
        }
        for i in range(1, n + 1)
    ]


def settings_for(url: str, token: str) -> Settings:
    data = {**CONFIG, "redcap": {**CONFIG["redcap"], "url": url}}
    return settings_from_mapping(data, environ={"REDCAP_API_TOKEN": token})


def seeded(n: int) -> Any:
    sb = run_sandbox()
    box = sb.__enter__()
    with RedcapClient(box.url, box.token) as client:
        for batch in chunks(records(n), 2000):
            client.import_records(batch)
    return sb, box


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_passes(n: int) -> tuple[int, float]:
    ctx, box = seeded(n)
    try:
        settings = settings_for(box.url, box.token)
        with RedcapClient.from_settings(settings) as client:
            seconds = timed(
                lambda: (
                    screen.screen_pass(settings, client, now=NOW),
                    assign.assign_pass(settings, client),
                )
            )
            return client.calls, seconds
    finally:
        ctx.__exit__(None, None, None)


def run_bare(n: int) -> float:
    """The same reads and writes with no logic: export, import the same rows, twice."""
    ctx, box = seeded(n)
    try:
        settings = settings_for(box.url, box.token)
        rules = ScreeningRules.from_settings(settings)
        rows = records(n)
        plan = screen.plan_screen(settings, rules, rows, now=NOW)
        screen_rows = screen.write_rows(settings.fields, plan, NOW)
        keep = ("record_id", "pipeline_processing_status", "pipeline_group")
        after = [{k: r[k] for k in keep} for r in screen_rows]
        assign_rows = assign.write_rows(settings, assign.plan_assign(settings, after))
        size = settings.redcap.batch_size
        with RedcapClient.from_settings(settings) as client:

            def bare() -> None:
                client.export_records(
                    fields=screen.export_fields(settings, rules),
                    filter_logic=screen.filter_logic(settings),
                )
                for batch in chunks(screen_rows, size):
                    client.import_records(batch, overwrite=True)
                client.export_records(
                    fields=assign.export_fields(settings),
                    filter_logic=assign.filter_logic(settings),
                )
                for batch in chunks(assign_rows, size):
                    client.import_records(batch)

            return timed(bare)
    finally:
        ctx.__exit__(None, None, None)


def main(argv: list[str]) -> None:
    logging.getLogger("recruit").addHandler(logging.NullHandler())  # no per-record warnings
    logging.getLogger("recruit").propagate = False
    sizes = [int(a) for a in argv] or [1000, 10_000]
    print(f"{'N':>7} {'calls':>6} {'budget':>6} {'screen+assign s':>16} {'bare s':>8} {'ratio':>6}")
    for n in sizes:
        calls, seconds = run_passes(n)
        bare = run_bare(n)
        budget = 4 + 2 * math.ceil(n / 1000)
        print(f"{n:>7} {calls:>6} {budget:>6} {seconds:>16.2f} {bare:>8.2f} {seconds / bare:>6.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
