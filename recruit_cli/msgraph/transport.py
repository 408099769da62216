"""The Microsoft Graph ``sendMail`` transport, and ``was_sent`` from Sent Items.

Exactly-once rules this module keeps (the outreach pass relies on them):

- a 202 is final: nothing is ever resent after it;
- 429 and 503 mean Graph refused the request before doing anything, so they are retried,
  honouring ``Retry-After``; a connection that could not be opened is retried too;
- any outcome where the request body reached Graph but no clear answer came back (the
  connection dropped, a read timeout, a 500/502/504 from a gateway that may have passed the
  message on) raises ``DeliveryUncertain`` and is NOT retried: the next pass asks
  ``was_sent(key)``, which looks for the key's single-value extended property in Sent Items.
"""

from __future__ import annotations

import base64
import time
from collections import deque
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any, NoReturn

from recruit_cli.address import InvalidAddress, normalise
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

if TYPE_CHECKING:
    import requests

    from recruit_cli.msgraph.auth import MicrosoftAuth
    from recruit_cli.settings import Settings

log = get_logger("msgraph.transport")

# A fixed property set GUID for recruit's properties; the name makes the property ours.
RECRUIT_KEY_PROPERTY = "String {5c5a79df-0842-4018-929f-ccf0f38c4d50} Name RecruitKey"
RETRYABLE_STATUS = frozenset({429, 503})
UNCERTAIN_STATUS = frozenset({500, 502, 504})


class _Retryable(Exception):
    """Graph said "not now" (429/503), or the connection never opened: safe to try again."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _graph_error(response: requests.Response) -> tuple[str, str]:
    """Graph's error code and message (the message is never shown: it can hold addresses)."""
    try:
        error = response.json().get("error", {})
        return str(error.get("code", "")), str(error.get("message", ""))
    except (ValueError, AttributeError):
        return "", ""


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
    """At most ``per_minute`` sends in any rolling 60 s (0 = no pacing)."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def wait(self) -> None:
        """Block until one more send fits in the window, then count it."""
        if self.per_minute <= 0:
            return
        now = self._clock()
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()
        if len(self._sent) >= self.per_minute:
            delay = 60.0 - (now - self._sent[0])
            log.info("pacing: waiting %.1f s (limit %d per minute)", delay, self.per_minute)
            self._sleep(delay)
            now = self._clock()
            self._sent.popleft()
        self._sent.append(now)


class GraphTransport:
    """Sends as the configured mailbox through Microsoft Graph.

    Args:
        auth: gives access tokens (``MicrosoftAuth``).
        session: the HTTP session (``auth.session`` by default).
        per_minute: pacing (``settings.email.per_minute``; 0 = off).
        max_attempts: tries for a 429/503 or a connection that would not open.
        max_wait: cap on one wait between tries, whatever ``Retry-After`` says.
        clock, sleep: injectable for tests (pacing and retry waits both use ``sleep``).
    """

    name = "graph"

    def __init__(
        self,
        auth: MicrosoftAuth,
        *,
        session: requests.Session | None = None,
        per_minute: int = 30,
        max_attempts: int = 4,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.auth = auth
        self.session = session if session is not None else auth.session
        self.endpoint = auth.graph.endpoint.rstrip("/")
        self.mode = auth.graph.mode
        self.mailbox = auth.graph.mailbox
        self.max_attempts = max(1, max_attempts)
        self.max_wait = max_wait
        self._sleep = sleep
        self.pacer = Pacer(per_minute, clock=clock, sleep=sleep)
        self.sends = 0  # requests answered 202

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> GraphTransport:
        from recruit_cli.msgraph.auth import MicrosoftAuth

        auth = MicrosoftAuth.from_settings(settings)
        return cls(auth, per_minute=settings.email.per_minute, **kwargs)

    def _user_path(self) -> str:
        return "/me" if self.mode == "delegated" else f"/users/{self.mailbox}"

    # ---- one request, with retries for "not now" -------------------------------------------
    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One Graph call, retried on 429/503 and connections that never opened.

        Raises DeliveryUncertain when the request may have been acted on without an answer.
        """
        from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hint = exc.retry_after if isinstance(exc, _Retryable) else None
            fallback = min(2.0 ** (state.attempt_number - 1), self.max_wait)
            return min(hint if hint is not None else fallback, self.max_wait)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
        )
        try:
            response: requests.Response = retrying(self._attempt, method, url, **kwargs)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            reason = last.reason if isinstance(last, _Retryable) else "failed"
            raise MailUnavailable(
                f"Microsoft Graph: {reason} after {self.max_attempts} attempts"
            ) from exc
        return response

    def _attempt(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        import requests
        from urllib3.exceptions import NewConnectionError

        headers = {"Authorization": f"Bearer {self.auth.access_token()}"}
        try:
            response = self.session.request(method, url, headers=headers, **kwargs)
        except requests.ConnectTimeout as exc:
            raise _Retryable("connection timed out") from exc
        except requests.exceptions.SSLError as exc:
            raise MailUnavailable(f"Microsoft Graph: TLS failed ({type(exc).__name__})") from exc
        except requests.ConnectionError as exc:
            if _never_connected(exc, NewConnectionError):
                raise _Retryable("could not connect") from exc
            raise DeliveryUncertain(
                "delivery uncertain: the connection to Microsoft Graph dropped before it"
                " answered; the next pass checks Sent Items"
            ) from exc
        except requests.RequestException as exc:  # read timeout and the like
            raise DeliveryUncertain(
                f"delivery uncertain: no answer from Microsoft Graph ({type(exc).__name__});"
                " the next pass checks Sent Items"
            ) from exc
        if response.status_code in RETRYABLE_STATUS:
            raise _Retryable(f"HTTP {response.status_code}", _retry_after(response))
        return response

    # ---- Transport ----------------------------------------------------------------------
    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send one message. 202 is success; see the module docstring for everything else."""
        self.pacer.wait()
        url = f"{self.endpoint}{self._user_path()}/sendMail"
        response = self._request("POST", url, json=to_graph_message(message))
        status = response.status_code
        if status == 202:
            self.sends += 1
            return SendReceipt(key=message.key, transport=self.name, detail="accepted (202)")
        if status in UNCERTAIN_STATUS:
            raise DeliveryUncertain(
                f"delivery uncertain: Microsoft Graph answered HTTP {status}; the next pass"
                " checks Sent Items"
            )
        self._raise_refusal(response, message.record_id)

    def _raise_refusal(self, response: requests.Response, record_id: str | None) -> NoReturn:
        status = response.status_code
        code, text = _graph_error(response)
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
            url = f"{self.endpoint}{path}/mailFolders/SentItems/messages"
            try:
                response = self._request("GET", url, params=params)
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
                code, _ = _graph_error(response)
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
        self.session.close()


def _never_connected(exc: BaseException, new_connection_error: type[BaseException]) -> bool:
    """True when the error chain shows the TCP connection was never made (nothing was sent)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, new_connection_error):
            return True
        reason = getattr(seen, "reason", None)
        if isinstance(reason, BaseException) and isinstance(reason, new_connection_error):
            return True
        arg = seen.args[0] if seen.args else None
        if isinstance(arg, BaseException) and arg is not seen:
            if isinstance(arg, new_connection_error):
                return True
            reason = getattr(arg, "reason", None)
            if isinstance(reason, new_connection_error):
                return True
        seen = seen.__cause__ or seen.__context__
    return False
