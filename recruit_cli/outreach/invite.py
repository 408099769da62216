"""``recruit invite``: e-mail each participant with a study ID their invitation, once."""

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

KIND = "invite"


def invite_spec(settings: Settings) -> Spec:
    f = settings.fields

    def check(row: Row) -> str | None:
        study_id = row.get(f.study_id, "").strip()
        if not study_id:
            return f"study_id_missing: {f.study_id} is blank"
        if not study_id.isascii() or not study_id.isdigit():
            return f"study_id_invalid: {f.study_id} is not a whole number"
        return address_problem(settings, row)

    return Spec(
        command="invite",
        kind=KIND,
        done_action="invited",
        status_from=Status.ELIGIBLE_ID_ASSIGNED,
        status_to=Status.ELIGIBLE_INVITED,
        stamp_field=f.invited_at,
        participant=True,
        fields=participant_fields(settings, f.study_id, f.invited_at),
        filter_logic=status_filter(settings, Status.ELIGIBLE_ID_ASSIGNED),
        check=check,
    )


def build_invite(settings: Settings, row: Row, key: str) -> OutgoingMessage:
    """The invitation for one record (raises what ``compose`` raises)."""
    f = settings.fields
    return compose(
        settings,
        KIND,
        {"study_id": row.get(f.study_id, "").strip()},
        to=[address(settings, row)],
        key=key,
        record_id=row.get(f.record_id, ""),
        language=language(settings, row),
    )


def invite_pass(
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
    """Invite every ``eligible_id_assigned`` record (or exactly ``records``), exactly once.

    Args:
        settings: The study settings.
        client: The REDCap client.
        transport: Where messages go (outbox, smtp, graph).
        records: Only these record ids (``--record``); each must be eligible_id_assigned,
            or eligible_invited with ``resend``.
        resend: Send again to ``records`` already invited, under a new key.
        dry_run: Plan only: nothing is written or sent.
        now: The time to write (tests); default the clock.
        recheck_after: Seconds before the records being sent are read again (a
            do-not-contact ticked meanwhile is honoured); see ``send.Outreach``.

    Returns:
        The pass result; its exit code is 5 when some records failed, 4 when REDCap or the
        mail service became unavailable, 6 when sign-in is needed.

    Raises:
        UsageError: a requested record is unknown, not invitable, or already invited
            without ``resend``.
    """
    return run_outreach(
        settings,
        client,
        transport,
        invite_spec(settings),
        build=build_invite,
        records=records,
        resend=resend,
        dry_run=dry_run,
        now=now,
        recheck_after=recheck_after,
    )
