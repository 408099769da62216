"""GraphTransport against the fake Graph server over https, with the real msal for tokens."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable

import pytest

from recruit_cli.errors import (
    AuthError,
    DeliveryUncertain,
    MailSetupError,
    MailUnavailable,
    RecipientRejected,
    ServiceUnavailable,
)
from recruit_cli.exit_codes import ExitCode
from recruit_cli.mail.message import Attachment, OutgoingMessage
from recruit_cli.mail.transports.graph import RECRUIT_KEY_PROPERTY, GraphTransport, Pacer
from recruit_cli.msgraph.auth import MicrosoftAuth
from recruit_cli.msgraph.client import BACKOFF, GraphClient
from recruit_cli.retry import Backoff
from recruit_cli.sandbox.microsoft import MicrosoftSandbox

LAB = "lab@example.org"
SignedIn = Callable[..., MicrosoftAuth]


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def message(record: str = "17", to: str = "person@example.com") -> OutgoingMessage:
    return OutgoingMessage(
        key=f"{record}:invite:1",
        kind="invite",
        to=(to,),
        sender=LAB,
        subject="Your study appointment",
        text="Your study ID is 3001.",
        html="<p>Your study ID is <b>3001</b>.</p>",
        message_id=f"<{record}.invite@recruit.test>",
        record_id=record,
        attachments=(Attachment("info.txt", "text/plain", b"hello"),),
    )


def transport(
    auth: MicrosoftAuth,
    clock: FakeClock | None = None,
    *,
    per_minute: int = 0,
    backoff: Backoff = BACKOFF,
) -> GraphTransport:
    """The transport on a client whose retry waits, like its pacing, pass on a fake clock."""
    clock = clock or FakeClock()
    graph = GraphClient(auth, backoff=backoff, sleep=clock.sleep)
    return GraphTransport(graph, per_minute=per_minute, clock=clock, sleep=clock.sleep)


def attempts(n: int) -> Backoff:
    return dataclasses.replace(BACKOFF, attempts=n)


@pytest.mark.parametrize(
    ("mode", "mailbox"), [("delegated", "lab.staff@example.org"), ("shared", LAB), ("app", LAB)]
)
def test_send_in_each_mode(
    fake: MicrosoftSandbox, signed_in: SignedIn, mode: str, mailbox: str
) -> None:
    graph = transport(signed_in(mode))
    receipt = graph.send(message())

    assert receipt.key == "17:invite:1" and receipt.transport == "graph"
    [sent] = fake.sent
    assert sent["mailbox"] == mailbox  # /me/sendMail vs /users/{mailbox}/sendMail
    assert sent["recipients"] == ["person@example.com"]
    assert sent["headers"] == {"X-Recruit-Key": "17:invite:1", "X-Recruit-Template": "invite"}
    assert sent["key"] == "17:invite:1"
    assert sent["properties"] == {RECRUIT_KEY_PROPERTY: "17:invite:1"}
    assert sent["content_type"] == "HTML" and "<b>3001</b>" in sent["body"]
    assert sent["message_id"] == "<17.invite@recruit.test>"
    assert sent["attachments"] == [
        {"name": "info.txt", "content_type": "text/plain", "data": b"hello"}
    ]


@pytest.mark.parametrize("mode", ["delegated", "shared", "app"])
def test_was_sent_finds_the_key_in_sent_items(
    fake: MicrosoftSandbox, signed_in: SignedIn, mode: str
) -> None:
    graph = transport(signed_in(mode))
    graph.send(message("17"))
    graph.send(message("O'Brien-1"))  # a quote in the key is escaped in the OData filter

    assert graph.was_sent("17:invite:1") is True
    assert graph.was_sent("O'Brien-1:invite:1") is True
    assert graph.was_sent("18:invite:1") is False


def test_was_sent_in_shared_mode_also_checks_the_shared_mailbox(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    graph = transport(signed_in("shared"))
    fake.copy_sent_as = True
    graph.send(message("17"))
    fake.sent_items.pop("lab.staff@example.org")  # only the shared mailbox's copy is left
    assert graph.was_sent("17:invite:1") is True


def test_was_sent_stops_rather_than_guess_when_graph_is_unavailable(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    # An outage is not "can't tell": the pass stops (exit 4) and asks again next time,
    # instead of sending claimed records to review.
    graph = transport(signed_in(), backoff=attempts(2))
    graph.send(message())
    fake.set_faults("sent_items:503@1")
    with pytest.raises(MailUnavailable):
        graph.was_sent("17:invite:1")
    fake.set_faults(None)
    fake.revoke_access_tokens()
    fake.refresh_token_invalid = True  # a new token can't be had either
    with pytest.raises(AuthError):
        graph.was_sent("17:invite:1")


def test_was_sent_is_none_without_read_access(fake: MicrosoftSandbox, signed_in: SignedIn) -> None:
    graph = transport(signed_in("app"))
    graph.send(message())
    fake.denied_mailboxes.add(LAB)  # the RBAC scope no longer covers the mailbox: 403
    assert graph.was_sent("17:invite:1") is None


def test_shared_mode_is_unsure_when_one_sent_items_folder_cannot_be_read(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    # The copy is only in the shared mailbox, which can't be read: the user's own Sent
    # Items saying "not here" must not become "not sent" (that would send it twice).
    graph = transport(signed_in("shared"))
    fake.copy_sent_as = True
    graph.send(message())
    fake.sent_items.pop("lab.staff@example.org")
    fake.denied_mailboxes.add(LAB)
    assert graph.was_sent("17:invite:1") is None
    assert graph.was_sent("18:invite:1") is None


def test_429_retry_after_is_honoured_then_sent_once(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    fake.set_faults("429#1,429#2,retry_after=7")
    clock = FakeClock()
    graph = transport(signed_in(), clock)

    graph.send(message())

    assert clock.sleeps == [7.0, 7.0]
    assert len(fake.sent) == 1


def test_retry_after_is_capped(fake: MicrosoftSandbox, signed_in: SignedIn) -> None:
    fake.set_faults("429#1,retry_after=3600")
    clock = FakeClock()
    capped = dataclasses.replace(BACKOFF, max_wait=30.0)
    transport(signed_in(), clock, backoff=capped).send(message())
    assert clock.sleeps == [30.0]


def test_503_until_the_attempts_run_out(fake: MicrosoftSandbox, signed_in: SignedIn) -> None:
    fake.set_faults("503@1,retry_after=0")
    graph = transport(signed_in(), backoff=attempts(3))

    with pytest.raises(MailUnavailable) as err:
        graph.send(message())

    assert isinstance(err.value, ServiceUnavailable)
    assert err.value.exit_code == ExitCode.UNAVAILABLE
    assert "HTTP 503 after 3 attempts" in str(err.value)
    assert fake.calls["request:send"] == 3
    assert fake.sent == []


def test_dropped_connection_after_the_request_is_uncertain_and_not_retried(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    fake.set_faults("drop#1")
    clock = FakeClock()
    graph = transport(signed_in(), clock)

    with pytest.raises(DeliveryUncertain) as err:
        graph.send(message())

    assert isinstance(err.value, ServiceUnavailable)
    assert str(err.value).startswith("delivery uncertain")
    assert len(fake.sent) == 1 and fake.calls["request:send"] == 1  # sent, and never resent
    assert clock.sleeps == []
    assert graph.was_sent("17:invite:1") is True  # what the next pass reconciles with
    graph.send(message("18"))  # the transport carries on afterwards
    assert len(fake.sent) == 2


def test_connection_refused_is_retried_then_unavailable(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    auth = signed_in()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    auth.graph = dataclasses.replace(auth.graph, endpoint=f"https://127.0.0.1:{port}/v1.0")
    clock = FakeClock()
    graph = transport(auth, clock, backoff=attempts(3))

    with pytest.raises(MailUnavailable, match="could not connect after 3 attempts"):
        graph.send(message())
    assert len(clock.sleeps) == 2


def test_invalid_recipient_is_rejected_without_the_address(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    graph = transport(signed_in())
    with pytest.raises(RecipientRejected) as err:
        graph.send(message(to="someone@invalid.example"))
    assert "record 17" in str(err.value) and "ErrorInvalidRecipients" in str(err.value)
    assert "invalid.example" not in str(err.value)
    assert fake.sent == []


@pytest.mark.parametrize(
    ("mode", "grant"), [("delegated", "refresh_token"), ("app", "client_credentials")]
)
def test_a_refused_token_is_renewed_once_and_the_message_sent_once(
    fake: MicrosoftSandbox, signed_in: SignedIn, mode: str, grant: str
) -> None:
    graph = transport(signed_in(mode))
    graph.send(message("17"))
    grants = fake.calls[f"grant:{grant}"]
    fake.revoke_access_tokens()  # Graph no longer accepts the cached token (revoked early)

    graph.send(message("18"))

    assert [m["key"] for m in fake.sent] == ["17:invite:1", "18:invite:1"]
    assert fake.calls[f"grant:{grant}"] == grants + 1  # one new token, not one per attempt
    assert fake.calls["request:send"] == 2  # the refused request never reached sendMail


def test_401_needs_sign_in(fake: MicrosoftSandbox, signed_in: SignedIn) -> None:
    graph = transport(signed_in())
    fake.revoke_access_tokens()  # Graph no longer accepts the cached token
    fake.refresh_token_invalid = True  # and the refresh token is expired too
    with pytest.raises(AuthError, match="recruit auth login") as err:
        graph.send(message())
    assert err.value.exit_code == ExitCode.AUTH
    assert fake.sent == []


def test_403_send_as_denied_is_a_setup_error(fake: MicrosoftSandbox, signed_in: SignedIn) -> None:
    fake.denied_mailboxes.add(LAB)
    with pytest.raises(MailSetupError) as err:
        transport(signed_in("shared")).send(message())
    assert "ErrorSendAsDenied" in str(err.value) and "Send As" in str(err.value)
    assert err.value.exit_code == ExitCode.CONFIG


def test_403_outside_the_rbac_scope_points_at_rbac(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    fake.denied_mailboxes.add(LAB)
    with pytest.raises(MailSetupError, match="RBAC for Applications"):
        transport(signed_in("app")).send(message())


@pytest.mark.parametrize("knob", ["disabled_mailboxes", "missing_mailboxes"])
def test_404_names_the_mailbox_setting(
    fake: MicrosoftSandbox, signed_in: SignedIn, knob: str
) -> None:
    getattr(fake, knob).add(LAB)
    with pytest.raises(MailSetupError) as err:
        transport(signed_in("app")).send(message())
    assert "[email.graph] mailbox" in str(err.value)
    assert "MailboxNotEnabledForRESTAPI" in str(err.value) or "ResourceNotFound" in str(err.value)
    assert err.value.exit_code == ExitCode.CONFIG


def test_pacing_keeps_to_the_limit_per_rolling_minute(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    clock = FakeClock()
    graph = transport(signed_in(), clock, per_minute=3)
    times = []
    for n in range(7):
        graph.send(message(str(n)))
        times.append(clock.now)
        clock.now += 1.0  # each send "takes" a second

    assert len(fake.sent) == 7
    for t in times:
        assert sum(1 for u in times if t <= u < t + 60) <= 3
    assert times[-1] - times[0] >= 120  # 7 sends at 3/min need two full waits


def test_pacing_off_never_sleeps() -> None:
    clock = FakeClock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        pacer.wait()
    assert clock.sleeps == []


def test_fraction_faults_are_seeded_and_retried_through(
    fake: MicrosoftSandbox, signed_in: SignedIn
) -> None:
    graph = transport(signed_in("app"), backoff=attempts(20))
    throttled = []
    for round_ in range(2):
        fake.set_faults("429@0.5,503@0.2,seed=3,retry_after=0")
        before = fake.calls["request:send"]
        for n in range(10):
            graph.send(message(f"{round_}-{n}"))
        throttled.append(fake.calls["request:send"] - before - 10)

    assert len(fake.sent) == 20  # every message once, despite the refusals
    assert throttled[0] > 0
    assert throttled[0] == throttled[1]  # same seed, same faults


def test_bad_fault_spec_is_refused(fake: MicrosoftSandbox) -> None:
    with pytest.raises(ValueError, match="bad fault item"):
        fake.set_faults("418@0.5")


def test_concurrent_senders(fake: MicrosoftSandbox, signed_in: SignedIn) -> None:
    auth = signed_in("app")

    def work(worker: int) -> None:
        own = transport(MicrosoftAuth(auth.graph, auth.cache_path))  # one per thread
        for n in range(25):
            own.send(message(f"{worker}-{n}"))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(m["key"] for m in fake.sent) == sorted(
        f"{w}-{n}:invite:1" for w in range(4) for n in range(25)
    )
