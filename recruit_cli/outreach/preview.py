"""``recruit invite --preview RECORD`` and ``--record N --to ME``: look at one record's
message, or send a test copy of it; either way nothing is written to REDCap."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from recruit_cli.errors import UsageError
from recruit_cli.mail.message import OutgoingMessage, Transport
from recruit_cli.outreach.invite import build_invite, invite_spec
from recruit_cli.outreach.notify import build_notice, notify_spec
from recruit_cli.outreach.plan import message_key
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult, RecordAction
from recruit_cli.settings import Settings, Status

log = logging.getLogger(__name__)

# Starts a test copy's subject: in an inbox it must not pass for the real message.
TEST_MARK = "[TEST] "


def preview_message(
    settings: Settings, client: RedcapClient, record_id: str, kind: str = "invite"
) -> OutgoingMessage:
    """The message the pass would send to ``record_id`` (the test recipient applies).

    Args:
        settings: The study settings.
        client: The REDCap client (one export; nothing is written).
        record_id: The record to render for.
        kind: ``"invite"`` or ``"ineligible"``.

    Raises:
        UsageError: unknown kind or record, a record in safety review (it never gets
            participant mail), or data the message cannot be made from.
        RecipientRejected, TemplateError, MailError: from ``compose``.
    """
    if kind == "invite":
        spec, build = invite_spec(settings), build_invite
    elif kind == "ineligible":
        spec, build = notify_spec(settings), build_notice
    else:
        raise UsageError(f"cannot preview {kind!r}: use invite or ineligible")
    rows = client.export_records(records=[record_id], fields=list(spec.fields))
    if not rows:
        raise UsageError(f"record {record_id} not found")
    row = rows[0]
    if row.get(settings.fields.status, "").strip() == Status.SAFETY_REVIEW:
        raise UsageError(f"record {record_id} is in safety review: it never gets participant mail")
    problem = spec.check(row)
    if problem:
        raise UsageError(f"record {record_id}: cannot render the {kind} message: {problem}")
    return build(settings, row, message_key(settings, row, spec.kind))


def send_test_copies(
    settings: Settings,
    client: RedcapClient,
    transport: Transport,
    record_ids: Sequence[str],
    kind: str = "invite",
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PassResult:
    """Send the test recipient a copy of the message each record would get; write nothing.

    This is ``recruit invite --record N --to ME``: a coordinator checking what participant
    N will receive. It must not count as N's message, or N would never get the real one:
    so REDCap is not touched, and each copy carries its own key (``<key>:test-<time>``)
    so that neither the outbox nor Graph's Sent Items can later mistake it for the real
    message when a pass reconciles.

    Raises:
        UsageError: when no test recipient is set, or as ``preview_message``.
    """
    if not settings.email.test_recipient:
        raise UsageError("test copies need a test recipient (--to ADDRESS)")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    actions = []
    # The coordinator's own address (typed with --to) is said back, so they know where to
    # look; a participant's address never appears here.
    notices = []
    for record_id in record_ids:
        message = preview_message(settings, client, record_id, kind)
        test_key = f"{message.key}:test-{stamp}"
        copy = replace(message, key=test_key, subject=f"{TEST_MARK}{message.subject}")
        where = ""
        if not dry_run:
            receipt = transport.send(copy)
            where = f" ({transport.name}: {receipt.detail})" if receipt.detail else ""
            log.info("record %s: test copy of the %s message sent (%s)", record_id, kind, test_key)
        verb = "would go" if dry_run else "went"
        notices.append(
            f"record {record_id}: the test copy of the {kind} message {verb} to "
            f"{settings.email.test_recipient}{where}"
        )
        actions.append(RecordAction(record_id, "test_copy", test_key))
    return PassResult(
        command="invite" if kind == "invite" else "notify",
        dry_run=dry_run,
        actions=tuple(actions),
        notices=(
            *notices,
            "test copies only: REDCap was not changed and no participant was e-mailed",
        ),
    )
