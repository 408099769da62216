"""The Microsoft Graph ``sendMail`` transport, and ``was_sent`` from Sent Items.

Every request goes through ``recruit_cli.msgraph.client.GraphClient`` (token, timeouts,
retries). Exactly-once rules this module keeps (the outreach pass relies on them):

- a 202 is final: nothing is ever resent after it;
- 429 and 503 mean Graph refused the request before doing anything, so the client retries
  them, honouring ``Retry-After``; a connection that could not be opened is retried too, and
  a 401 once with a fresh token;
- any outcome where the request body reached Graph but no clear answer came back (the
  connection dropped, a read timeout, a 500/502/504 from a gateway that may have passed the
  message on) raises ``DeliveryUncertain`` and is NOT retried: the next pass asks
  ``was_sent(key)``, which looks for the key's single-value extended property in Sent Items.

Pacing is not slowness: when the run's remaining time (``[ops] max_run_minutes``) can't
cover the next paced send, no send is started (``OutOfTime``, exit 0): the records left
wait for the next run, instead of the run failing at its bound.
"""

from __future__ import annotations

import base64
import time
from collections import deque
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any, NoReturn

from recruit_cli.address import InvalidAddress, normalise
from recruit_cli.deadline import Deadline
from recruit_cli.errors import (
    AuthError,
    DeliveryUncertain,
    MailError,
    MailSetupError,
    MailUnavailable,
    RecipientRejected,
    UsageError,
)
from recruit_cli.logs import get_logger
from recruit_cli.mail.message import OutgoingMessage, SendReceipt
from recruit_cli.msgraph.client import GraphClient, graph_error

if TYPE_CHECKING:
    import requests

    from recruit_cli.settings import Settings

log = get_logger("mail.graph")

# A fixed property set GUID for recruit's properties; the name makes the property ours.
RECRUIT_KEY_PROPERTY = "String {5c5a79df-0842-4018-929f-ccf0f38c4d50} Name RecruitKey"
UNCERTAIN_STATUS = frozenset({500, 502, 504})
RECONCILED_NEXT_PASS = "the next pass checks Sent Items"


def to_graph_message(message: OutgoingMessage) -> dict[str, Any]:
    """The ``sendMail`` request body for one message."""
    body = (
        {"contentType": "HTML", "content": message.html}
        if message.html
        else {"contentType": "Text", "content": message.text}
    )
    graph: dict[str, Any] = {
        "subject": message.subject,
        "body": body,
        "toRecipients": [{"emailAddress": {"address": a}} for a in message.to],
        "internetMessageId": message.message_id,
        # Graph only takes custom headers named X-..., at most five of them.
        "internetMessageHeaders": [
            {"name": "X-Recruit-Key", "value": message.key},
            {"name": "X-Recruit-Template", "value": message.kind},
        ],
        # Searchable in Sent Items (headers are not): this is what was_sent() looks for.
        "singleValueExtendedProperties": [{"id": RECRUIT_KEY_PROPERTY, "value": message.key}],
    }
    if message.attachments:
        graph["attachments"] = [
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": a.filename,
                "contentType": a.content_type,
                "contentBytes": base64.b64encode(a.data).decode("ascii"),
            }
            for a in message.attachments
        ]
    return {"message": graph, "saveToSentItems": True}


def test_message(settings: Settings, to: str) -> OutgoingMessage:
    """A short test message for ``recruit auth test --to ADDRESS`` (no participant data)."""
    from datetime import UTC, datetime
    from email.utils import make_msgid

    try:
        to = normalise(to)
    except InvalidAddress as exc:
        raise UsageError(f"--to: not an e-mail address ({exc.reason})") from exc
    now = datetime.now(UTC).isoformat(timespec="seconds")
    study = settings.study.name
    return OutgoingMessage(
        key=f"test:auth:{now}",
        kind="test",
        to=(to,),
        sender=settings.email.sender or settings.email.graph.mailbox,
        subject=f"recruit: test message ({study})",
        text=f"This is a test message from recruit for {study}, sent at {now}.",
        html=f"<p>This is a test message from recruit for {escape(study)}, sent at {now}.</p>",
        message_id=make_msgid(domain="recruit.invalid"),
    )


class Pacer:
    """At most ``per_minute`` sends in any rolling 60 s (0 = no pacing), within the run.

    ``deadline``: the run's bound. A send that the remaining time can't cover (its pacing
    wait included, ``Deadline.allows``) is not started: ``OutOfTime``.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        deadline: Deadline | None = None,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self.deadline = deadline if deadline is not None else Deadline.never()
        self._sent: deque[float] = deque()

    def wait(self, what: str = "the next message") -> None:
        """Block until one more send fits in the window, then count it.

        Raises:
            OutOfTime: the run's time can't cover the wait and the send (nothing counted).
        """
        if self.per_minute <= 0:
            self.deadline.require_time(what)
            return
        now = self._clock()
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()
        delay = 60.0 - (now - self._sent[0]) if len(self._sent) >= self.per_minute else 0.0
        self.deadline.require_time(what, wait=delay)
        if delay > 0:
            log.info("pacing: waiting %.1f s (limit %d per minute)", delay, self.per_minute)
            self._sleep(delay)
            now = self._clock()
            self._sent.popleft()
        self._sent.append(now)


class GraphTransport:
    """Sends as the configured mailbox through Microsoft Graph.

    Args:
        graph: the Graph client (sign-in, timeouts, retries and their waits).
        per_minute: pacing (``settings.email.per_minute``; 0 = off).
        clock, sleep: injectable for tests (pacing).
    """

    name = "graph"

    def __init__(
        self,
        graph: GraphClient,
        *,
        per_minute: int = 30,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.graph = graph
        self.mode = graph.auth.graph.mode
        self.mailbox = graph.auth.graph.mailbox
        self.pacer = Pacer(per_minute, clock=clock, sleep=sleep, deadline=graph.deadline)
        self.sends = 0  # requests answered 202

    @classmethod
    def from_settings(
        cls, settings: Settings, *, deadline: Deadline | None = None, **kwargs: Any
    ) -> GraphTransport:
        """The transport ``[email]`` and ``[email.graph]`` describe, within the run's
        ``deadline``."""
        kwargs.setdefault("per_minute", settings.email.per_minute)
        return cls(GraphClient.from_settings(settings, deadline=deadline), **kwargs)

    def _user_path(self) -> str:
        return "/me" if self.mode == "delegated" else f"/users/{self.mailbox}"

    # ---- Transport ----------------------------------------------------------------------
    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send one message. 202 is success; see the module docstring for everything else."""
        self.pacer.wait(f"the message for key {message.key}")
        path = f"{self._user_path()}/sendMail"
        try:
            response = self.graph.request("POST", path, json=to_graph_message(message))
        except DeliveryUncertain as exc:
            raise DeliveryUncertain(f"{exc}; {RECONCILED_NEXT_PASS}") from exc
        status = response.status_code
        if status == 202:
            self.sends += 1
            return SendReceipt(key=message.key, transport=self.name, detail="accepted (202)")
        if status in UNCERTAIN_STATUS:
            raise DeliveryUncertain(
                f"delivery uncertain: Microsoft Graph answered HTTP {status};"
                f" {RECONCILED_NEXT_PASS}"
            )
        self._raise_refusal(response, message.record_id)

    def _raise_refusal(self, response: requests.Response, record_id: str | None) -> NoReturn:
        status = response.status_code
        code, text = graph_error(response)
        what = f"HTTP {status}" + (f" {code}" if code else "")
        mailbox = "the signed-in user's mailbox" if self.mode == "delegated" else "the mailbox"
        if status == 400 and (code == "ErrorInvalidRecipients" or "recipient" in text.lower()):
            record = f" for record {record_id}" if record_id else ""
            raise RecipientRejected(f"Microsoft Graph rejected the recipient{record} ({what})")
        if status == 401:
            raise AuthError(
                f"Microsoft Graph refused the access token ({what}): run `recruit auth login`"
            )
        if status == 403:
            hint = {
                "delegated": "the app needs the Mail.Send delegated permission (consented)",
                "shared": "the signed-in user needs Send As (or Send on Behalf) on the mailbox"
                " and the app the Mail.Send.Shared delegated permission",
                "app": "the app needs the Mail.Send application permission and an Exchange"
                " RBAC for Applications assignment whose scope includes the mailbox",
            }[self.mode]
            raise MailSetupError(
                f"Microsoft Graph refused to send as {mailbox} ({what}): {hint}; see"
                " docs/microsoft.md"
            )
        if status == 404:
            raise MailSetupError(
                f"Microsoft Graph can't send from {mailbox} ({what}): check [email.graph]"
                " mailbox (it must be an Exchange Online mailbox)"
            )
        raise MailError(f"Microsoft Graph refused the message ({what})")

    def was_sent(self, key: str) -> bool | None:
        """Whether a message carrying ``key`` is in Sent Items; None if Graph can't tell us.

        False can also mean "not there yet" (Sent Items lags a little): callers apply a grace
        period. In shared mode Exchange files a send-as copy in the signed-in user's Sent
        Items by default (and in the shared mailbox's only with MessageCopyForSentAsEnabled),
        so both are checked, and False needs *both* to say "not there": a "no" from one
        folder while the other could not be read (say, no read access to the shared mailbox)
        is "can't tell", never "not sent" (that would send a second e-mail).

        Raises:
            AuthError: sign-in is needed (the pass stops with exit 6, as a send would).
            MailUnavailable: Graph stayed unreachable or throttled, or dropped the query.
        """
        paths = {"delegated": ["/me"], "app": [self._user_path()]}.get(
            self.mode, ["/me", self._user_path()]
        )
        escaped = key.replace("'", "''")
        params = {
            "$filter": (
                f"singleValueExtendedProperties/Any(ep: ep/id eq '{RECRUIT_KEY_PROPERTY}'"
                f" and ep/value eq '{escaped}')"
            ),
            "$select": "id",
            "$top": "1",
        }
        unknown = False
        for path in paths:
            try:
                response = self.graph.request(
                    "GET", f"{path}/mailFolders/SentItems/messages", params=params
                )
            except DeliveryUncertain as exc:  # a read that got no answer changed nothing
                raise MailUnavailable(
                    "Microsoft Graph: the Sent Items query got no answer"
                ) from exc
            if response.status_code == 401:
                raise AuthError(
                    "Microsoft Graph refused the access token (HTTP 401): run `recruit auth login`"
                )
            if response.status_code != 200:
                # 403/404: no read access to that folder (a set-up problem): can't tell.
                code, _ = graph_error(response)
                log.warning("was_sent: Sent Items query: HTTP %s %s", response.status_code, code)
                unknown = True
                continue
            try:
                found = bool(response.json().get("value"))
            except (ValueError, AttributeError):
                unknown = True
                continue
            if found:
                return True
        return None if unknown else False

    def close(self) -> None:
        self.graph.close()
