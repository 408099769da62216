"""One error tree. Each branch carries its exit code; the CLI maps them in one place.

Messages never contain secrets, e-mail addresses, names or questionnaire answers:
record ids, field names, file names and REDCap's own error text only.
"""

from __future__ import annotations

from pathlib import Path

from recruit_cli.exit_codes import ExitCode


class RecruitError(Exception):
    """Base of every error recruit raises on purpose."""

    exit_code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(RecruitError):
    exit_code = ExitCode.USAGE


class ConfigError(RecruitError):
    """The configuration is wrong: names the file, the key and, when known, the line."""

    exit_code = ExitCode.CONFIG

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(str(path) + (f":{line}" if line is not None else ""))
        if key is not None:
            where.append(f"[{key}]" if "." not in key else key)
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = path
        self.key = key
        self.line = line


class TemplateError(ConfigError):
    """An e-mail or report template is missing or does not render."""


class LogicError(RecruitError):
    """REDCap logic that does not parse or uses something unsupported."""

    exit_code = ExitCode.CONFIG

    def __init__(self, message: str, *, text: str = "", position: int | None = None) -> None:
        at = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{at}" + (f" in {_excerpt(text, position)!r}" if text else ""))
        self.text = text
        self.position = position


def _excerpt(text: str, position: int | None, width: int = 60) -> str:
    """The logic around ``position``: a long filterLogic would otherwise flood the message."""
    if len(text) <= width:
        return text
    centre = position if position is not None else 0
    start = max(0, min(centre - width // 2, len(text) - width))
    end = start + width
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


class RemoteError(RecruitError):
    """Something went wrong talking to another system."""


class ServiceUnavailable(RemoteError):
    """REDCap or the mail service could not be reached, or kept failing transiently."""

    exit_code = ExitCode.UNAVAILABLE


class RedcapUnavailable(ServiceUnavailable):
    """REDCap itself could not be reached (every later REDCap step would fail the same way)."""


class MailUnavailable(ServiceUnavailable):
    """The mail service could not be reached, or kept throttling us."""


class DeadlineExceeded(ServiceUnavailable):
    """The run reached its time bound (``[ops] max_run_minutes``) while waiting on REDCap or
    the mail service: too slow counts as unavailable (exit 4). ``setting`` names the bound.
    """

    def __init__(self, message: str, *, setting: str = "") -> None:
        super().__init__(message)
        self.setting = setting


class OutOfTime(RecruitError):
    """The run is near its time bound, so a send was not started (pacing, or just many
    messages): what is left waits for the next run. Not a failure (exit 0)."""

    exit_code = ExitCode.OK


class RedcapBadAnswer(RemoteError):
    """REDCap answered, but not with what was asked: more than ``[redcap] max_response_mb``,
    or an export that isn't the rows asked for (rows of records not requested, a row without
    its record id, two rows for one record that the project's shape doesn't explain, values
    that aren't strings, a body that isn't a list of rows). Nothing is written from it.

    Exit 4, like an outage: it is not REDCap saying no to a request (7), and not a bug in
    recruit (1); REDCap (or something between it and recruit) can't be used as it answers
    now. The message names the call and row positions, never values or record ids.
    """

    exit_code = ExitCode.UNAVAILABLE


class RedcapError(RemoteError):
    """REDCap answered, and said no. Carries REDCap's own message.

    Exit 7, not 1: REDCap refusing a request is something a person reads and acts on, not
    a bug in recruit (cron and health checks read 1 as one).
    """

    exit_code = ExitCode.REFUSED

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RedcapTokenRejected(RedcapError):
    """The REDCap token is wrong or lacks rights: a configuration problem."""

    exit_code = ExitCode.CONFIG


class RedcapNotFound(RedcapError):
    """Nothing answers at the configured URL (HTTP 404): ``[redcap] url`` is not REDCap's
    API endpoint. A configuration problem, and every later call would fail the same way."""

    exit_code = ExitCode.CONFIG


class ProjectMismatch(RedcapError):
    """REDCap refused a field the configuration names: the project and the configuration
    disagree (a typo in a rule, pipeline fields not added yet): a configuration problem."""

    exit_code = ExitCode.CONFIG


class ProjectUnsupported(RecruitError):
    """The REDCap project has something recruit does not handle yet (events, repeating
    instruments): every command refuses it (exit 3) rather than silently doing nothing."""

    exit_code = ExitCode.CONFIG


class MailError(RemoteError):
    """The mail service refused a message for a reason that is not transient (exit 7, like
    REDCap saying no)."""

    exit_code = ExitCode.REFUSED


class RecipientRejected(MailError):
    """A permanent error for one recipient: that record goes to review, the pass goes on."""


class AuthError(RecruitError):
    """Microsoft sign-in is needed or was refused."""

    exit_code = ExitCode.AUTH


class UnsafeWrite(RecruitError):
    """A pass tried to import what recruit never writes: a field that is not a pipeline
    field, or a record id the pass did not read from REDCap. A bug in recruit (exit 1),
    caught before anything was sent (``redcap.writes.RecordWriter``)."""


class LockHeld(RecruitError):
    """Another recruit run on this host holds the lock: not a failure."""

    exit_code = ExitCode.OK


class DeliveryUncertain(MailUnavailable):
    """The message reached the mail service but no answer came back: it may have gone out.

    Never retried; the next pass reconciles it with ``Transport.was_sent``. Its message
    starts with "delivery uncertain".
    """


class MailSetupError(MailError):
    """The mail service refuses every message because of how it is set up (permissions, Send
    As, RBAC scope, a mailbox that doesn't exist or has no REST access): a configuration
    problem, not one record's."""

    exit_code = ExitCode.CONFIG
