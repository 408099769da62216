"""The REDCap API client: every call funnels through one request method.

That one method (``_call``) bounds every request (``recruit_cli.bounded_http``: a
wall-clock deadline for the whole exchange, ``[redcap] max_request_seconds`` or what is left
of the run's ``[ops] max_run_minutes``, whichever comes first, and a size cap on the answer,
``[redcap] max_response_mb``; ``timeout`` still bounds each wait for the next byte), retries
only transient failures (connection errors, timeouts, a request over its own deadline, 429,
500/502/503/504) through the shared ``recruit_cli.retry`` helper (capped exponential backoff
plus jitter, ``Retry-After`` honoured, never past the run's deadline), and checks every
answer strictly (record exports: ``recruit_cli.redcap.exports``).

What is retried:
- reads, always;
- record imports: importing the same values twice leaves the same state, so a retry after a
  lost answer is safe; the count REDCap returns is still checked;
- never ``forceAutoNumber`` imports (a retry could create a second record) nor metadata
  imports (they replace the whole data dictionary): a transient failure is reported at once.

The client has the calls recruit itself makes; tests reach the rest of the API (version,
instruments, deletes, ...) through PyCap.

The token is sent in the POST body only, and never appears in an exception, a log line or
a repr: error messages name the host (``redact.safe_url``: never a ``user:password@`` the
URL may hold) and the ``content`` of the call; REDCap's own text is redacted
(``responses.error_text``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from recruit_cli.bounded_http import TooLarge, TooSlow, fetch, max_bytes
from recruit_cli.deadline import Deadline
from recruit_cli.errors import (
    ProjectMismatch,
    RedcapBadAnswer,
    RedcapError,
    RedcapNotFound,
    RedcapTokenRejected,
    RedcapUnavailable,
)
from recruit_cli.redact import safe_url
from recruit_cli.redcap import record_ids, responses
from recruit_cli.redcap.exports import checked_rows
from recruit_cli.redcap.meta import FieldMeta
from recruit_cli.redcap.policy import TRANSIENT_STATUS, Retry, array, describe
from recruit_cli.redcap.record_ids import RefusedRecord
from recruit_cli.retry import Backoff, Transient, call_with_retries, retry_after

if TYPE_CHECKING:
    from recruit_cli.settings import RedcapSettings, Settings

log = logging.getLogger("recruit.redcap")

# REDCap's answers when an export asks for, or an import writes, a field it doesn't have.
_UNKNOWN_FIELD_MESSAGES = (
    'The following values in the parameter "fields" are not valid',
    "were not found in the project as real data fields",
)
# The production back-off: 0.5 s, 1 s, 2 s (each plus up to 0.5 s of jitter), at most 30 s.
# [redcap] retries and retry_max_wait change the attempts and the cap (``backoff_for``).
BACKOFF = Backoff(attempts=4, base=0.5, max_wait=30.0, jitter=0.5)


def backoff_for(redcap: RedcapSettings) -> Backoff:
    """The back-off ``[redcap]`` asks for: ``retries`` more attempts, waits capped."""
    return replace(BACKOFF, attempts=redcap.retries + 1, max_wait=redcap.retry_max_wait)


class RedcapClient:
    """A REDCap project, reached through its API URL and token.

    Args:
        url: The API endpoint, e.g. ``https://redcap.example.edu/api/``.
        token: The project's API token. Kept private; never shown.
        session: A ``requests.Session`` to use (tests inject one); the client makes its own
            otherwise and closes only that one.
        timeout: Seconds for connecting and for reading each answer.
        verify: TLS verification: True, False, or a CA bundle path.
        backoff: Attempts per call for transient failures and the waits between them
            (``Backoff(attempts=1)``: never retried).
        record_id_field: The project's record id field, to count distinct records in an
            import; None uses each row's first key (REDCap's own convention).
        token_env: The variable the token came from, named in the 403 message.
        deadline: The run's bound (``[ops] max_run_minutes``): no request outlives it, and
            no retry starts after it. None: only each request's own bound.
        max_request_seconds: Wall-clock seconds one request may take, all of it.
        max_response_mb: The largest answer accepted, in MB.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        verify: bool | str = True,
        backoff: Backoff = BACKOFF,
        record_id_field: str | None = None,
        token_env: str = "REDCAP_API_TOKEN",
        deadline: Deadline | None = None,
        max_request_seconds: float = 300.0,
        max_response_mb: float = 100.0,
    ) -> None:
        self.url = url  # may hold user:password@ (sent as HTTP basic auth); never shown
        self.host = urlsplit(safe_url(url)).netloc or safe_url(url)
        self._token = token
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()
        self.timeout = timeout
        self.verify = verify
        self.backoff = backoff
        self.record_id_field = record_id_field
        self.token_env = token_env
        self.deadline = deadline if deadline is not None else Deadline.never()
        self.max_request_seconds = max_request_seconds
        self.max_response_mb = max_response_mb
        self.calls = 0
        # Rows whose record id recruit can't use, left out of every export (record_ids).
        self.refused: list[RefusedRecord] = []

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> RedcapClient:
        """A client for the configured project.

        Raises:
            ConfigError: the token variable is not set (exit 3).
        """
        from recruit_cli.config import require_token

        options: dict[str, Any] = {
            "timeout": settings.redcap.timeout,
            "verify": settings.redcap.verify_tls,
            "backoff": backoff_for(settings.redcap),
            "record_id_field": settings.fields.record_id,
            "token_env": settings.redcap.token_env,
            "max_request_seconds": settings.redcap.max_request_seconds,
            "max_response_mb": settings.redcap.max_response_mb,
        }
        options.update(kwargs)
        return cls(settings.redcap.url, require_token(settings), **options)

    def __repr__(self) -> str:
        return f"RedcapClient(url={safe_url(self.url)!r}, token='***', calls={self.calls})"

    def __enter__(self) -> RedcapClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if the client made it."""
        if self._own_session:
            self._session.close()

    # ---- reads -------------------------------------------------------------------------

    def export_project_info(self) -> dict[str, str]:
        """Project attributes, including ``secondary_unique_field`` ("" when none)."""
        payload = {"content": "project", "format": "json", "returnFormat": "json"}
        return responses.expect_object(self._json(payload), "content=project")

    def export_metadata(
        self, fields: Sequence[str] | None = None, forms: Sequence[str] | None = None
    ) -> list[FieldMeta]:
        """The data dictionary (optionally only some fields or forms), typed."""
        payload = {"content": "metadata", "format": "json", "returnFormat": "json"}
        payload |= array("fields", fields) | array("forms", forms)
        rows = responses.expect_rows(self._json(payload), "content=metadata")
        return [FieldMeta.from_row(row) for row in rows]

    def export_metadata_rows(self) -> list[dict[str, str]]:
        """The data dictionary as REDCap's raw rows, every column included.

        ``export_metadata`` types the rows and drops columns such as branching logic and
        annotations; a metadata import replaces the whole dictionary, so anything that
        re-imports it must start from these rows.
        """
        payload = {"content": "metadata", "format": "json", "returnFormat": "json"}
        return responses.expect_rows(self._json(payload), "content=metadata")

    def export_records(
        self,
        *,
        records: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
        forms: Sequence[str] | None = None,
        filter_logic: str = "",
        date_range_begin: datetime | str | None = None,
        date_range_end: datetime | str | None = None,
    ) -> list[dict[str, str]]:
        """Records in REDCap's flat JSON shape (raw codes, checkboxes as ``f___code``).

        A row whose record id holds a control character (or spaces around it) is left out,
        with a warning naming its position, and kept in ``refused`` (``record_ids``).

        Args:
            records: Only these record ids.
            fields: Only these fields. REDCap returns the record id only when it is asked
                for, so when the client knows the record id field it adds it here.
            forms: Only the fields of these forms.
            filter_logic: REDCap logic evaluated by REDCap; only matching records return.
            date_range_begin: Only records created or modified at/after this time
                (``YYYY-MM-DD HH:MM:SS`` in the server's time zone).
            date_range_end: Only records created or modified before this time.
        """
        payload: dict[str, str] = {
            "content": "record",
            "action": "export",
            "format": "json",
            "type": "flat",
            "rawOrLabel": "raw",
            "rawOrLabelHeaders": "raw",
            "exportCheckboxLabel": "false",
            "returnFormat": "json",
        }
        if fields is not None and self.record_id_field and self.record_id_field not in fields:
            # Without it, rows can't be told apart (REDCap >= 6.0 adds it only on request).
            fields = [self.record_id_field, *fields]
        payload |= array("records", records) | array("fields", fields) | array("forms", forms)
        if filter_logic:
            payload["filterLogic"] = filter_logic
        if date_range_begin is not None:
            payload["dateRangeBegin"] = _timestamp(date_range_begin)
        if date_range_end is not None:
            payload["dateRangeEnd"] = _timestamp(date_range_end)
        rows = checked_rows(
            self._json(payload),
            "content=record",
            id_field=self.record_id_field,
            requested=[records] if isinstance(records, str) else records,
        )
        return self._usable(rows, describe(payload))

    def export_logging(
        self,
        *,
        log_type: str | None = None,
        record: str | None = None,
        begin_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
    ) -> list[dict[str, str]]:
        """The project's audit log (``timestamp``, ``username``, ``action``, ``details``)."""
        payload = {"content": "log", "format": "json", "returnFormat": "json"}
        if log_type:
            payload["logtype"] = log_type
        if record:
            payload["record"] = record
        if begin_time is not None:
            payload["beginTime"] = _timestamp(begin_time, minutes=True)
        if end_time is not None:
            payload["endTime"] = _timestamp(end_time, minutes=True)
        return responses.expect_rows(self._json(payload), "content=log")

    # ---- writes ------------------------------------------------------------------------

    def import_records(
        self,
        rows: Sequence[Mapping[str, str]],
        *,
        overwrite: bool = False,
        force_auto_number: bool = False,
    ) -> int:
        """Import flat rows; returns REDCap's count of records imported.

        Batching is the caller's (``recruit_cli.chunks``). With ``overwrite`` False, blanks
        leave what REDCap holds; with True they erase it.

        Raises:
            RedcapError: REDCap refused the data, or its count differs from the number of
                distinct record ids sent.
        """
        if not rows:
            return 0
        payload = {
            "content": "record",
            "action": "import",
            "format": "json",
            "type": "flat",
            "overwriteBehavior": "overwrite" if overwrite else "normal",
            "forceAutoNumber": "true" if force_auto_number else "false",
            "data": json.dumps([dict(row) for row in rows], separators=(",", ":")),
            "returnContent": "count",
            "returnFormat": "json",
        }
        policy = Retry.NEVER if force_auto_number else Retry.SAFE
        count = responses.expect_count(self._json(payload, policy), "content=record import")
        sent = len({self._record_id(row) for row in rows})
        if count != sent:
            raise RedcapError(
                f"REDCap imported {count} records but {sent} were sent (content=record): "
                "check the record id field and the project's data access rules"
            )
        return count

    def import_metadata(self, rows: Sequence[Mapping[str, str]]) -> int:
        """Replace the data dictionary with ``rows``; returns REDCap's field count.

        Never retried: a repeat of a half-finished dictionary change is not blind-safe.
        """
        payload = {
            "content": "metadata",
            "format": "json",
            "data": json.dumps([dict(row) for row in rows], separators=(",", ":")),
            "returnFormat": "json",
        }
        count = responses.expect_count(self._json(payload, Retry.NEVER), "content=metadata")
        if count != len(rows):
            raise RedcapError(
                f"REDCap imported {count} fields but {len(rows)} were sent (content=metadata)"
            )
        return count

    # ---- the one request method ----------------------------------------------------------

    def _json(self, payload: dict[str, str], policy: Retry = Retry.SAFE) -> Any:
        call = describe(payload)
        return responses.parse_json(self._call(payload, policy), call, scrub=self._token)

    def _call(self, payload: dict[str, str], policy: Retry = Retry.SAFE) -> str:
        """Send one API call (retrying transient failures per ``policy``); return the body.

        Raises:
            DeadlineExceeded: the run's time is up (before an attempt, or during one).
            RedcapUnavailable: every attempt failed transiently.
            RedcapBadAnswer: the answer is over ``[redcap] max_response_mb``.
        """
        call = describe(payload)
        backoff = replace(self.backoff, attempts=1) if policy is Retry.NEVER else self.backoff
        what = f"REDCap at {self.host} ({call})"

        def attempt(number: int) -> str:
            self.deadline.check(what)  # no attempt starts after the run's bound
            return self._send(payload, call, retried=number > 1)

        def wait(seconds: float) -> None:
            # A back-off never outlasts the run: the next attempt then finds the time up.
            time.sleep(min(seconds, self.deadline.remaining()))

        try:
            return call_with_retries(attempt, backoff, what=what, log=log, sleep=wait)
        except Transient as exc:
            tries = "once" if backoff.attempts == 1 else f"{backoff.attempts} times"
            raise RedcapUnavailable(
                f"REDCap at {self.host} is unavailable ({call}): {exc.reason}; tried {tries}"
            ) from exc

    def _send(self, payload: dict[str, str], call: str, *, retried: bool) -> str:
        """One HTTP attempt, within its deadline and size cap. Raises Transient for what is
        worth retrying."""
        self.calls += 1
        log.debug("REDCap %s (attempt %s)", call, "retry" if retried else "first")
        bound = self.deadline.within(
            self.max_request_seconds,
            f"[redcap] max_request_seconds = {self.max_request_seconds:g}",
        )
        try:
            response = fetch(
                lambda: self._session.post(
                    self.url,
                    data={"token": self._token, **payload},
                    timeout=self.timeout,
                    verify=self.verify,
                    stream=True,
                ),
                seconds=bound.remaining(),
                max_bytes=max_bytes(self.max_response_mb),
            )
        except TooSlow as exc:
            if bound is self.deadline:  # the run's own bound: nothing is left to retry in
                raise self.deadline.exceeded(f"REDCap at {self.host} ({call})") from exc
            raise Transient(f"no complete answer within {bound.describe()}") from exc
        except TooLarge as exc:
            raise RedcapBadAnswer(
                f"REDCap at {self.host} answered {call} with more than "
                f"{self.max_response_mb:g} MB ([redcap] max_response_mb): refused; raise the "
                "setting if the project is that large"
            ) from exc
        except requests.exceptions.SSLError as exc:
            raise RedcapUnavailable(
                f"REDCap at {self.host}: TLS failed ({call}): {type(exc).__name__}; "
                "check the certificate or [redcap] verify_tls"
            ) from exc
        except requests.Timeout as exc:
            raise Transient(f"no answer within {self.timeout:g}s") from exc
        except requests.ConnectionError as exc:
            raise Transient("could not connect") from exc
        except requests.RequestException as exc:
            raise RedcapError(f"REDCap at {self.host}: {type(exc).__name__} ({call})") from exc
        return self._check(response, call)

    def _check(self, response: requests.Response, call: str) -> str:
        status = response.status_code
        if status == 200:
            return response.text
        if status in TRANSIENT_STATUS:
            raise Transient(f"HTTP {status}", retry_after(response.headers))
        text = responses.error_text(response.text, scrub=self._token)
        if status in (401, 403):
            raise RedcapTokenRejected(
                f"REDCap rejected the API token ({status}): check {self.token_env} "
                f"(the project's token, with API rights). REDCap said: {text}",
                status=status,
            )
        if status == 404:
            # REDCap's API answers every call at one URL and never says 404: the URL is wrong.
            raise RedcapNotFound(
                f"REDCap at {self.host} answered {call} with HTTP 404 Not Found at "
                f"{urlsplit(self.url).path or '/'}: check [redcap] url, the API endpoint "
                "(e.g. https://redcap.example.edu/api/)",
                status=status,
            )
        if responses.looks_like_html(response.text):
            raise RedcapError(
                f"REDCap at {self.host} answered {call} with HTTP {status} and an HTML page: "
                f"{responses.API_HINT}",
                status=status,
            )
        if status == 400 and any(m in text for m in _UNKNOWN_FIELD_MESSAGES):
            raise ProjectMismatch(
                f"REDCap refused {call}: {text} — a field named in the configuration (a rule "
                "or [fields]) is not in the project; check it, or run `recruit doctor` "
                "(and `recruit setup fields` for the pipeline fields)",
                status=status,
            )
        raise RedcapError(f"REDCap refused {call} (HTTP {status}): {text}", status=status)

    def _usable(self, rows: list[dict[str, str]], call: str) -> list[dict[str, str]]:
        """The rows whose record id can be used; the others go to ``self.refused``, with a
        warning (once per record for this client) naming their position, never their id."""
        usable, refused = record_ids.split_refused(rows, self.record_id_field, call)
        told = {r.key for r in self.refused}
        for record in refused:
            if record.key not in told:
                log.warning("%s", record.message)
                told.add(record.key)
        self.refused.extend(refused)
        return usable

    def _record_id(self, row: Mapping[str, str]) -> str:
        if self.record_id_field is not None and self.record_id_field in row:
            return str(row[self.record_id_field])
        return str(next(iter(row.values()), ""))


def _timestamp(value: datetime | str, *, minutes: bool = False) -> str:
    if isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:%M:%S")
