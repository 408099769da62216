"""One outreach pass: select the records, decide each (the plan), then the engine.

``run_outreach`` is the body of ``invite_pass``, ``notify_pass`` and ``alert_pass``: one
export selects the pass's records (or exactly ``--record``'s), ``plan.plan_pass`` decides
each, and ``send.Outreach`` claims, sends and marks (or, for ``--dry-run``, shows the plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from recruit_cli.errors import UsageError
from recruit_cli.mail.message import Transport
from recruit_cli.outreach.claims import Lease
from recruit_cli.outreach.plan import Spec, check_requested, message_key, plan_pass
from recruit_cli.outreach.result import OutreachDetails
from recruit_cli.outreach.send import RECHECK_AFTER, Build, Outreach
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult
from recruit_cli.settings import Settings


def run_outreach(
    settings: Settings,
    client: RedcapClient,
    transport: Transport,
    spec: Spec,
    *,
    build: Build,
    records: Sequence[str] | None = None,
    resend: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    recheck_after: float = RECHECK_AFTER,
) -> PassResult:
    """Run one outreach pass of ``spec``'s kind (the body of invite/notify/alert passes).

    ``recheck_after``: see ``Outreach``.

    Raises:
        UsageError: ``--resend`` without records, or a requested record that is unknown,
            in the wrong status, or already done without ``resend``.
        ServiceUnavailable, RedcapError: the selecting export failed (nothing happened).
    """
    if resend and not records:
        raise UsageError("--resend needs --record ID: it never applies to a whole pass")
    calls = client.calls
    fields = list(spec.fields)
    lease = Lease(now or datetime.now(UTC), settings.email.claim_lease_minutes)
    if records:
        rows = client.export_records(records=list(records), fields=fields)
        check_requested(settings, spec, rows, records, resend=resend, lease=lease)
    else:
        rows = client.export_records(fields=fields, filter_logic=spec.filter_logic)
    decisions = plan_pass(
        settings,
        spec,
        rows,
        keys=lambda row: message_key(settings, row, spec.kind),
        lease=lease,
        resend=resend,
    )
    read_ids = [row.get(settings.fields.record_id, "") for row in rows]
    engine = Outreach(
        settings,
        client,
        transport,
        spec,
        build=build,
        read_ids=read_ids,
        now=now,
        recheck_after=recheck_after,
    )
    result = engine.dry_run(decisions) if dry_run else engine.apply(decisions)
    details = replace(result.detail(OutreachDetails), redcap_calls=client.calls - calls)
    return replace(result, details=(details,))
