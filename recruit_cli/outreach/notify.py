"""``recruit notify``: send each ineligible person a neutral notice, once (never the reason)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from recruit_cli.mail.compose import compose
from recruit_cli.mail.message import OutgoingMessage, Transport
from recruit_cli.outreach.participant import (
    address,
    address_problem,
    language,
    participant_fields,
    status_filter,
)
from recruit_cli.outreach.passes import run_outreach
from recruit_cli.outreach.plan import Row, Spec
from recruit_cli.outreach.send import RECHECK_AFTER
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult
from recruit_cli.settings import Settings, Status

KIND = "ineligible"


def notify_spec(settings: Settings) -> Spec:
    f = settings.fields
    return Spec(
        command="notify",
        kind=KIND,
        done_action="notified",
        status_from=Status.INELIGIBLE,
        status_to=Status.INELIGIBLE_NOTIFIED,
        stamp_field=f.notified_at,
        participant=True,
        fields=participant_fields(settings, f.notified_at),
        filter_logic=status_filter(settings, Status.INELIGIBLE),
        check=lambda row: address_problem(settings, row),
    )


def build_notice(settings: Settings, row: Row, key: str) -> OutgoingMessage:
    """The ineligibility notice for one record: no reason, no study descriptors."""
    return compose(
        settings,
        KIND,
        {},
        to=[address(settings, row)],
        key=key,
        record_id=row.get(settings.fields.record_id, ""),
        language=language(settings, row),
    )


def notify_pass(
    settings: Settings,
    client: RedcapClient,
    transport: Transport,
    *,
    records: Sequence[str] | None = None,
    resend: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    recheck_after: float = RECHECK_AFTER,
) -> PassResult:
    """Notify every ``ineligible`` record (or exactly ``records``), exactly once.

    Same arguments, result and errors as ``invite_pass``; the statuses are ``ineligible``
    -> ``ineligible_notified`` and the timestamp is the notified-at field.
    """
    return run_outreach(
        settings,
        client,
        transport,
        notify_spec(settings),
        build=build_notice,
        records=records,
        resend=resend,
        dry_run=dry_run,
        now=now,
        recheck_after=recheck_after,
    )
