"""``recruit invite --preview RECORD``: render one record's message; send and write nothing."""

from __future__ import annotations

from recruit_cli.errors import UsageError
from recruit_cli.mail.message import OutgoingMessage
from recruit_cli.outreach.invite import build_invite, invite_key, invite_spec
from recruit_cli.outreach.notify import build_notice, notify_key, notify_spec
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.settings import Settings, Status


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
        spec, build, key = invite_spec(settings), build_invite, invite_key
    elif kind == "ineligible":
        spec, build, key = notify_spec(settings), build_notice, notify_key
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
    return build(settings, row, key(settings, row))
