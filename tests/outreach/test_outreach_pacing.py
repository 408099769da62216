"""Pacing is not slowness: near the run's time bound, no paced send is started.

With Graph paced at one message a minute and half a minute left in the run, the second
message would have to wait past the run's bound. It is not started: the pass ends with
exit 0 and a notice, the records left keep no claim, and the next run sends them. Nothing
here waits: the pass stops instead of sleeping through the pacing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from outreach_support import GRAPH_SECRET_ENV, MakeSettings, graph_table, person, records

from recruit_cli.deadline import Deadline
from recruit_cli.exit_codes import ExitCode
from recruit_cli.mail.transports import make_transport
from recruit_cli.outreach.invite import invite_pass
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult
from recruit_cli.sandbox.microsoft import MicrosoftSandbox, run_microsoft_sandbox
from recruit_cli.settings import Settings, Status

CLAIM, STATUS = "pipeline_email_claim", "pipeline_processing_status"


@pytest.fixture
def fake() -> Iterator[MicrosoftSandbox]:
    with run_microsoft_sandbox() as server:
        yield server


@pytest.fixture
def settings(make_settings: MakeSettings, fake: MicrosoftSandbox) -> Settings:
    email = {**graph_table(fake), "per_minute": 1}
    return make_settings(environ={GRAPH_SECRET_ENV: fake.client_secret}, email=email)


def invite(settings: Settings, client: RedcapClient, deadline: Deadline) -> PassResult:
    transport = make_transport(settings, deadline=deadline)
    try:
        return invite_pass(settings, client, transport)
    finally:
        transport.close()


def test_a_paced_send_the_run_cannot_wait_for_is_left_to_the_next_run(
    settings: Settings, client: RedcapClient, fake: MicrosoftSandbox
) -> None:
    client.import_records([person(str(i), Status.ELIGIBLE_ID_ASSIGNED) for i in (1, 2, 3)])
    half_a_minute = Deadline.after(30, "[ops] max_run_minutes = 0.5")
    result = invite(settings, client, half_a_minute)
    assert result.exit_code == ExitCode.OK
    assert result.counts == {"invited": 1, "not_sent": 2}
    notices = " ".join(result.notices)
    assert "not started: the run is near its time bound ([ops] max_run_minutes = 0.5)" in notices
    assert [m["key"] for m in fake.sent] == ["1:invite:1"]
    held = records(client)
    assert held["1"][STATUS] == Status.ELIGIBLE_INVITED
    assert (held["2"][CLAIM], held["3"][CLAIM]) == ("", "")  # no claim left behind
    # The next run (its own time, its own pacing window) picks up where this one stopped.
    again = invite(settings, client, Deadline.after(30, "[ops] max_run_minutes = 0.5"))
    assert again.counts == {"invited": 1, "not_sent": 1}
    assert [m["key"] for m in fake.sent] == ["1:invite:1", "2:invite:1"]
