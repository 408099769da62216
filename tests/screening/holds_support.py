"""A study with identity fields and completion times, run with `recruit run` on the sandbox.

The duplicate and flag tests (``test_screening_duplicates.py``, ``test_screening_flags.py``)
run the real passes in-process (``recruit -c … run``) and read back what REDCap holds and
what the outbox transport wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from screening_data import GOOD, pipeline_state, write_config

from recruit_cli.cli.main import run
from recruit_cli.mail.transports.outbox import eml_name
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA

SURVEY = "screening_survey"
FLAGS = [
    {
        "name": "too_fast",
        "when": "datediff([started_at], [completed_at], 's') < 120",
        "reason": "Completed in under 2 minutes",
    },
]
MATCH = [["participant_email"], ["first_name", "dob"]]


def _row(name: str, label: str, validation: str = "") -> dict[str, str]:
    row = dict.fromkeys(METADATA_COLUMNS, "")
    row |= {
        "field_name": name,
        "form_name": SURVEY,
        "field_type": "text",
        "field_label": label,
        "text_validation_type_or_show_slider_number": validation,
    }
    return row


def metadata() -> list[dict[str, str]]:
    """The demo dictionary with a name, a date of birth and the survey's start/end times."""
    extra = [
        _row("first_name", "First name"),
        _row("dob", "Date of birth", "date_ymd"),
        _row("started_at", "Survey started", "datetime_seconds_ymd"),
        _row("completed_at", "Survey completed", "datetime_seconds_ymd"),
        _row("submitted_on", "Submitted", "datetime_seconds_ymd"),
    ]
    survey = [r for r in DEMO_METADATA if r["form_name"] == SURVEY]
    rest = [r for r in DEMO_METADATA if r["form_name"] != SURVEY]
    return [dict(r) for r in survey] + extra + [dict(r) for r in rest]


@contextmanager
def project() -> Iterator[Sandbox]:
    with run_sandbox(metadata=metadata(), unique_field="assigned_study_id") as sb:
        yield sb


def study(tmp: Path, sb: Sandbox, *, submitted_at: bool = False, **changes: Any) -> str:
    """recruit.toml for the demo study with ``[duplicates]`` and a completion-time flag."""
    from screening_data import DEMO_CONFIG

    screening = {**DEMO_CONFIG["screening"], "flags": FLAGS}
    fields = dict(DEMO_CONFIG["fields"])
    if submitted_at:
        fields["submitted_at"] = "submitted_on"
    tables: dict[str, Any] = {
        "duplicates": {"match": MATCH},
        "screening": screening,
        "fields": fields,
    }
    tables.update(changes)
    return str(write_config(tmp, sb.url, **tables))


def put(sb: Sandbox, *rows: dict[str, str]) -> None:
    with RedcapClient(sb.url, sb.token) as client:
        client.import_records([{**GOOD, **r} for r in rows])


def records(sb: Sandbox) -> dict[str, dict[str, str]]:
    with RedcapClient(sb.url, sb.token) as client:
        return pipeline_state(client)


def recruit_run(config: str) -> int:
    return run(["-c", config, "run"])


def outbox(tmp: Path) -> set[str]:
    return {p.name for p in (tmp / "outbox").glob("*.eml")}


def sent(*keys: str) -> set[str]:
    """The outbox file names of messages with these idempotency keys."""
    return {eml_name(k) for k in keys}


def status(row: dict[str, str]) -> tuple[str, str, str]:
    return (
        row["pipeline_processing_status"],
        row["pipeline_ineligibility_reasons"],
        row["assigned_study_id"],
    )
