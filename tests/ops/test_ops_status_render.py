"""`recruit status` as text: a long manual-review queue is cut, the JSON never is."""

from __future__ import annotations

import io
import json

from recruit_cli.cli.render import QUEUE_ROWS, Environment, render_status
from recruit_cli.ops.status import QueueEntry, StatusReport


def _report(review: int, safety: int) -> StatusReport:
    return StatusReport(
        total=review + safety,
        by_status=(("manual_review_required", review), ("safety_review", safety)),
        by_group=(),
        review_queue=tuple(
            QueueEntry(str(i), ("between_groups",) if i % 3 else ("email_invalid",), 2)
            for i in range(1, review + 1)
        ),
        safety_queue=tuple(
            QueueEntry(str(1000 + i), ("safety",), 0, alerted=True) for i in range(safety)
        ),
        groups=(),
    )


def _text(report: StatusReport, *, as_json: bool = False) -> str:
    out = io.StringIO()
    render_status(Environment(stdout=out, stderr=io.StringIO(), json=as_json), report)
    return out.getvalue()


def test_a_long_review_queue_is_cut_with_a_count_of_the_rest_and_its_reasons() -> None:
    report = _report(review=QUEUE_ROWS + 70, safety=QUEUE_ROWS + 5)
    text = _text(report)
    assert f"Manual review queue: {QUEUE_ROWS + 70}" in text
    assert "… and 70 more (all of them: recruit status --json)" in text
    assert "reasons in the whole queue: between_groups 60, email_invalid 30" in text
    queue_table = text.split("Manual review queue")[1]
    assert len([line for line in queue_table.splitlines() if line.startswith("│")]) == QUEUE_ROWS
    # The oldest (lowest) records are the ones shown.
    assert f"│ {QUEUE_ROWS:>6} │" in text and f"│ {QUEUE_ROWS + 1:>6} │" not in text
    # Every safety case waits for a person: never cut.
    assert text.count("safety ") == QUEUE_ROWS + 5
    assert "more (all of them" not in text.split("Manual review queue")[0]

    doc = json.loads(_text(report, as_json=True))
    assert len(doc["review_queue"]) == QUEUE_ROWS + 70
    assert len(doc["safety_queue"]) == QUEUE_ROWS + 5


def test_a_short_queue_is_shown_whole() -> None:
    text = _text(_report(review=QUEUE_ROWS, safety=0))
    assert "more (all of them" not in text and "reasons in the whole queue" not in text
    assert "Safety review queue: empty" in text
