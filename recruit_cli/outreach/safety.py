"""Safety alerts: tell the configured staff, once, that a record's safety rule fired.

An alert names the record, the rule and when it fired; never an answer, never an address.
It goes through the same claim -> send -> mark engine as participant mail; the mark is the
alert timestamp field and the status stays ``safety_review``. Two differences, both because
a lost safety alert is worse than a repeated one:

- an uncertain claim (SMTP after a crash) is sent again instead of going to review;
- a claim this pass cannot read, or one left by another kind of message, is overwritten.

A record staff have already acknowledged is not alerted. A record whose id the export
refused (a control character: ``redcap.record_ids``) is alerted under a safe name by
``outreach.refused_alerts``.
"""

from __future__ import annotations

from datetime import datetime

from recruit_cli.exit_codes import ExitCode
from recruit_cli.logs import get_logger
from recruit_cli.mail.compose import compose
from recruit_cli.mail.message import OutgoingMessage, Transport
from recruit_cli.outreach.passes import run_outreach
from recruit_cli.outreach.plan import Row, Spec
from recruit_cli.outreach.refused_alerts import refused_alerts
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult, RecordAction, combine
from recruit_cli.settings import Settings, Status

KIND = "safety_alert"
log = get_logger("outreach.safety")


def alert_spec(settings: Settings) -> Spec:
    f = settings.fields

    def check(row: Row) -> str | None:
        if row.get(f.safety_ack, "").strip() == "1":
            return f"acknowledged: {f.safety_ack} is set"
        return None

    return Spec(
        command="alert",
        kind=KIND,
        done_action="alerted",
        status_from=Status.SAFETY_REVIEW,
        status_to=None,
        stamp_field=f.safety_alerted_at,
        participant=False,
        fields=(
            f.record_id,
            f.status,
            f.email_claim,
            f.safety_alerted_at,
            f.safety_ack,
            f.screened_at,
        ),
        filter_logic=(
            f"[{f.status}] = '{Status.SAFETY_REVIEW}' and [{f.safety_alerted_at}] = ''"
            f" and [{f.safety_ack}] <> '1'"
        ),
        check=check,
    )


def fired_at(settings: Settings, row: Row) -> str:
    """When the rule fired (the screening time), shown in the study's time zone."""
    raw = row.get(settings.fields.screened_at, "").strip()
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return "not recorded"
    if when.tzinfo is not None:
        when = when.astimezone(settings.study.zone())
    return when.strftime("%Y-%m-%d %H:%M %Z").strip()


def build_alert(settings: Settings, row: Row, key: str) -> OutgoingMessage:
    """The staff alert for one record: record id, rule name, time; nothing else."""
    rid = row.get(settings.fields.record_id, "")
    return compose(
        settings,
        KIND,
        {
            "record_id": rid,
            "rule": settings.safety.name,
            "fired_at": fired_at(settings, row),
            "ack_field": settings.fields.safety_ack,  # what staff set once they have acted
        },
        to=list(settings.safety.notify),
        key=key,
        record_id=rid,
    )


def alert_pass(
    settings: Settings,
    client: RedcapClient,
    transport: Transport,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PassResult:
    """Alert staff about every safety-review record not yet alerted or acknowledged.

    With no ``[safety] notify`` addresses configured nothing is sent or written: each
    record is logged at WARNING and reported as ``not_alerted`` (exit 5), every pass, until
    staff acknowledge it or an address is configured.
    """
    spec = alert_spec(settings)
    if not settings.safety.notify:
        rows = client.export_records(fields=list(spec.fields), filter_logic=spec.filter_logic)
        ids = [row.get(settings.fields.record_id, "") for row in rows]
        for rid in ids:
            log.warning("safety rule fired for record %s; no [safety] notify address", rid)
        result = PassResult(
            command="alert",
            dry_run=dry_run,
            actions=tuple(
                RecordAction(rid, "not_alerted", "no [safety] notify addresses", ok=False)
                for rid in ids
            ),
            notices=("no [safety] notify addresses are configured: alerts only in the log",)
            if ids
            else (),
            exit_code=ExitCode.PARTIAL if ids else ExitCode.OK,
        )
    else:
        result = run_outreach(
            settings,
            client,
            transport,
            spec,
            build=build_alert,
            dry_run=dry_run,
            now=now,
        )
    # Records whose id the exports refused can't go through the engine: their own alerts.
    refused = refused_alerts(settings, client, transport, dry_run=dry_run, now=now)
    return combine("alert", result, refused) if refused.actions else result
