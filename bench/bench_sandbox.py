"""Sandbox throughput: import 10,000 records, export 100,000 x 12 fields with filterLogic.

Targets (issue 2, on a 2-core machine): each <= 5 s. Prints a table; exits 1 if a target
is missed. Run: .venv/bin/python bench/bench_sandbox.py [--records 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

import requests

from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.dictionary import METADATA_COLUMNS

TARGET_S = 5.0
FIELDS = [
    ("record_id", "text", ""),
    ("age", "text", "integer"),
    ("consent", "yesno", ""),
    ("travel", "yesno", ""),
    ("english", "yesno", ""),
    ("qids_score", "text", ""),
    ("qids_12", "radio", ""),
    ("email", "text", "email"),
    ("language", "radio", ""),
    ("status", "text", ""),
    ("group", "text", ""),
    ("notes", "notes", ""),
]
CHOICES = {"qids_12": "0, 0 | 1, 1 | 2, 2 | 3, 3", "language": "en, English | es, Spanish"}
LOGIC = "[consent] = '1' and [age] >= 18 and [age] <= 65 and [qids_score] <= 20"


def metadata() -> list[dict[str, str]]:
    rows = []
    for name, ftype, validation in FIELDS:
        row = dict.fromkeys(METADATA_COLUMNS, "")
        row.update(field_name=name, form_name="screening", field_type=ftype, field_label=name)
        row["select_choices_or_calculations"] = CHOICES.get(name, "")
        row["text_validation_type_or_show_slider_number"] = validation
        rows.append(row)
    return rows


def records(start: int, count: int, rng: random.Random) -> list[dict[str, str]]:
    return [
        {
            "record_id": str(i),
            "age": str(rng.randint(15, 80)),
            "consent": rng.choice("01"),
            "travel": rng.choice("01"),
            "english": rng.choice("01"),
            "qids_score": str(rng.randint(0, 27)),
            "qids_12": rng.choice("0123"),
            "email": f"participant{i}@example.org",
            "language": rng.choice(("en", "es")),
            "status": rng.choice(("", "eligible", "ineligible")),
            "group": rng.choice(("", "HC", "MDD")),
            "notes": "free text " * rng.randint(0, 3),
        }
        for i in range(start, start + count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(1)
    results: list[tuple[str, float, str]] = []
    with run_sandbox(metadata=metadata(), faults="") as sb:
        session = requests.Session()
        base = {"token": sb.token, "content": "record", "format": "json"}

        def load(start: int, count: int) -> float:
            payload = json.dumps(records(start, count, rng))
            t0 = time.perf_counter()
            resp = session.post(sb.url, data={**base, "data": payload}, timeout=600)
            elapsed = time.perf_counter() - t0
            resp.raise_for_status()
            assert resp.json() == {"count": count}, resp.text[:200]
            return elapsed

        first = load(1, args.batch)
        results.append((f"import {args.batch:,} records (new)", first, "target <= 5 s"))
        loaded = args.batch
        while loaded < args.records:
            n = min(args.batch, args.records - loaded)
            load(loaded + 1, n)
            loaded += n
        again = load(1, args.batch)
        results.append((f"import {args.batch:,} records (update, no change)", again, ""))

        t0 = time.perf_counter()
        resp = session.post(sb.url, data={**base, "filterLogic": LOGIC}, timeout=600)
        rows = resp.json()
        elapsed = time.perf_counter() - t0
        resp.raise_for_status()
        results.append(
            (f"export {loaded:,} x 12 fields, filterLogic ({len(rows):,} match)", elapsed,
             "target <= 5 s")
        )  # fmt: skip
        t0 = time.perf_counter()
        resp = session.post(sb.url, data=base, timeout=600)
        n_all = len(resp.json())
        results.append((f"export {n_all:,} x 12 fields, no filter", time.perf_counter() - t0, ""))

    width = max(len(r[0]) for r in results)
    print(f"{'operation':<{width}}  {'seconds':>8}  note")
    print(f"{'-' * width}  {'-' * 8}  ----")
    for name, seconds, note in results:
        print(f"{name:<{width}}  {seconds:8.2f}  {note}")
    missed = [r for r in results if r[2].startswith("target") and r[1] > TARGET_S]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
