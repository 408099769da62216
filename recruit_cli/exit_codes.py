"""The whole exit-code contract, in one place.

Cron wrappers and health checks read these numbers, so they never change meaning: 1 is
always a bug, never something REDCap or the mail service said. The table is repeated in
``recruit --help``, the README and crontab.example; tests/test_exit_codes.py pins those
copies to this one.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # ok, nothing to do, or another run holds the lock
    UNEXPECTED = 1  # a bug: an error nobody anticipated
    USAGE = 2  # bad command line
    CONFIG = 3  # configuration (file, template, REDCap project set-up, token rejected)
    UNAVAILABLE = 4  # REDCap or the mail service could not be reached
    PARTIAL = 5  # some records failed, the rest were written
    AUTH = 6  # Microsoft sign-in needed: run `recruit auth login`
    REFUSED = 7  # REDCap or the mail service answered, and refused a request
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, the shell's convention)


# Each meaning is plain text (no "." or ";"): the README and crontab.example quote it.
EXIT_CODE_TABLE: tuple[tuple[int, str], ...] = (
    (ExitCode.OK, "ok, nothing to do, or lock held"),
    (ExitCode.UNEXPECTED, "unexpected error (a bug)"),
    (ExitCode.USAGE, "usage"),
    (ExitCode.CONFIG, "configuration"),
    (ExitCode.UNAVAILABLE, "REDCap or mail service unavailable"),
    (ExitCode.PARTIAL, "partial: some records failed, the rest were written"),
    (ExitCode.AUTH, "authentication needed (recruit auth login)"),
    (ExitCode.REFUSED, "REDCap or the mail service refused a request"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
)

# Most severe first. Severity is not numeric order; the ranking answers "which one must a
# person see first":
# - 1, a bug: nothing is known about what is safe after it;
# - 130, interrupted: the steps after it never ran, whatever they would have said;
# - 2 and 3, the command line or the configuration is wrong: every run fails alike until
#   someone edits it;
# - 7, refused: REDCap or the mail service answered and said no to one request. Like 3 it
#   repeats on every run until a person acts, but it is narrower (one request, not the
#   set-up), so it ranks below 3; it outranks 4 because an outage clears by itself and a
#   refusal does not;
# - 4, unavailable, then 6, sign-in needed, then 5, partial (the rest was written).
SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.UNEXPECTED,
    ExitCode.INTERRUPTED,
    ExitCode.USAGE,
    ExitCode.CONFIG,
    ExitCode.REFUSED,
    ExitCode.UNAVAILABLE,
    ExitCode.AUTH,
    ExitCode.PARTIAL,
    ExitCode.OK,
)


def worst(codes: list[ExitCode] | tuple[ExitCode, ...]) -> ExitCode:
    """The exit code of a run made of several steps: the most severe one (``SEVERITY``).

    Severity is not numeric order: an unexpected error (1) outranks a partial run (5).
    """
    return min(codes, key=SEVERITY.index, default=ExitCode.OK)
