"""invite through Microsoft Graph: the real msal library against the fake Graph server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from outreach_support import (
    GRAPH_SECRET_ENV,
    LAB_MAILBOX,
    MakeSettings,
    graph_table,
    person,
    records,
)

from recruit_cli.exit_codes import ExitCode
from recruit_cli.mail.transports import make_transport
from recruit_cli.outreach.claims import claimed, sent
from recruit_cli.outreach.invite import invite_pass
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox.microsoft import MicrosoftSandbox, run_microsoft_sandbox
from recruit_cli.settings import Settings, Status

NOW = datetime.now(UTC).replace(microsecond=0)
S = Status
STATUS, CLAIM = "pipeline_processing_status", "pipeline_email_claim"
REASONS = "pipeline_ineligibility_reasons"


@pytest.fixture
def fake() -> Iterator[MicrosoftSandbox]:
    with run_microsoft_sandbox() as server:
        yield server


@pytest.fixture
def settings(make_settings: MakeSettings, fake: MicrosoftSandbox) -> Settings:
    # A claim a minute old is stale here: these tests reconcile what a stopped run left.
    email = {**graph_table(fake), "claim_lease_minutes": 1}
    return make_settings(environ={GRAPH_SECRET_ENV: fake.client_secret}, email=email)


def run(settings: Settings, client: RedcapClient, now: datetime = NOW, **kw: Any) -> Any:
    transport = make_transport(settings)
    try:
        return invite_pass(settings, client, transport, now=now, **kw)
    finally:
        transport.close()


def sent_keys(fake: MicrosoftSandbox) -> Counter[str]:
    return Counter(str(m["key"]) for m in fake.sent)


def test_invites_are_sent_as_the_lab_mailbox_with_the_key_property(
    settings: Settings, client: RedcapClient, fake: MicrosoftSandbox
) -> None:
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 4)])
    assert run(settings, client).counts == {"invited": 3}
    assert run(settings, client).actions == ()
    assert sent_keys(fake) == Counter({"1:invite:1": 1, "2:invite:1": 1, "3:invite:1": 1})
    message = next(m for m in fake.sent if m["key"] == "2:invite:1")
    assert message["mailbox"] == LAB_MAILBOX and message["recipients"] == ["person2@example.org"]
    assert message["headers"]["X-Recruit-Key"] == "2:invite:1"
    assert records(client, "2")["2"][STATUS] == S.ELIGIBLE_INVITED


def test_a_202_then_dropped_connection_is_reconciled_from_sent_items_not_resent(
    settings: Settings, client: RedcapClient, fake: MicrosoftSandbox
) -> None:
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 4)])
    fake.set_faults("drop#2")
    first = run(settings, client)
    assert first.exit_code == ExitCode.UNAVAILABLE
    held = records(client)
    assert held["1"][STATUS] == S.ELIGIBLE_INVITED
    assert held["2"][CLAIM].startswith(claimed("2:invite:1", NOW) + "|")  # in doubt: kept
    assert held["3"][CLAIM] == ""  # never handed over: undone

    fake.set_faults(None)
    second = run(settings, client, now=NOW + timedelta(minutes=1))
    assert {a.record_id: a.action for a in second.actions} == {"2": "reconciled", "3": "invited"}
    assert sent_keys(fake) == Counter({"1:invite:1": 1, "2:invite:1": 1, "3:invite:1": 1})
    assert records(client, "2")["2"][CLAIM] == sent("2:invite:1", NOW)


def test_a_claim_not_in_sent_items_waits_out_the_grace_period_then_is_sent(
    settings: Settings, client: RedcapClient, fake: MicrosoftSandbox
) -> None:
    client.import_records(
        [person("1", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("1:invite:1", NOW)})]
    )
    early = run(settings, client, now=NOW + timedelta(minutes=2))
    assert early.counts == {"waiting": 1} and early.exit_code == ExitCode.OK
    assert fake.sent == []
    late = run(settings, client, now=NOW + timedelta(minutes=11))
    assert late.counts == {"invited": 1}
    assert sent_keys(fake) == Counter({"1:invite:1": 1})


def test_an_invalid_recipient_goes_to_review(
    settings: Settings, client: RedcapClient, fake: MicrosoftSandbox
) -> None:
    client.import_records(
        [
            person("1", S.ELIGIBLE_ID_ASSIGNED, participant_email="who@invalid.example"),
            person("2", S.ELIGIBLE_ID_ASSIGNED),
        ]
    )
    result = run(settings, client)
    assert result.counts == {"invited": 1, "review": 1}
    assert result.exit_code == ExitCode.OK
    row = records(client, "1")["1"]
    assert row[STATUS] == S.MANUAL_REVIEW and row[REASONS].startswith("email_invalid:")


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda fake: fake.denied_mailboxes.add(LAB_MAILBOX), ExitCode.CONFIG),
        (lambda fake: fake.disabled_mailboxes.add(LAB_MAILBOX), ExitCode.CONFIG),
    ],
    ids=["403-access-denied", "404-mailbox-not-enabled"],
)
def test_a_mailbox_that_cannot_send_stops_the_pass_with_nothing_in_doubt(
    settings: Settings, client: RedcapClient, fake: MicrosoftSandbox, setup: Any, code: ExitCode
) -> None:
    client.import_records([person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 4)])
    setup(fake)
    result = run(settings, client)
    assert result.exit_code == code
    assert any("Microsoft Graph" in n for n in result.notices)
    assert fake.sent == []
    held = records(client)
    assert all(held[r][CLAIM] == "" and held[r][STATUS] == S.ELIGIBLE_ID_ASSIGNED for r in held)


def test_sign_in_needed_stops_the_pass_with_exit_6(
    make_settings: MakeSettings, client: RedcapClient, fake: MicrosoftSandbox
) -> None:
    # Delegated mode with nobody signed in: no token to send with.
    settings = make_settings(email=graph_table(fake, mode="delegated", mailbox=""))
    client.import_records([person("1", S.ELIGIBLE_ID_ASSIGNED)])
    result = run(settings, client)
    assert result.exit_code == ExitCode.AUTH
    assert any("recruit auth login" in n for n in result.notices)
    assert fake.sent == [] and records(client, "1")["1"][CLAIM] == ""


def test_a_claim_graph_cannot_check_waits_then_goes_to_review_never_resent(
    settings: Settings, client: RedcapClient, fake: MicrosoftSandbox
) -> None:
    # No read access to Sent Items (here: the RBAC scope lost the mailbox). While the claim
    # is young the record waits; past the grace period it goes to review as the docs say,
    # instead of waiting unseen for ever or being sent a second time.
    client.import_records(
        [person("1", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("1:invite:1", NOW)})]
    )
    fake.denied_mailboxes.add(LAB_MAILBOX)
    early = run(settings, client, now=NOW + timedelta(minutes=2))
    assert early.counts == {"waiting": 1}
    late = run(settings, client, now=NOW + timedelta(minutes=11))
    assert late.counts == {"review": 1}
    row = records(client, "1")["1"]
    assert row[STATUS] == S.MANUAL_REVIEW and row[REASONS].startswith("delivery_uncertain:")
    assert row[CLAIM] == claimed("1:invite:1", NOW)  # kept as evidence
    assert fake.sent == []


def test_graph_unavailable_while_reconciling_stops_the_pass_and_keeps_the_claim(
    settings: Settings, client: RedcapClient, fake: MicrosoftSandbox
) -> None:
    client.import_records(
        [
            person("1", S.ELIGIBLE_ID_ASSIGNED, **{CLAIM: claimed("1:invite:1", NOW)}),
            person("2", S.ELIGIBLE_ID_ASSIGNED),
        ]
    )
    fake.set_faults("sent_items:503@1,retry_after=0")
    result = run(settings, client, now=NOW + timedelta(minutes=30))
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert fake.sent == []
    assert records(client, "1")["1"][CLAIM] == claimed("1:invite:1", NOW)
    assert records(client, "1")["1"][STATUS] == S.ELIGIBLE_ID_ASSIGNED
