"""The demo project: its data dictionary and reproducible synthetic screening submissions.

Modelled on a real lab's screening survey (consent, age, travel, English, a TMS
contraindication, a self-reported QIDS-SR16 total, e-mail) plus staff fields and the
pipeline's own fields. About one submission in ten is messy the way real ones are.
Addresses are all ``@example.org``/``@example.com``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox.store import Changes, LogEntry, Store


def _row(
    name: str,
    form: str,
    ftype: str,
    label: str,
    *,
    choices: str = "",
    validation: str = "",
    note: str = "",
    identifier: str = "",
    required: str = "",
    annotation: str = "",
) -> dict[str, str]:
    row = dict.fromkeys(METADATA_COLUMNS, "")
    row.update(
        field_name=name,
        form_name=form,
        field_type=ftype,
        field_label=label,
        select_choices_or_calculations=choices,
        text_validation_type_or_show_slider_number=validation,
        field_note=note,
        identifier=identifier,
        required_field=required,
        field_annotation=annotation,
    )
    return row


_S, _T, _P = "screening_survey", "staff_tracking", "recruitment_pipeline"

DEMO_METADATA: list[dict[str, str]] = [
    _row("record_id", _S, "text", "Record ID"),
    _row(
        "agree_participate",
        _S,
        "yesno",
        "Do you agree to take part in this screening?",
        required="y",
    ),
    _row("age", _S, "text", "How old are you?", note="In years"),
    _row("travel", _S, "yesno", "Are you able to travel to our lab for study visits?"),
    _row("english", _S, "yesno", "Are you fluent in English?"),
    _row(
        "tms_contra",
        _S,
        "yesno",
        "Do you have metal in your head, a pacemaker, or a history of seizures?",
    ),
    _row("qids_score", _S, "text", "Your QIDS-SR16 total score", note="0 to 27"),
    _row(
        "qids_12",
        _S,
        "radio",
        "Thoughts of death or suicide (QIDS-SR16 item 12)",
        choices="0, I do not think of suicide or death | 1, I feel that life is empty "
        "or wonder if it's worth living | 2, I think of suicide or death several times a "
        "week for several minutes | 3, I think of suicide or death several times a day in "
        "some detail, or have made specific plans or attempts",
    ),
    _row("participant_email", _S, "text", "Your e-mail address", identifier="y"),
    _row(
        "preferred_language", _S, "radio", "Preferred language", choices="en, English | es, Español"
    ),
    _row("do_not_contact", _T, "yesno", "Do not contact this person"),
    _row("booking_date", _T, "text", "E-consent session booked for", validation="date_ymd"),
    _row(
        "pipeline_processing_status",
        _P,
        "text",
        "Processing status",
        annotation="Written by recruit",
    ),
    _row("pipeline_ineligibility_reasons", _P, "notes", "Screening reasons"),
    _row("pipeline_invitation_sent_timestamp", _P, "text", "Invitation sent at"),
    _row(
        "pipeline_ineligible_notification_sent_timestamp",
        _P,
        "text",
        "Ineligible notification sent at",
    ),
    _row("assigned_study_id", _P, "text", "Study ID", validation="integer"),
    _row("pipeline_group", _P, "text", "Group"),
    _row("pipeline_screened_timestamp", _P, "text", "Screened at"),
    _row("pipeline_email_claim", _P, "text", "E-mail claim"),
    _row("pipeline_email_intent", _P, "text", "E-mail intent"),
    _row("pipeline_safety_alert_timestamp", _P, "text", "Safety alert sent at"),
    _row("pipeline_safety_acknowledged", _P, "yesno", "Safety alert acknowledged by staff"),
    _row("pipeline_duplicate_ok", _P, "yesno", "Not a duplicate: a different person (staff)"),
]

MESSY_AGES = ("abc", "", "17", "200", " 34 ", "34.5", "thirty")
MESSY_QIDS = ("28", "-1", "abc", "12.5", "")
WEEKS = 12


def _submission(rng: random.Random, n: int) -> dict[str, str]:
    """One synthetic screening answer set (every value a string, blanks left out)."""
    r: dict[str, str] = {
        "age": str(rng.randint(18, 65)),
        "travel": "1",
        "english": "1",
        "tms_contra": "0",
        "participant_email": f"participant{n}@example.org",
        "preferred_language": "es" if rng.random() < 0.2 else "en",
    }
    consent = rng.random()
    r["agree_participate"] = "1" if consent < 0.94 else ("0" if consent < 0.97 else "")
    band = rng.random()
    if band < 0.32:
        qids = rng.randint(0, 5)  # healthy control range
    elif band < 0.42:
        qids = rng.randint(6, 10)  # between groups
    elif band < 0.82:
        qids = rng.randint(11, 20)  # MDD range
    else:
        qids = rng.randint(21, 27)  # severe
    r["qids_score"] = str(qids)
    r["qids_12"] = "0" if qids < 11 or rng.random() < 0.6 else "1"
    if rng.random() < 0.03:
        r["qids_12"] = rng.choice(("2", "3"))
    if rng.random() < 0.12:  # ineligible on one criterion
        why = rng.choice(("age", "travel", "english", "tms"))
        if why == "age":
            r["age"] = str(rng.choice((16, 17, 66, 70, 74)))
        elif why == "tms":
            r["tms_contra"] = "1"
        else:
            r[why] = "0"
    if rng.random() < 0.10:  # messy, the way free-text answers are
        what = rng.choice(("age", "qids", "email", "html"))
        if what == "age":
            r["age"] = rng.choice(MESSY_AGES)
        elif what == "qids":
            r["qids_score"] = rng.choice(MESSY_QIDS)
        elif what == "email":
            r["participant_email"] = rng.choice(
                (f"participant{n}example.org", f"participant {n}@example.com ")
            )
        else:
            r["participant_email"] = f"<b>participant{n}@example.com</b>"
    return {k: v for k, v in r.items() if v != ""}


@dataclass(frozen=True)
class DemoSubmission:
    """One synthetic screening submission, in arrival order."""

    number: int  # its record id when the records are numbered from 1
    created: datetime  # naive, on the server's wall clock
    answers: dict[str, str]  # the screening survey's answers (blank ones left out)
    staff: dict[str, str]  # staff-entered fields (a do-not-contact flag), usually none


def demo_submissions(
    count: int, seed: int = 7, *, now: datetime | None = None, start: int = 0
) -> list[DemoSubmission]:
    """``count`` reproducible submissions, backdated over the 12 weeks before ``now``.

    Creation times are spread with more recent weeks a little busier, so a weekly report
    shows a trend. `recruit demo` submits them over time, as a cron deployment sees them.
    """
    rng = random.Random(seed)
    end = (now or datetime.now()).replace(microsecond=0)
    span = WEEKS * 7 * 24 * 3600
    # sqrt skews toward the recent end: recruitment picking up.
    offsets = sorted((span * (1 - rng.random() ** 0.5) for _ in range(count)), reverse=True)
    out = []
    for i, offset in enumerate(offsets, start=1):
        answers = _submission(rng, start + i)
        staff = {"do_not_contact": "1"} if rng.random() < 0.02 else {}
        out.append(DemoSubmission(start + i, end - timedelta(seconds=offset), answers, staff))
    return out


def seed_demo(store: Store, count: int, seed: int = 7, *, now: datetime | None = None) -> None:
    """Add ``count`` reproducible submissions (``demo_submissions``), all at once.

    Record ids follow submission order. Pipeline fields are left empty.
    """
    end = (now or datetime.now()).replace(microsecond=0)
    start = int(max((int(r) for r in store.record_ids() if r.isdigit()), default=0))
    changes = Changes.empty()
    for submission in demo_submissions(count, seed, now=end, start=start):
        record = str(submission.number)
        created = submission.created.strftime("%Y-%m-%d %H:%M:%S")
        answers = dict(submission.answers)
        if "agree_participate" in answers:
            answers["screening_survey_complete"] = "2"
        if submission.staff:
            answers.update(submission.staff)
            answers["staff_tracking_complete"] = "1"
        changes.new_records.append((record, created))
        changes.set_values.append((record, "", 1, "record_id", record))
        changes.set_values.extend((record, "", 1, k, v) for k, v in answers.items())
        details = ", ".join(
            f"{k} = '{v}'" for k, v in answers.items() if not k.endswith("_complete")
        )
        changes.log.append(
            LogEntry(
                created,
                "[survey respondent]",
                f"Create survey response {record}",
                details,
                record,
                "record_add",
            )
        )
    store.apply(changes, end.strftime("%Y-%m-%d %H:%M:%S"))
