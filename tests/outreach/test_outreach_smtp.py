"""invite / notify over a real SMTP server (aiosmtpd on loopback), which cannot confirm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from outreach_support import MakeSettings, person, records
from smtp_support import Handler

from recruit_cli.exit_codes import ExitCode
from recruit_cli.mail.transports import make_transport
from recruit_cli.outreach.claims import claimed, sent
from recruit_cli.outreach.invite import invite_pass
from recruit_cli.outreach.notify import notify_pass
from recruit_cli.outreach.safety import alert_pass
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.settings import Settings, Status

NOW = datetime(2024, 5, 1, 19, 0, tzinfo=UTC)
S = Status
STATUS, CLAIM = "pipeline_processing_status", "pipeline_email_claim"
REASONS = "pipeline_ineligibility_reasons"


def smtp_settings(make_settings: MakeSettings, port: int, **email: Any) -> Settings:
    return make_settings(
        email={
            "transport": "smtp",
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5},
            **email,
        }
    )


def run(settings: Settings, client: RedcapClient, now: datetime = NOW, **kw: Any) -> Any:
    transport = make_transport(settings)
    try:
        return invite_pass(settings, client, transport, now=now, **kw)
    finally:
        transport.close()


def test_invites_go_out_once_each_and_are_marked(
    smtp: tuple[Handler, int], make_settings: MakeSettings, client: RedcapClient
) -> None:
    handler, port = smtp
    settings = smtp_settings(make_settings, port)
    client.import_records(
        [person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 4)] + [person("9", S.INELIGIBLE)]
    )
    assert run(settings, client).counts == {"invited": 3}
    transport = make_transport(settings)
    notify_pass(settings, client, transport, now=NOW)
    transport.close()
    assert run(settings, client).actions == ()
    assert sorted(handler.keys()) == ["1:invite:1", "2:invite:1", "3:invite:1", "9:ineligible:1"]
    held = records(client)
    assert held["2"][STATUS] == S.ELIGIBLE_INVITED and held["2"][CLAIM] == sent("2:invite:1", NOW)
    assert held["9"][STATUS] == S.INELIGIBLE_NOTIFIED


def test_a_refused_recipient_goes_to_review_and_the_pass_goes_on(
    smtp: tuple[Handler, int], make_settings: MakeSettings, client: RedcapClient
) -> None:
    handler, port = smtp
    handler.refuse.add("person2@example.org")
    settings = smtp_settings(make_settings, port)
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 4)])
    result = run(settings, client)
    assert result.exit_code == ExitCode.OK
    assert result.counts == {"invited": 2, "review": 1}
    assert sorted(handler.keys()) == ["1:invite:1", "3:invite:1"]
    row = records(client, "2")["2"]
    assert row[STATUS] == S.MANUAL_REVIEW and row[REASONS].startswith("email_invalid:")
    assert row[CLAIM] == ""  # the claim was undone: nothing is in doubt


def test_a_message_the_server_refuses_stops_the_pass_with_exit_7_and_nothing_in_doubt(
    smtp: tuple[Handler, int], make_settings: MakeSettings, client: RedcapClient
) -> None:
    # A permanent refusal that is not about the recipient (content policy, say): the mail
    # service said no (7), which is not a bug in recruit (1).
    handler, port = smtp
    handler.data_reply = "554 5.7.1 message refused by policy"
    settings = smtp_settings(make_settings, port)
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 4)])
    result = run(settings, client)
    assert result.exit_code == ExitCode.REFUSED == 7
    assert any("refused" in n and "554" in n for n in result.notices)
    assert handler.received == []
    held = records(client)
    assert all(row[STATUS] == S.ELIGIBLE_ID_ASSIGNED and row[CLAIM] == "" for row in held.values())


def test_an_open_claim_cannot_be_checked_so_it_goes_to_review_unless_configured(
    smtp: tuple[Handler, int], make_settings: MakeSettings, client: RedcapClient
) -> None:
    handler, port = smtp
    settings = smtp_settings(make_settings, port)
    earlier = NOW - timedelta(hours=1)
    client.import_records(
        [
            person("1", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("1:invite:1", earlier)}),
            person("2", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("2:invite:1", earlier)}),
        ]
    )
    result = run(settings, client, records=["1"])
    assert result.counts == {"review": 1} and result.exit_code == ExitCode.OK
    assert handler.received == []
    row = records(client, "1")["1"]
    assert row[STATUS] == S.MANUAL_REVIEW
    assert row[REASONS].startswith("delivery_uncertain: the smtp transport cannot tell")
    assert row[CLAIM] == claimed("1:invite:1", earlier)  # kept as evidence

    resend = smtp_settings(make_settings, port, resend_uncertain=True)
    assert run(resend, client).counts == {"invited": 1}
    assert handler.keys() == ["2:invite:1"]


def test_a_connection_lost_during_data_is_never_sent_twice(
    smtp: tuple[Handler, int], make_settings: MakeSettings, client: RedcapClient
) -> None:
    handler, port = smtp
    handler.drop_in_data = True
    settings = smtp_settings(make_settings, port)
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 4)])
    result = run(settings, client)
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert handler.keys() == ["1:invite:1"]
    held = records(client)
    assert held["1"][CLAIM].startswith("1:invite:1|claimed|")
    assert held["2"][CLAIM] == held["3"][CLAIM] == ""

    handler.drop_in_data = False
    # Once the stopped run's claim is older than the lease, the next pass takes it over.
    later = run(settings, client, now=NOW + timedelta(hours=2))
    assert {a.record_id: a.action for a in later.actions} == {
        "1": "review",
        "2": "invited",
        "3": "invited",
    }
    assert handler.keys() == ["1:invite:1", "2:invite:1", "3:invite:1"]


def test_an_uncertain_safety_alert_is_sent_again_rather_than_lost(
    smtp: tuple[Handler, int], make_settings: MakeSettings, client: RedcapClient
) -> None:
    handler, port = smtp
    settings = smtp_settings(make_settings, port)
    open_claim = claimed("5:safety_alert:1", NOW - timedelta(hours=1))
    client.import_records([person("5", S.SAFETY_REVIEW, qids_12="3", **{CLAIM: open_claim})])
    transport = make_transport(settings)
    try:
        result = alert_pass(settings, client, transport, now=NOW)
    finally:
        transport.close()
    assert result.counts == {"alerted": 1}
    assert handler.keys() == ["5:safety_alert:1"]
    row = records(client, "5")["5"]
    assert row[STATUS] == S.SAFETY_REVIEW and row[CLAIM] == sent("5:safety_alert:1", NOW)
