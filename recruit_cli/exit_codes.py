"""The whole exit-code contract, in one place.

Cron wrappers and health checks read these numbers, so they never change meaning. The
table is repeated in ``recruit --help``, the README and crontab.example;
tests/test_exit_codes.py pins those copies to this one.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # ok, nothing to do, or another run holds the lock
    UNEXPECTED = 1  # a bug or an error nobody anticipated
    USAGE = 2  # bad command line
    CONFIG = 3  # configuration (file, template, REDCap project set-up, token rejected)
    UNAVAILABLE = 4  # REDCap or the mail service could not be reached
    PARTIAL = 5  # some records failed, the rest were written
    AUTH = 6  # Microsoft sign-in needed: run `recruit auth login`
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, the shell's convention)


# Each meaning is plain text (no "." or ";"): the README and crontab.example quote it.
EXIT_CODE_TABLE: tuple[tuple[int, str], ...] = (
    (ExitCode.OK, "ok, nothing to do, or lock held"),
    (ExitCode.UNEXPECTED, "unexpected error"),
    (ExitCode.USAGE, "usage"),
    (ExitCode.CONFIG, "configuration"),
    (ExitCode.UNAVAILABLE, "REDCap or mail service unavailable"),
    (ExitCode.PARTIAL, "partial: some records failed, the rest were written"),
    (ExitCode.AUTH, "authentication needed (recruit auth login)"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
)

# Most severe first (the README's "by severity" sentence quotes it). 130 comes right after
# a bug: the steps after an interruption never ran, whatever they would have said.
SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.UNEXPECTED,
    ExitCode.INTERRUPTED,
    ExitCode.USAGE,
    ExitCode.CONFIG,
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
