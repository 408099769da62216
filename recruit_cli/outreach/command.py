"""`recruit invite` and `recruit notify` as one call: the pass, a preview, or test copies.

- ``--preview RECORD``: the record's message as it would be sent (a ``Preview``); nothing
  is sent or written;
- ``--record N --to ME``: a copy of each named record's message to ME, REDCap unchanged
  (``preview.send_test_copies``);
- otherwise the pass itself (``invite_pass`` / ``notify_pass``), under the run lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from recruit_cli.errors import UsageError
from recruit_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from recruit_cli.results import PassResult
    from recruit_cli.settings import Settings

# The command's name -> the kind of message it sends.
KINDS = {"invite": "invite", "notify": "ineligible"}
PREVIEW_SCHEMA = "recruit.preview/1"


@dataclass(frozen=True)
class Preview:
    """One record's message, as the pass would send it. Holds the recipients' addresses:
    whoever shows it masks them (``cli.render``); never log it."""

    record_id: str
    kind: str
    key: str
    to: tuple[str, ...]
    subject: str
    text: str
    test_recipient: str | None = None  # --to: the address every message goes to instead

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_dict(self, shown_to: str) -> dict[str, Any]:
        """The ``recruit.preview/1`` document, with the recipients as ``shown_to``."""
        return {
            "schema": PREVIEW_SCHEMA,
            "record_id": self.record_id,
            "kind": self.kind,
            "key": self.key,
            "to": shown_to,
            "subject": self.subject,
            "text": self.text,
        }


def mail_command(
    settings: Settings,
    command: str,
    *,
    records: Sequence[str] | None = None,
    resend: bool = False,
    dry_run: bool = False,
    to: str | None = None,
    preview: str | None = None,
) -> PassResult | Preview:
    """Run `recruit invite` or `recruit notify` (``command``) with its options.

    Raises:
        UsageError: options that don't go together, an unusable ``--to`` address, or (from
            the pass) records that can't be sent to as asked.
        LockHeld: another run holds the lock (not for a preview, which changes nothing).
    """
    from recruit_cli.mail.transports import make_transport
    from recruit_cli.outreach.invite import invite_pass
    from recruit_cli.outreach.notify import notify_pass
    from recruit_cli.outreach.preview import preview_message, send_test_copies
    from recruit_cli.redcap.project import open_project

    kind = KINDS[command]
    settings = with_test_recipient(settings, to)
    if preview is not None:
        if records or resend or dry_run:
            raise UsageError("--preview cannot be combined with --record, --resend or --dry-run")
        with open_project(settings, lock=False) as client:
            message = preview_message(settings, client, preview, kind)
        return Preview(
            preview,
            message.kind,
            message.key,
            tuple(message.to),
            message.subject,
            message.text,
            settings.email.test_recipient,
        )
    if to is not None and (not records or resend):
        # A redirected pass would mark real participants as e-mailed while nobody got
        # anything; --to is for looking at named records' messages, so it needs --record.
        raise UsageError("--to needs --record (and cannot be combined with --resend)")
    run_pass = invite_pass if command == "invite" else notify_pass
    with open_project(settings, lock=True) as client:
        transport = make_transport(settings, deadline=client.deadline)
        try:
            if to is not None and records:
                return send_test_copies(settings, client, transport, records, kind, dry_run=dry_run)
            return run_pass(
                settings, client, transport, records=records, resend=resend, dry_run=dry_run
            )
        finally:
            transport.close()


def with_test_recipient(settings: Settings, to: str | None) -> Settings:
    """``--to``: the settings with every message redirected to ``to``."""
    if to is None:
        return settings
    from recruit_cli.address import InvalidAddress, normalise

    try:
        address = normalise(to)
    except InvalidAddress as exc:
        raise UsageError(f"--to: the e-mail address is not valid ({exc.reason})") from exc
    return replace(settings, email=replace(settings.email, test_recipient=address))
