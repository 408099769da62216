"""Do-not-contact is checked before every send, not only before each window.

A window of claims is re-read just before it is written. When sending it is slow (Graph
paces to 30 a minute), the records not yet sent are read again before each send once the
last read is older than ``recheck_after``; these tests set that to 0 so every send is
preceded by a read, and have "staff" change a record while the window is being sent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from outreach_support import outbox, person, records

from recruit_cli.mail.message import OutgoingMessage, SendReceipt
from recruit_cli.mail.transports.outbox import OutboxTransport
from recruit_cli.outreach.claims import claimed
from recruit_cli.outreach.invite import invite_pass
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.settings import Settings, Status

NOW = datetime(2024, 5, 1, 19, 0, tzinfo=UTC)
S = Status
STATUS, CLAIM, REASONS = (
    "pipeline_processing_status",
    "pipeline_email_claim",
    "pipeline_ineligibility_reasons",
)


class StaffEditsDuringSend(OutboxTransport):
    """An outbox after whose first send a member of staff changes another record."""

    def __init__(self, directory: Path, client: RedcapClient, change: dict[str, str]) -> None:
        super().__init__(directory)
        self.client, self.change, self.done = client, change, False

    def send(self, message: OutgoingMessage) -> SendReceipt:
        receipt = super().send(message)
        if not self.done:
            self.done = True
            self.client.import_records([self.change])
        return receipt


def test_do_not_contact_ticked_while_its_window_is_sent_is_honoured(
    settings: Settings, client: RedcapClient
) -> None:
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 5)])
    staff = StaffEditsDuringSend(
        settings.email.outbox_dir, client, {"record_id": "3", "do_not_contact": "1"}
    )
    result = invite_pass(settings, client, staff, now=NOW, recheck_after=0.0)
    assert result.counts == {"invited": 3, "do_not_contact": 1}
    assert sorted(outbox(settings)) == ["1:invite:1", "2:invite:1", "4:invite:1"]
    row = records(client, "3")["3"]
    assert row[STATUS] == S.MANUAL_REVIEW and row[REASONS].startswith("do_not_contact:")
    assert row[CLAIM] == ""  # the claim written for the window is undone


def test_a_record_staff_moved_while_its_window_is_sent_is_left_alone(
    settings: Settings, client: RedcapClient
) -> None:
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 4)])
    staff = StaffEditsDuringSend(
        settings.email.outbox_dir,
        client,
        {"record_id": "2", STATUS: S.MANUAL_REVIEW, REASONS: "staff: hold"},
    )
    result = invite_pass(settings, client, staff, now=NOW, recheck_after=0.0)
    assert result.counts == {"invited": 2, "skipped": 1}
    assert "2:invite:1" not in outbox(settings)
    row = records(client, "2")["2"]
    assert row[STATUS] == S.MANUAL_REVIEW and row[REASONS] == "staff: hold"
    assert row[CLAIM] == ""


def test_an_interrupted_send_is_not_resumed_for_someone_who_opted_out_since(
    settings: Settings, client: RedcapClient
) -> None:
    # A crash left a claim and no message; the person then asked not to be contacted.
    earlier = NOW - timedelta(hours=1)
    client.import_records(
        [
            person(
                "1",
                S.ELIGIBLE_ID_ASSIGNED,
                do_not_contact="1",
                **{CLAIM: claimed("1:invite:1", earlier)},
            )
        ]
    )
    result = invite_pass(
        settings, client, OutboxTransport(settings.email.outbox_dir), now=NOW, recheck_after=0.0
    )
    assert outbox(settings) == {}
    assert result.counts == {"do_not_contact": 1}
    row = records(client, "1")["1"]
    assert row[STATUS] == S.MANUAL_REVIEW and row[REASONS].startswith("do_not_contact:")
