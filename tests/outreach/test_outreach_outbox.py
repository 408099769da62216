"""invite / notify / safety alerts against the sandbox, with the outbox transport."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from outreach_support import STAFF, MakeSettings, body, outbox, person, records

from recruit_cli.errors import UsageError
from recruit_cli.exit_codes import ExitCode
from recruit_cli.mail.message import OutgoingMessage, SendReceipt
from recruit_cli.mail.transports.outbox import OutboxTransport, eml_name
from recruit_cli.outreach.claims import Lease, claimed, sent
from recruit_cli.outreach.invite import build_invite, invite_pass, invite_spec
from recruit_cli.outreach.notify import notify_pass
from recruit_cli.outreach.plan import Verdict, decide
from recruit_cli.outreach.result import OutreachDetails
from recruit_cli.outreach.safety import alert_pass
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.settings import Settings, Status

NOW = datetime(2024, 5, 1, 19, 0, tzinfo=UTC)
STALE = NOW - timedelta(hours=2)  # older than the default lease (60 minutes)
S = Status
STATUS = "pipeline_processing_status"
CLAIM = "pipeline_email_claim"
REASONS = "pipeline_ineligibility_reasons"


def box(settings: Settings) -> OutboxTransport:
    return OutboxTransport(settings.email.outbox_dir)


def test_invite_and_notify_send_once_and_mark_redcap(
    settings: Settings, client: RedcapClient
) -> None:
    eligible = [person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 13)]
    eligible[2]["preferred_language"] = "es"
    others = [
        person("20", S.INELIGIBLE, **{REASONS: "age: Must be 18-65"}),
        person("21", S.INELIGIBLE),
        person("30", S.MANUAL_REVIEW),
        person("31", S.SAFETY_REVIEW, qids_12="3"),
        person("32", S.PENDING),
        person("33", S.ELIGIBLE),
    ]
    client.import_records([*eligible, *others])

    result = invite_pass(settings, client, box(settings), now=NOW)
    assert result.exit_code == ExitCode.OK
    assert result.counts == {"invited": 12}
    # One export to select, then one re-read and one import per window of 10, one last mark.
    assert result.detail(OutreachDetails).redcap_calls <= 2 + 2 * math.ceil(12 / 10)
    notified = notify_pass(settings, client, box(settings), now=NOW)
    assert notified.counts == {"notified": 2}

    sent_mail = outbox(settings)
    assert sorted(sent_mail) == sorted(
        [f"{i}:invite:1" for i in range(1, 13)] + ["20:ineligible:1", "21:ineligible:1"]
    )
    one = sent_mail["1:invite:1"]
    assert one["To"] == "person1@example.org" and "3001" in body(one)
    assert "Su número" in str(sent_mail["3:invite:1"]["Subject"])
    notice = body(sent_mail["20:ineligible:1"])
    assert "18-65" not in notice and "age" not in notice.lower().split()

    held = records(client)
    for i in range(1, 13):
        row = held[str(i)]
        assert row[STATUS] == S.ELIGIBLE_INVITED
        assert row["pipeline_invitation_sent_timestamp"] == "2024-05-01T12:00:00-07:00"
        assert row[CLAIM] == sent(f"{i}:invite:1", NOW)
    assert held["20"][STATUS] == S.INELIGIBLE_NOTIFIED
    assert held["20"][REASONS] == "age: Must be 18-65"  # staff-facing reasons kept
    assert held["20"]["pipeline_ineligible_notification_sent_timestamp"]
    for rid in ("30", "31", "32", "33"):
        assert held[rid][CLAIM] == "" and held[rid][STATUS] == others[int(rid) - 28][STATUS]

    files = {p.name: p.stat().st_ino for p in settings.email.outbox_dir.glob("*.eml")}
    again = [
        invite_pass(settings, client, box(settings), now=NOW + timedelta(hours=1)),
        notify_pass(settings, client, box(settings), now=NOW + timedelta(hours=1)),
    ]
    assert [r.actions for r in again] == [(), ()]
    assert {p.name: p.stat().st_ino for p in settings.email.outbox_dir.glob("*.eml")} == files
    assert records(client) == held


class DncDuringPass(OutboxTransport):
    """An outbox whose first send is followed by staff ticking do-not-contact on a record."""

    def __init__(self, directory: Path, client: RedcapClient, record: str) -> None:
        super().__init__(directory)
        self.client, self.record, self.done = client, record, False

    def send(self, message: OutgoingMessage) -> SendReceipt:
        receipt = super().send(message)
        if not self.done:
            self.done = True
            self.client.import_records([{"record_id": self.record, "do_not_contact": "1"}])
        return receipt


def test_do_not_contact_set_after_selection_is_honoured(
    settings: Settings, client: RedcapClient
) -> None:
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 13)])
    transport = DncDuringPass(settings.email.outbox_dir, client, record="12")
    # All twelve are claimed in one window and read right before the sends; a flag set
    # during the sends is seen by the re-read before each send (here: every send).
    result = invite_pass(settings, client, transport, now=NOW, recheck_after=0)
    assert result.counts == {"invited": 11, "do_not_contact": 1}
    assert result.exit_code == ExitCode.OK
    assert "12:invite:1" not in outbox(settings)
    row = records(client, "12")["12"]
    assert row[STATUS] == S.MANUAL_REVIEW and row[REASONS].startswith("do_not_contact:")
    assert row[CLAIM] == ""
    # It stays out of every later pass.
    assert invite_pass(settings, client, box(settings), now=NOW).actions == ()


def test_bad_addresses_and_header_injection_go_to_review_and_the_pass_goes_on(
    settings: Settings, client: RedcapClient
) -> None:
    client.import_records(
        [
            person("1", S.ELIGIBLE_ID_ASSIGNED),
            person("2", S.ELIGIBLE_ID_ASSIGNED, participant_email="not-an-address"),
            person("3", S.ELIGIBLE_ID_ASSIGNED, participant_email="a@b@example.org"),
            person("4", S.ELIGIBLE_ID_ASSIGNED, participant_email="x@example.org\r\nBcc: e@v.il"),
            person("6", S.ELIGIBLE_ID_ASSIGNED, participant_email=""),
            person("7", S.ELIGIBLE_ID_ASSIGNED, participant_email="<b>x</b>@example.org"),
            person("8", S.ELIGIBLE_ID_ASSIGNED),
        ]
    )
    result = invite_pass(settings, client, box(settings), now=NOW)
    assert result.exit_code == ExitCode.OK
    assert sorted(outbox(settings)) == ["1:invite:1", "8:invite:1"]
    held = records(client)
    for rid, code in [
        ("2", "email_invalid"),
        ("3", "email_invalid"),
        ("4", "email_invalid"),
        ("6", "email_missing"),
        ("7", "email_invalid"),
    ]:
        assert held[rid][STATUS] == S.MANUAL_REVIEW, rid
        assert held[rid][REASONS].startswith(code + ":"), rid
        assert held[rid][CLAIM] == "", rid
    # Moved to review with a reason: handled, not failed.
    assert {a.record_id for a in result.actions if a.action == "review"} == {
        "2",
        "3",
        "4",
        "6",
        "7",
    }
    assert not result.failed
    text = repr(result.to_dict())
    assert "e@v.il" not in text and "not-an-address" not in text and "example.org" not in text


def test_a_line_break_in_the_study_id_is_refused(
    make_settings: MakeSettings, client: RedcapClient
) -> None:
    # The demo project validates its study-id field as an integer; a project whose field
    # has no validation can hold anything, so map the study id to such a field.
    settings = make_settings(fields={"study_id": "age"})
    client.import_records(
        [
            person("1", S.ELIGIBLE_ID_ASSIGNED, age="3001"),
            person("2", S.ELIGIBLE_ID_ASSIGNED, age="3002\r\nBcc: e@v.il"),
            person("3", S.ELIGIBLE_ID_ASSIGNED, age="<script>3003</script>"),
        ]
    )
    result = invite_pass(settings, client, box(settings), now=NOW)
    assert sorted(outbox(settings)) == ["1:invite:1"]
    held = records(client)
    for rid in ("2", "3"):
        assert held[rid][STATUS] == S.MANUAL_REVIEW
        assert held[rid][REASONS].startswith("study_id_invalid: age")
    assert "e@v.il" not in repr(result.to_dict())


def test_record_option_refuses_the_invited_and_resend_is_logged_and_exactly_once(
    settings: Settings, client: RedcapClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.import_records(
        [person("1", S.ELIGIBLE_ID_ASSIGNED), person("2", S.SAFETY_REVIEW, qids_12="3")]
    )
    invite_pass(settings, client, box(settings), records=["1"], now=NOW)
    with pytest.raises(UsageError, match=r"record 1 was already invited.*--resend"):
        invite_pass(settings, client, box(settings), records=["1"], now=NOW)
    with pytest.raises(UsageError, match="record 2 is safety_review"):
        invite_pass(settings, client, box(settings), records=["2"], resend=True, now=NOW)
    with pytest.raises(UsageError, match="record 99 not found"):
        invite_pass(settings, client, box(settings), records=["99"], now=NOW)
    with pytest.raises(UsageError, match="--resend needs --record"):
        invite_pass(settings, client, box(settings), resend=True, now=NOW)

    later = NOW + timedelta(days=2)
    with caplog.at_level(logging.WARNING, logger="recruit"):
        result = invite_pass(settings, client, box(settings), records=["1"], resend=True, now=later)
    key = "1:invite:1:resend-20240503T190000Z"
    assert result.counts == {"invited": 1} and result.actions[0].detail == key
    assert any("record 1 sent again on request" in r.getMessage() for r in caplog.records)
    assert sorted(outbox(settings)) == ["1:invite:1", key]
    row = records(client, "1")["1"]
    assert row[STATUS] == S.ELIGIBLE_INVITED and row[CLAIM] == sent(key, later)
    # The regular pass leaves it alone afterwards; nobody else was touched.
    assert invite_pass(settings, client, box(settings), now=later).actions == ()
    assert records(client, "2")["2"][STATUS] == S.SAFETY_REVIEW


def test_resend_to_someone_who_asked_not_to_be_contacted_is_refused_and_keeps_the_status(
    settings: Settings, client: RedcapClient
) -> None:
    client.import_records([person("1", S.ELIGIBLE_ID_ASSIGNED)])
    invite_pass(settings, client, box(settings), now=NOW)
    client.import_records([{"record_id": "1", "do_not_contact": "1"}])
    before = records(client, "1")["1"]
    with pytest.raises(UsageError, match="record 1 cannot be sent again: do_not_contact"):
        invite_pass(settings, client, box(settings), records=["1"], resend=True, now=NOW)
    # Even if the flag is set between the check and the send, the engine writes nothing:
    # the person really was invited, and "eligible_invited" must not become "review".
    spec = invite_spec(settings)
    lease = Lease(NOW, settings.email.claim_lease_minutes)
    again = decide(settings, spec, before, key="1:invite:1:resend-x", lease=lease, resend=True)
    assert again.verdict is Verdict.SKIP and "do_not_contact" in again.detail
    assert records(client, "1")["1"] == before
    assert sorted(outbox(settings)) == ["1:invite:1"]


def test_dry_run_plans_but_writes_and_sends_nothing(
    settings: Settings, client: RedcapClient
) -> None:
    client.import_records(
        [
            person("1", S.ELIGIBLE_ID_ASSIGNED),
            person("2", S.ELIGIBLE_ID_ASSIGNED, do_not_contact="1"),
            person("3", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("3:invite:1", STALE)}),
            person("5", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("5:invite:1", NOW, "f00d")}),
            person("4", S.INELIGIBLE),
        ]
    )
    before = records(client)
    result = invite_pass(settings, client, box(settings), dry_run=True, now=NOW)
    assert result.dry_run
    assert {a.record_id: a.action for a in result.actions} == {
        "1": "invited",
        "2": "do_not_contact",
        "3": "reconcile",
        "5": "skipped",  # another run's claim, younger than the lease
    }
    assert notify_pass(settings, client, box(settings), dry_run=True, now=NOW).counts == {
        "notified": 1
    }
    assert alert_pass(settings, client, box(settings), dry_run=True, now=NOW).actions == ()
    assert records(client) == before
    assert outbox(settings) == {}


def test_reconciliation_marks_what_went_out_and_sends_what_did_not(
    settings: Settings, client: RedcapClient
) -> None:
    earlier = STALE  # left by a run that stopped, longer ago than the lease
    client.import_records(
        [
            person("1", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("1:invite:1", earlier)}),
            person("2", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("2:invite:1", earlier)}),
            person("3", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: sent("3:invite:1", earlier)}),
        ]
    )
    transport = box(settings)
    # Record 1's message went out before the crash; record 2's never did.
    transport.send(build_invite(settings, records(client, "1")["1"], "1:invite:1"))
    first = (settings.email.outbox_dir / eml_name("1:invite:1")).stat().st_ino

    result = invite_pass(settings, client, transport, now=NOW)
    assert {a.record_id: a.action for a in result.actions} == {
        "1": "reconciled",
        "2": "invited",
        "3": "already_sent",
    }
    assert (settings.email.outbox_dir / eml_name("1:invite:1")).stat().st_ino == first
    assert "3:invite:1" not in outbox(settings)
    held = records(client)
    assert held["1"][CLAIM] == sent("1:invite:1", earlier)
    assert held["2"][CLAIM] == sent("2:invite:1", NOW)
    assert held["3"][STATUS] == S.ELIGIBLE_INVITED


def test_safety_alert_goes_to_staff_once_without_answers(
    make_settings: MakeSettings, client: RedcapClient
) -> None:
    settings = make_settings()
    client.import_records(
        [
            person(
                "5",
                S.SAFETY_REVIEW,
                qids_12="3",
                qids_score="23",
                age="41",
                pipeline_screened_timestamp="2024-05-01T17:30:00+00:00",
            ),
            person("6", S.SAFETY_REVIEW, qids_12="2", pipeline_safety_acknowledged="1"),
        ]
    )
    result = alert_pass(settings, client, box(settings), now=NOW)
    assert result.counts == {"alerted": 1}
    [(key, alert)] = outbox(settings).items()
    assert key == "5:safety_alert:1" and alert["To"] == STAFF
    text = body(alert) + str(alert["Subject"]) + alert.get_body(("html",)).get_content()
    assert "5" in str(alert["Subject"]) and "safety" in text.lower()
    assert "2024-05-01 10:30" in text  # when it fired, in the study's time zone
    for answer in ("person5@example.org", "23", "41"):
        assert answer not in text
    row = records(client, "5")["5"]
    assert row[STATUS] == S.SAFETY_REVIEW
    assert row["pipeline_safety_alert_timestamp"] == "2024-05-01T12:00:00-07:00"
    assert alert_pass(settings, client, box(settings), now=NOW).actions == ()
    # The participant never got anything.
    assert invite_pass(settings, client, box(settings), now=NOW).actions == ()
    assert notify_pass(settings, client, box(settings), now=NOW).actions == ()
    assert list(outbox(settings)) == ["5:safety_alert:1"]


def test_without_staff_addresses_alerts_are_logged_and_the_exit_code_says_so(
    make_settings: MakeSettings, client: RedcapClient
) -> None:
    settings = make_settings(safety={"when": "[qids_12] >= 2", "notify": []})
    client.import_records([person("5", S.SAFETY_REVIEW, qids_12="3")])
    result = alert_pass(settings, client, box(settings), now=NOW)
    assert result.exit_code == ExitCode.PARTIAL and result.counts == {"not_alerted": 1}
    assert records(client, "5")["5"]["pipeline_safety_alert_timestamp"] == ""
