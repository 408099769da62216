"""Benchmark: the weekly report over 100,000 records (target: <= 10 s, peak memory <= 500 MB).

Seeds a local sandbox (in-process, SQLite in memory) with realistic pipeline values through
batched API imports, then times ``build_report`` (one record export + one log export, pandas
aggregation) and the HTML render + atomic write (charts included). Submission times come
from the REDCap log here: the heavier of the two paths.

Memory: ``tracemalloc`` peak over a second, untimed run of the same steps (numpy and pandas
report their buffers to tracemalloc), and the process's ``ru_maxrss`` (which also holds the
sandbox's own copy of the data, as it runs in this process).

    .venv/bin/python bench/bench_report.py [--records 100000]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from recruit_cli.logic import parse
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.report.render import render
from recruit_cli.report.run import build_report, report_file, write_atomic
from recruit_cli.sandbox import run_sandbox
from recruit_cli.settings import (
    Criterion,
    FieldMap,
    Group,
    RedcapSettings,
    ReportSettings,
    ScreeningSettings,
    Settings,
    StudySettings,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BATCH = 5000
CRITERIA = (
    ("age", "Must be 18 to 65 years old"),
    ("travel", "Must be able to travel to the lab"),
    ("english", "Must be fluent in English"),
    ("tms", "Has a TMS contraindication"),
)


def settings(url: str) -> Settings:
    return Settings(
        path=None,
        study=StudySettings("Benchmark study", "America/Los_Angeles"),
        redcap=RedcapSettings(url=url),
        fields=FieldMap(
            email="participant_email", language="preferred_language", booked_at="booking_date"
        ),
        screening=ScreeningSettings(
            criteria=tuple(Criterion(code, parse("[age] >= 0"), text) for code, text in CRITERIA)
        ),
        groups=(
            Group("HC", "Healthy control", parse("[qids_total] <= 5"), 3000, 60000, target=20000),
            Group(
                "MDD", "Major depressive disorder", parse("[qids_total] >= 11"), 60001, 99999, 25000
            ),
        ),
        report=ReportSettings(suppress_below=5),
    )


def rows(count: int, seed: int = 7) -> list[dict[str, str]]:
    """``count`` records in every pipeline state, spread over the 26 weeks before NOW."""
    rng = random.Random(seed)
    out = []
    ids = {"HC": 3000, "MDD": 60001}
    for n in range(1, count + 1):
        submitted = NOW - timedelta(seconds=rng.randrange(26 * 7 * 86400))
        r = {
            "record_id": str(n),
            "agree_participate": "1",
            "age": str(rng.randrange(16, 80)),
            "participant_email": f"person{n}@example.org",
        }
        roll = rng.random()
        if roll < 0.05:  # not screened yet
            out.append(r)
            continue
        screened = submitted + timedelta(minutes=rng.randrange(1, 600))
        r["pipeline_screened_timestamp"] = screened.isoformat()
        if roll < 0.40:
            codes = rng.sample(CRITERIA, rng.choice((1, 1, 1, 2)))
            r["pipeline_ineligibility_reasons"] = "\n".join(f"{c}: {t}" for c, t in codes)
            if rng.random() < 0.8:
                r["pipeline_processing_status"] = "ineligible_notified"
                r["pipeline_ineligible_notification_sent_timestamp"] = (
                    screened + timedelta(minutes=rng.randrange(1, 300))
                ).isoformat()
            else:
                r["pipeline_processing_status"] = "ineligible"
        elif roll < 0.45:
            r["pipeline_processing_status"] = "manual_review_required"
            r["pipeline_ineligibility_reasons"] = "qids_invalid: QIDS total is not a number"
        elif roll < 0.47:
            r["pipeline_processing_status"] = "safety_review"
            r["pipeline_safety_alert_timestamp"] = (screened + timedelta(minutes=1)).isoformat()
            r["pipeline_safety_acknowledged"] = rng.choice(("1", "0", ""))
        else:
            group = rng.choice(("HC", "MDD"))
            r["pipeline_group"] = group
            stage = rng.random()
            if stage < 0.1:
                r["pipeline_processing_status"] = "eligible"
            else:
                r["assigned_study_id"] = str(ids[group])
                ids[group] += 1
                r["pipeline_processing_status"] = "eligible_id_assigned"
                if stage > 0.3:
                    invited = screened + timedelta(minutes=rng.randrange(5, 4 * 24 * 60))
                    r["pipeline_processing_status"] = "eligible_invited"
                    r["pipeline_invitation_sent_timestamp"] = invited.isoformat()
                    if rng.random() < 0.5:
                        r["booking_date"] = (
                            (invited + timedelta(days=rng.randrange(1, 20))).date().isoformat()
                        )
        out.append(r)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    data = rows(args.records)
    with run_sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        client = RedcapClient(sandbox.url, sandbox.token, timeout=300)
        started = time.perf_counter()
        for i in range(0, len(data), BATCH):
            client.import_records(data[i : i + BATCH])
        seeded = time.perf_counter() - started
        del data
        gc.collect()
        conf = settings(sandbox.url)
        out = Path(tmp)

        def run() -> tuple[float, float, int]:
            t0 = time.perf_counter()
            report = build_report(conf, client, week="2026-W47", now=NOW)
            t1 = time.perf_counter()
            file = report_file(report, "html")
            write_atomic(out / file.filename, file.content)
            t2 = time.perf_counter()
            render(report, "json")
            return t1 - t0, t2 - t1, len(file.content)

        calls_before = client.calls
        build_s, html_s, size = run()
        calls = client.calls - calls_before
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        client.close()
    total = build_s + html_s
    table = [
        ("records", f"{args.records:,}", ""),
        ("seeding (not timed in the target)", f"{seeded:.1f} s", ""),
        ("build_report (export + log + pandas)", f"{build_s:.2f} s", ""),
        ("HTML render + charts + write", f"{html_s:.2f} s", ""),
        ("total", f"{total:.2f} s", "ok" if total <= 10 else "OVER 10 s"),
        ("API calls per report", str(calls), ""),
        ("HTML size", f"{size / 1024:.0f} KiB", ""),
        (
            "peak traced memory (tracemalloc)",
            f"{peak / 2**20:.0f} MB",
            "ok" if peak / 2**20 <= 500 else "OVER 500 MB",
        ),
        ("process max RSS (incl. sandbox)", f"{rss_mb:.0f} MB", ""),
    ]
    width = max(len(name) for name, _, _ in table)
    print(f"{'measure':<{width}}  {'value':>10}  target")
    for name, value, verdict in table:
        print(f"{name:<{width}}  {value:>10}  {verdict}")
    return 0 if total <= 10 and peak / 2**20 <= 500 else 1


if __name__ == "__main__":
    sys.exit(main())
