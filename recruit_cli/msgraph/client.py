"""Microsoft Graph over HTTPS: every Graph call funnels through ``GraphClient.request``.

That one method puts the bearer token from ``MicrosoftAuth`` on the request (the session
carries the timeout and the CA bundle) and retries through the shared ``recruit_cli.retry``
helper. What it retries is what Graph refused *before doing anything*, so that a retry can
never act twice:

- 429 and 503, honouring ``Retry-After``;
- a connection that could not be opened;
- a 401: once, with a freshly acquired token (the cached one was revoked or expired early).

Any outcome where the request reached Graph but no answer came back (the connection dropped,
a read timeout, no whole answer within the request's bound) raises ``DeliveryUncertain`` and
is never retried; for a read (GET) it is ``MailUnavailable``: a query that got no answer
changed nothing. Every other answer is returned for the caller to read (``graph_error``
gives Graph's error code).

Every request is bounded (``recruit_cli.bounded_http``): ``[email.graph] max_request_seconds``
of wall-clock time, or what is left of the run's ``[ops] max_run_minutes``, whichever comes
first, and ``[email.graph] max_response_mb`` of answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from recruit_cli.bounded_http import TooLarge, TooSlow, fetch, max_bytes
from recruit_cli.deadline import Deadline
from recruit_cli.errors import DeliveryUncertain, MailUnavailable
from recruit_cli.logs import get_logger
from recruit_cli.redact import server_text
from recruit_cli.retry import Backoff, Transient, call_with_retries, retry_after

if TYPE_CHECKING:
    import requests

    from recruit_cli.msgraph.auth import MicrosoftAuth
    from recruit_cli.settings import GraphSettings, Settings

log = get_logger("msgraph.client")

RETRYABLE_STATUS = frozenset({429, 503})
# Methods that change nothing: no answer to them is an outage, not an uncertain delivery.
_READS = frozenset({"GET", "HEAD"})
# The production back-off: 1 s, 2 s, 4 s (or Retry-After), at most 60 s.
# [email.graph] retries and retry_max_wait change the attempts and the cap (``backoff_for``).
BACKOFF = Backoff(attempts=4, base=1.0, max_wait=60.0)


def backoff_for(graph: GraphSettings) -> Backoff:
    """The back-off ``[email.graph]`` asks for: ``retries`` more attempts, waits capped."""
    return replace(BACKOFF, attempts=graph.retries + 1, max_wait=graph.retry_max_wait)


def graph_error(response: requests.Response) -> tuple[str, str]:
    """Graph's ``{"error": {"code", "message"}}``: the code and the message ("" if absent).

    Show the code; the message is never shown (it can hold addresses). Both come back
    through ``redact.server_text`` all the same, so neither can carry an address on.
    """
    try:
        error = response.json().get("error", {})
        code, message = str(error.get("code", "")), str(error.get("message", ""))
    except (ValueError, AttributeError):
        return "", ""
    return server_text(code), server_text(message)


class GraphClient:
    """Calls Microsoft Graph as the signed-in user or the app, for any Graph resource.

    Args:
        auth: Gives access tokens (``MicrosoftAuth``).
        session: The HTTP session (``auth.session`` by default: timeout and CA bundle).
        backoff: Attempts for what Graph refused before acting, and the waits between them.
        sleep: How to wait between attempts (tests hand in a fake clock's).
        deadline: The run's bound (``[ops] max_run_minutes``); None: only each request's.
        max_request_seconds: Wall-clock seconds one request may take, all of it.
        max_response_mb: The largest answer accepted, in MB.
    """

    def __init__(
        self,
        auth: MicrosoftAuth,
        *,
        session: requests.Session | None = None,
        backoff: Backoff = BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        deadline: Deadline | None = None,
        max_request_seconds: float = 60.0,
        max_response_mb: float = 1.0,
    ) -> None:
        self.auth = auth
        self.session = session if session is not None else auth.session
        self.endpoint = auth.graph.endpoint.rstrip("/")
        self.backoff = backoff
        self._sleep = sleep
        self.deadline = deadline if deadline is not None else Deadline.never()
        self.max_request_seconds = max_request_seconds
        self.max_response_mb = max_response_mb

    @classmethod
    def from_settings(
        cls, settings: Settings, *, auth: MicrosoftAuth | None = None, **kwargs: Any
    ) -> GraphClient:
        """A client for ``[email.graph]``: its sign-in, timeout, CA bundle, back-off and
        bounds (``deadline``, the run's, is a keyword argument)."""
        from recruit_cli.msgraph.auth import MicrosoftAuth

        if auth is None:
            auth = MicrosoftAuth.from_settings(settings)
        graph = settings.email.graph
        kwargs.setdefault("backoff", backoff_for(graph))
        kwargs.setdefault("max_request_seconds", graph.max_request_seconds)
        kwargs.setdefault("max_response_mb", graph.max_response_mb)
        return cls(auth, **kwargs)

    def url(self, path: str) -> str:
        """The full URL of a Graph path such as ``/me/sendMail``."""
        return f"{self.endpoint}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One Graph call (``path`` below the endpoint); ``kwargs`` go to ``requests``.

        Returns Graph's answer whatever its status, once nothing is left worth retrying
        (a 401 that a fresh token did not cure included).

        Raises:
            MailUnavailable: Graph stayed throttled or unreachable for every attempt, or TLS
                failed, or a read got no whole answer in time.
            DeliveryUncertain: the request reached Graph and no whole answer came back (in
                time): it may have been acted on.
            DeadlineExceeded: the run's time was up before the request was sent.
            AuthError: no token could be had (sign-in needed).
        """
        url = self.url(path)
        refreshed = False

        def attempt(_number: int) -> requests.Response:
            nonlocal refreshed
            self.deadline.check(f"Microsoft Graph ({method})")  # nothing sent yet
            response = self._send(method, url, self.auth.access_token(), kwargs)
            if response.status_code == 401 and not refreshed:
                # Refused before anything was done: safe to repeat with a new token, once.
                refreshed = True
                log.info("Microsoft Graph refused the access token (HTTP 401); renewing it")
                token = self.auth.access_token(force_refresh=True)
                response = self._send(method, url, token, kwargs)
            return response

        def wait(seconds: float) -> None:
            # A back-off never outlasts the run: the next attempt then finds the time up.
            self._sleep(min(seconds, self.deadline.remaining()))

        try:
            return call_with_retries(
                attempt, self.backoff, what="Microsoft Graph", log=log, sleep=wait
            )
        except Transient as exc:
            raise MailUnavailable(
                f"Microsoft Graph: {exc.reason} after {self.backoff.attempts} attempts"
            ) from exc

    def _send(self, method: str, url: str, token: str, kwargs: dict[str, Any]) -> requests.Response:
        """One HTTP attempt. Raises Transient for what Graph refused before acting."""
        import requests
        from urllib3.exceptions import NewConnectionError

        options = dict(kwargs)  # the same for every attempt: don't consume the caller's
        options["headers"] = {**options.get("headers", {}), "Authorization": f"Bearer {token}"}
        bound = self.deadline.within(
            self.max_request_seconds,
            f"[email.graph] max_request_seconds = {self.max_request_seconds:g}",
        )
        try:
            response = fetch(
                lambda: self.session.request(method, url, stream=True, **options),
                seconds=bound.remaining(),
                max_bytes=max_bytes(self.max_response_mb),
            )
        except TooSlow as exc:
            if method.upper() in _READS:
                raise MailUnavailable(
                    f"Microsoft Graph: no whole answer within {bound.describe()}"
                ) from exc
            raise DeliveryUncertain(
                f"delivery uncertain: Microsoft Graph gave no whole answer within "
                f"{bound.describe()}"
            ) from exc
        except TooLarge as exc:
            if method.upper() in _READS:
                raise MailUnavailable(
                    f"Microsoft Graph answered with more than {self.max_response_mb:g} MB "
                    "([email.graph] max_response_mb)"
                ) from exc
            raise DeliveryUncertain(
                f"delivery uncertain: Microsoft Graph answered HTTP {exc.status} with more "
                f"than {self.max_response_mb:g} MB ([email.graph] max_response_mb)"
            ) from exc
        except requests.ConnectTimeout as exc:
            raise Transient("connection timed out") from exc
        except requests.exceptions.SSLError as exc:
            raise MailUnavailable(f"Microsoft Graph: TLS failed ({type(exc).__name__})") from exc
        except requests.ConnectionError as exc:
            if _never_connected(exc, NewConnectionError):
                raise Transient("could not connect") from exc
            raise DeliveryUncertain(
                "delivery uncertain: the connection to Microsoft Graph dropped before it answered"
            ) from exc
        except requests.RequestException as exc:  # read timeout and the like
            raise DeliveryUncertain(
                f"delivery uncertain: no answer from Microsoft Graph ({type(exc).__name__})"
            ) from exc
        if response.status_code in RETRYABLE_STATUS:
            raise Transient(f"HTTP {response.status_code}", retry_after(response.headers))
        return response

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
