"""Safety alerts for records whose record id recruit refused (``redcap.record_ids``).

Such a record is never screened: nothing can be written to it (its id might reach another
record), so it never reaches ``safety_review``, and the claim -> send -> mark engine, which
keeps its state in the record, can't carry its alert. A lost safety alert is worse than a
repeated one, so the alert step sends it here, under the record's safe key (``idhash-…``:
in the message's idempotency key, its subject and its text, which also says where the
record is and what to do), for every refused row the client met in this run that

- matches the safety rule (``Logic.holds``, as screening decides) while it waits to be
  screened, or already says ``safety_review`` without an alert timestamp;
- and that staff have not acknowledged (the acknowledgement field can be set on it).

Once, where the transport can tell (outbox, Graph: ``was_sent`` on the key); SMTP can't,
so there the alert is repeated every run, as the run's exit 5 and its notice are, until
staff correct the record id or acknowledge the alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from recruit_cli.errors import RecruitError
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.logs import get_logger
from recruit_cli.mail.compose import compose, idempotency_key
from recruit_cli.mail.message import Transport
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.redcap.record_ids import RefusedRecord
from recruit_cli.results import PassResult, RecordAction
from recruit_cli.settings import BLANK_STATUSES, Settings, Status

KIND = "safety_alert"
log = get_logger("outreach.refused_alerts")


def needs_alert(settings: Settings, row: Mapping[str, str], now: datetime) -> bool:
    """Whether a refused record's row calls for a safety alert (see the module docstring)."""
    f = settings.fields
    if row.get(f.safety_ack, "").strip() == "1":
        return False
    status = row.get(f.status, "").strip()
    if status == Status.SAFETY_REVIEW:
        return not row.get(f.safety_alerted_at, "").strip()
    rule = settings.safety.when
    return status in BLANK_STATUSES and rule is not None and rule.holds(row, now.date())


def record_problem(record: RefusedRecord) -> str:
    """The alert's explanation: why recruit names the record so, and where it is."""
    return (
        f"This record's id holds {record.problem}, so recruit can neither name it here nor "
        f"write to it: it shows it as {record.key}. It was row {record.position} of REDCap's "
        "answer to recruit's export. Find it in REDCap and correct its record id."
    )


def refused_alerts(
    settings: Settings,
    client: RedcapClient,
    transport: Transport,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PassResult:
    """Alert staff about every refused record that needs it (see the module docstring)."""
    moment = (now or settings.study.now()).astimezone(settings.study.zone())
    due: dict[str, RefusedRecord] = {}
    for record in client.refused:
        if record.key not in due and needs_alert(settings, record.row, moment):
            due[record.key] = record
    actions: list[RecordAction] = []
    notices: list[str] = []
    codes = [ExitCode.OK]
    for key, record in due.items():
        if not settings.safety.notify:
            log.warning("safety rule fired for %s; no [safety] notify address", key)
            actions.append(RecordAction(key, "not_alerted", "no [safety] notify addresses", False))
            codes.append(ExitCode.PARTIAL)
            continue
        message_key = idempotency_key(key, KIND, settings.email.template_version)
        if dry_run:
            actions.append(RecordAction(key, "alerted", message_key))
            continue
        try:
            if transport.was_sent(message_key):
                actions.append(RecordAction(key, "skipped", f"already alerted ({message_key})"))
                continue
            context = {
                "record_id": key,
                "rule": settings.safety.name,
                "fired_at": moment.strftime("%Y-%m-%d %H:%M %Z").strip(),
                "record_problem": record_problem(record),
                "ack_field": settings.fields.safety_ack,
            }
            transport.send(
                compose(
                    settings,
                    KIND,
                    context,
                    to=list(settings.safety.notify),
                    key=message_key,
                    record_id=key,
                )
            )
        except RecruitError as exc:
            actions.append(RecordAction(key, "not_alerted", str(exc), ok=False))
            notices.append(f"alert: the safety alert for {key} was not sent: {exc}")
            codes.append(exc.exit_code)
            break  # the transport failed: the next alert would fail the same way
        log.info("safety alert sent for %s (its record id can't be used)", key)
        actions.append(RecordAction(key, "alerted", message_key))
    return PassResult(
        command="alert",
        dry_run=dry_run,
        actions=tuple(actions),
        notices=tuple(notices),
        exit_code=worst(codes),
    )
