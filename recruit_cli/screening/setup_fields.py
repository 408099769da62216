"""`recruit setup fields`: the data-dictionary rows of the pipeline's own fields.

Printed as a REDCap data-dictionary CSV, or imported with ``--apply``. REDCap's metadata
import REPLACES the whole dictionary, so ``--apply`` exports the current dictionary as raw
rows, adds only the missing pipeline fields (form ``recruitment_pipeline``), imports the
whole list, and checks that every field it held is still there. Existing fields, including
pipeline fields a lab already has, are never changed or dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recruit_cli.errors import RedcapError
from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.results import PassResult, RecordAction
from recruit_cli.settings import Settings

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient

FORM = "recruitment_pipeline"


@dataclass(frozen=True)
class PipelineField:
    logical: str  # FieldMap attribute
    field_type: str
    label: str
    validation: str = ""
    choices: str = ""
    note: str = ""


# Timestamps are plain text: REDCap's datetime validations refuse ISO-8601 with an offset.
PIPELINE_FIELDS: tuple[PipelineField, ...] = (
    PipelineField("status", "text", "Pipeline processing status", note="Written by recruit"),
    PipelineField("reasons", "notes", "Ineligibility / review reasons", note="code: text lines"),
    PipelineField("invited_at", "text", "Invitation sent (ISO-8601)"),
    PipelineField("notified_at", "text", "Ineligible notification sent (ISO-8601)"),
    PipelineField("study_id", "text", "Assigned study ID", validation="integer"),
    PipelineField("group", "text", "Study group"),
    PipelineField("screened_at", "text", "Screened (ISO-8601)"),
    PipelineField("email_claim", "text", "E-mail claim (key|state|time|run)"),
    PipelineField("email_intent", "text", "E-mail intent (run|time)"),
    PipelineField("safety_alerted_at", "text", "Safety alert sent to staff (ISO-8601)"),
    PipelineField(
        "safety_ack",
        "yesno",
        "Safety alert acknowledged by staff",
        note="Staff: set to Yes after reviewing the participant",
    ),
    PipelineField(
        "duplicate_ok",
        "yesno",
        "Not a duplicate: a different person (staff)",
        note="Staff: set to Yes when a record held as a duplicate is someone else",
    ),
)


def pipeline_field_rows(settings: Settings) -> list[dict[str, str]]:
    """The pipeline fields as REDCap metadata rows, named per ``[fields]``."""
    rows = []
    for p in PIPELINE_FIELDS:
        row = dict.fromkeys(METADATA_COLUMNS, "")
        row |= {
            "field_name": getattr(settings.fields, p.logical),
            "form_name": FORM,
            "field_type": p.field_type,
            "field_label": p.label,
            "select_choices_or_calculations": p.choices,
            "field_note": p.note,
            "text_validation_type_or_show_slider_number": p.validation,
        }
        rows.append(row)
    return rows


def to_csv(rows: Sequence[Mapping[str, str]]) -> str:
    """REDCap's data-dictionary CSV (the column order of a dictionary download)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(METADATA_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in METADATA_COLUMNS})
    return buf.getvalue()


def missing_rows(settings: Settings, existing: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Pipeline rows whose field the dictionary does not have yet."""
    have = {r.get("field_name", "") for r in existing}
    return [r for r in pipeline_field_rows(settings) if r["field_name"] not in have]


def with_missing(
    existing: Sequence[dict[str, str]], missing: Sequence[dict[str, str]]
) -> list[dict[str, str]]:
    """The whole dictionary with the missing rows added where REDCap will accept them.

    REDCap refuses a dictionary whose forms are not contiguous, so when the project already
    has a ``recruitment_pipeline`` form (a lab that added some pipeline fields by hand) the
    missing rows go right after its last field; otherwise they form a new last form.
    """
    last = max((i for i, r in enumerate(existing) if r.get("form_name") == FORM), default=None)
    if last is None:
        return [*existing, *missing]
    return [*existing[: last + 1], *missing, *existing[last + 1 :]]


def setup_fields(settings: Settings, client: RedcapClient, *, dry_run: bool = False) -> PassResult:
    """Add the missing pipeline fields to the project's data dictionary."""
    existing = client.export_metadata_rows()
    missing = missing_rows(settings, existing)
    actions = tuple(RecordAction(r["field_name"], "add_field", FORM) for r in missing)
    if dry_run or not missing:
        notices = () if missing else ("every pipeline field exists already",)
        return PassResult("setup fields", dry_run=dry_run, actions=actions, notices=notices)
    full = with_missing(
        [{c: str(r.get(c, "") or "") for c in METADATA_COLUMNS} for r in existing], missing
    )
    client.import_metadata(full)
    after = {r.get("field_name", "") for r in client.export_metadata_rows()}
    lost = [r["field_name"] for r in full if r["field_name"] not in after]
    if lost:  # REDCap said yes but the dictionary is not what we sent: stop loudly
        raise RedcapError(
            "after the dictionary import these fields are missing: " + ", ".join(lost)
        )
    return PassResult("setup fields", actions=actions)
