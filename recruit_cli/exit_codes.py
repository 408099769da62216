"""The whole exit-code contract, in one place.

Cron wrappers and health checks read these numbers, so they never change meaning.
The table is repeated in the README and in ``recruit --help``.
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


EXIT_CODE_TABLE: tuple[tuple[int, str], ...] = (
    (ExitCode.OK, "ok, nothing to do, or lock held"),
    (ExitCode.UNEXPECTED, "unexpected error"),
    (ExitCode.USAGE, "usage"),
    (ExitCode.CONFIG, "configuration"),
    (ExitCode.UNAVAILABLE, "REDCap or mail service unavailable"),
    (ExitCode.PARTIAL, "partial: some records failed, the rest were written"),
    (ExitCode.AUTH, "authentication needed"),
)


def worst(codes: list[ExitCode] | tuple[ExitCode, ...]) -> ExitCode:
    """The exit code of a run made of several steps: the most severe one.

    Severity is not numeric order: an unexpected error (1) outranks a partial run (5).
    """
    rank = [
        ExitCode.OK,
        ExitCode.PARTIAL,
        ExitCode.AUTH,
        ExitCode.UNAVAILABLE,
        ExitCode.CONFIG,
        ExitCode.USAGE,
        ExitCode.UNEXPECTED,
    ]
    return max(codes, key=rank.index, default=ExitCode.OK)
