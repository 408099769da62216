"""Benchmark: what the duplicate check adds to `recruit screen` (issue 12).

A project of N records (default 100,000) of which NEW (default 1,000) are new submissions
waiting to be screened; one new submission in 20 repeats an earlier person's e-mail address
(in another case), one in 20 their first name and date of birth. The screen pass is timed
with and without ``[duplicates] match = [["participant_email"], ["first_name", "dob"]]``
(median of REPEATS dry runs each, on the same project: a dry run reads and plans exactly
as a real pass, and the rows it would write are the same in number either way). Budget:
the check adds <= 2 s and <= 1 REDCap call. With the check, the screen pass exports the
identity fields of every record, then its usual export narrowed by ``records=`` to the
records whose status allows screening; without it, that export's filterLogic runs over the
whole project. The last two columns are the identity export and the hashing
(``find_duplicates``) alone.

Run: .venv/bin/python bench/bench_duplicates.py [N [NEW]]
"""

from __future__ import annotations

import logging
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from recruit_cli.chunks import chunks
from recruit_cli.config import settings_from_mapping
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.screening import duplicates, screen
from recruit_cli.screening.classify import ScreeningRules
from recruit_cli.settings import Settings

NOW = datetime(2025, 1, 1, tzinfo=UTC)
REPEATS = 3
MATCH = [["participant_email"], ["first_name", "dob"]]
CONFIG: dict[str, Any] = {
    "study": {"name": "bench", "timezone": "UTC"},
    "redcap": {"url": "", "token_env": "REDCAP_API_TOKEN"},
    "fields": {"email": "participant_email", "study_id": "assigned_study_id"},
    "screening": {
        "ready": "[agree_participate] = '1'",
        "criteria": [
            {"name": "age", "require": "[age] >= 18 and [age] <= 65", "reason": "18-65"},
            {"name": "travel", "require": "[travel] = '1'", "reason": "travel"},
        ],
    },
    "qids": {"total": "qids_score"},
    "safety": {"when": "[qids_12] >= 2", "notify": ["oncall@example.org"]},
    "groups": [
        {"name": "HC", "label": "HC", "when": "[qids_total] <= 5", "first_id": 1,
         "last_id": 999_999},
        {"name": "MDD", "label": "MDD", "when": "[qids_total] >= 11", "first_id": 1_000_000,
         "last_id": 1_999_999},
    ],
}  # fmt: skip
NAMES = ("Ana", "Ben", "Chloé", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo")


def metadata() -> list[dict[str, str]]:
    extra = []
    for name, validation in (("first_name", ""), ("dob", "date_ymd")):
        row = dict.fromkeys(METADATA_COLUMNS, "")
        row |= {
            "field_name": name,
            "form_name": "screening_survey",
            "field_type": "text",
            "field_label": name,
            "text_validation_type_or_show_slider_number": validation,
        }
        extra.append(row)
    survey = [r for r in DEMO_METADATA if r["form_name"] == "screening_survey"]
    rest = [r for r in DEMO_METADATA if r["form_name"] != "screening_survey"]
    return survey + extra + rest


def person(rng: random.Random, i: int) -> dict[str, str]:
    return {
        "participant_email": f"p{i}@example.org",
        "first_name": f"{rng.choice(NAMES)} {i}",  # people differ unless planted below
        "dob": f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }


def records(n: int, new: int, seed: int = 3) -> list[dict[str, str]]:
    """``n - new`` screened records, then ``new`` pending ones (some repeating a person)."""
    rng = random.Random(seed)
    people = [person(rng, i) for i in range(n)]
    rows = []
    for i in range(1, n + 1):
        who = dict(people[i - 1])
        row = {
            "record_id": str(i),
            "agree_participate": "1",
            "age": str(rng.randint(18, 65)),
            "travel": "1",
            "qids_score": str(rng.choice([2, 4, 12, 15])),
            "qids_12": "0",
            **who,
        }
        if i <= n - new:
            row["pipeline_processing_status"] = "ineligible_notified"
        elif i % 20 == 0:  # the same address as someone earlier, in another case
            row["participant_email"] = people[rng.randrange(n - new)]["participant_email"].upper()
        elif i % 20 == 10:  # the same name and date of birth as someone earlier
            earlier = people[rng.randrange(n - new)]
            row |= {"first_name": f" {earlier['first_name'].lower()} ", "dob": earlier["dob"]}
        rows.append(row)
    return rows


def settings_for(url: str, token: str, *, match: bool) -> Settings:
    data = {**CONFIG, "redcap": {**CONFIG["redcap"], "url": url}}
    if match:
        data["duplicates"] = {"match": MATCH}
    return settings_from_mapping(data, environ={"REDCAP_API_TOKEN": token})


def median_seconds(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    logging.getLogger("recruit").addHandler(logging.NullHandler())
    logging.getLogger("recruit").propagate = False
    n = int(argv[0]) if argv else 100_000
    new = int(argv[1]) if len(argv) > 1 else 1_000
    with run_sandbox(metadata=metadata()) as sb:
        with RedcapClient(sb.url, sb.token) as client:
            for batch in chunks(records(n, new), 5000):
                client.import_records(batch)
        plain = settings_for(sb.url, sb.token, match=False)
        checked = settings_for(sb.url, sb.token, match=True)
        result: dict[str, Any] = {}
        with RedcapClient.from_settings(plain) as client:
            without = median_seconds(lambda: screen.screen_pass(plain, client, dry_run=True))
            calls_without = client.calls // REPEATS
        with RedcapClient.from_settings(checked) as client:

            def with_check() -> None:
                result["plan"] = screen.screen_pass(checked, client, dry_run=True)

            seconds_with = median_seconds(with_check)
            calls_with = client.calls // REPEATS
            identities: list[dict[str, str]] = []

            def export() -> None:
                identities[:] = duplicates.read_identities(checked, client)

            export_s = median_seconds(export)
        rules = ScreeningRules.from_settings(checked)
        asked = duplicates.candidates(checked, rules, identities_as_rows(identities))
        hashing = median_seconds(lambda: duplicates.find_duplicates(checked, identities, asked))
    held = sum(1 for a in result["plan"].actions if a.detail.startswith("duplicate:"))
    added = seconds_with - without
    print(f"{n:,} records, {new:,} new; [duplicates] match = {MATCH}")
    print(
        f"{'without s':>10} {'with s':>8} {'added s':>8} {'budget':>7} {'calls +':>8}"
        f" {'held':>5} {'export s':>9} {'hashing s':>10}"
    )
    print(
        f"{without:>10.2f} {seconds_with:>8.2f} {added:>8.2f} {'2.00':>7}"
        f" {calls_with - calls_without:>8} {held:>5} {export_s:>9.2f} {hashing:>10.2f}"
    )


def identities_as_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The identity rows as the candidates test reads them (every new record is ready)."""
    return [{**r, "agree_participate": "1"} for r in rows]


if __name__ == "__main__":
    main(sys.argv[1:])
