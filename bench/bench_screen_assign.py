"""Benchmark: `screen` + `assign` on N pending records against the sandbox.

Two tables:

1. The library passes, for N = 1,000 and 10,000: the REDCap calls made (budget: a small
   constant plus 2 x ceil(N/1000)), the wall time, and the bare export + import of the same
   data (the same exports and import rows, with no screening logic).
2. The commands as cron runs them: `recruit screen` then `recruit assign`, two processes,
   on 2,000 new submissions of which 5% match the safety rule, the staff alerts that
   `screen` sends included (outbox transport). The floor is what no implementation can
   avoid: starting two commands (`recruit --version`, twice), one export of what screening
   reads, and one import of exactly what the passes wrote (read back from REDCap after the
   run, one row per record). Budget: <= 3x the floor.

CLI start-up alone has its own script, bench/bench_startup.py.

Run: .venv/bin/python bench/bench_screen_assign.py [N ...]
"""

from __future__ import annotations

import logging
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
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


RECRUIT = str(Path(sys.executable).with_name("recruit"))
CLI_RECORDS = 2000
SAFETY_SHARE = 20  # one record in 20 (5%) matches the safety rule
CLI_REPEATS = 3  # the machine is shared: the median of a few runs, for commands and floor
PIPELINE = (
    "pipeline_processing_status",
    "pipeline_ineligibility_reasons",
    "pipeline_group",
    "pipeline_screened_timestamp",
    "assigned_study_id",
    "pipeline_email_claim",
    "pipeline_safety_alert_timestamp",
)


def cli_records(n: int) -> list[dict[str, str]]:
    """``records(n)`` with exactly one record in SAFETY_SHARE matching the safety rule."""
    rows = records(n)
    for i, row in enumerate(rows):
        row["qids_12"] = "2" if i % SAFETY_SHARE == 0 else "0"
    return rows


def study_config(directory: Path, url: str) -> Path:
    """A recruit.toml equal to CONFIG, sending with the outbox transport."""
    import json

    def toml(value: Any) -> str:
        return json.dumps(value)  # strings, numbers and lists of strings read the same

    lines = [
        "[study]",
        'name = "bench"',
        'timezone = "UTC"',
        "[redcap]",
        f"url = {toml(url)}",
        "[fields]",
        'email = "participant_email"',
        'study_id = "assigned_study_id"',
        "[screening]",
        f"ready = {toml(CONFIG['screening']['ready'])}",
    ]
    for c in CONFIG["screening"]["criteria"]:
        lines += ["[[screening.criteria]]", *(f"{k} = {toml(v)}" for k, v in c.items())]
    lines += [
        "[qids]",
        'total = "qids_score"',
        "[safety]",
        f"when = {toml(CONFIG['safety']['when'])}",
        f"notify = {toml(CONFIG['safety']['notify'])}",
    ]
    for g in CONFIG["groups"]:
        lines += ["[[groups]]", *(f"{k} = {toml(v)}" for k, v in g.items())]
    lines += [
        "[email]",
        'transport = "outbox"',
        'sender = "study@example.org"',
        'booking_url = "https://outlook.office365.com/book/Study@example.org/"',
    ]
    config = directory / "recruit.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def seeded_with(rows: list[dict[str, str]]) -> Any:
    sb = run_sandbox()
    box = sb.__enter__()
    with RedcapClient(box.url, box.token) as client:
        for batch in chunks(rows, 2000):
            client.import_records(batch)
    return sb, box


def run_commands(n: int) -> tuple[float, int, list[dict[str, str]]]:
    """`recruit screen` then `recruit assign`; returns the seconds, the staff alerts sent
    and what the passes wrote (the pipeline fields of every record they changed)."""
    ctx, box = seeded_with(cli_records(n))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = study_config(Path(tmp), box.url)
            env = {"REDCAP_API_TOKEN": box.token, "RECRUIT_STATE_DIR": str(Path(tmp) / "state")}
            env |= {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
            start = time.perf_counter()
            for command in ("screen", "assign"):
                # stderr: screen's SAFETY notices (one per alert), not the benchmark's output
                subprocess.run(
                    [RECRUIT, "-c", str(config), command],
                    check=True,
                    env=env,
                    stderr=subprocess.DEVNULL,
                )
            seconds = time.perf_counter() - start
            alerts = len(list((Path(tmp) / "outbox").glob("*.eml")))
        with RedcapClient(box.url, box.token) as client:
            rows = client.export_records(fields=["record_id", *PIPELINE])
        written = [
            {k: v for k, v in row.items() if k == "record_id" or (k in PIPELINE and v)}
            for row in rows
            if row.get("pipeline_processing_status")
        ]
        return seconds, alerts, written
    finally:
        ctx.__exit__(None, None, None)


def floor_seconds(n: int, written: list[dict[str, str]]) -> float:
    """Two command start-ups, one export of what screening reads, one import of ``written``."""
    starts = timed(lambda: subprocess.run([RECRUIT, "--version"], check=True, capture_output=True))
    starts += timed(lambda: subprocess.run([RECRUIT, "--version"], check=True, capture_output=True))
    ctx, box = seeded_with(cli_records(n))
    try:
        settings = settings_for(box.url, box.token)
        rules = ScreeningRules.from_settings(settings)
        with RedcapClient.from_settings(settings) as client:

            def bare() -> None:
                client.export_records(
                    fields=screen.export_fields(settings, rules),
                    filter_logic=screen.filter_logic(settings),
                )
                client.import_records(written, overwrite=True)

            return starts + timed(bare)
    finally:
        ctx.__exit__(None, None, None)


def cli_table(repeats: int = CLI_REPEATS) -> None:
    n = CLI_RECORDS
    runs = [run_commands(n) for _ in range(repeats)]
    seconds = statistics.median(r[0] for r in runs)
    _, alerts, written = runs[-1]
    floor = statistics.median(floor_seconds(n, written) for _ in range(repeats))
    print()
    print(f"`recruit screen` + `recruit assign`, {n:,} new submissions, {n // SAFETY_SHARE} safety")
    print(f"(median of {repeats} runs each)")
    print(f"{'commands s':>11} {'alerts':>7} {'rows written':>13} {'floor s':>8} {'ratio':>6}")
    print(f"{seconds:>11.2f} {alerts:>7} {len(written):>13} {floor:>8.2f} {seconds / floor:>6.2f}")


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
    cli_table()


if __name__ == "__main__":
    main(sys.argv[1:])
