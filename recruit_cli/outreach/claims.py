"""The claim field: ``<key>|claimed|<iso time>`` before a send, ``<key>|sent|<iso time>`` after.

The key is the message's idempotency key, ``<record>:<kind>:<template version>`` (a resend
adds ``:resend-<UTC time>``). The time is UTC, ISO-8601 with offset, to the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

RESEND_MARK = ":resend-"


class ClaimState(StrEnum):
    CLAIMED = "claimed"  # written before sending: the message may or may not have gone out
    SENT = "sent"  # written after the transport accepted the message


class ClaimFormatError(ValueError):
    """The claim field holds something recruit did not write (the value is never shown)."""


@dataclass(frozen=True)
class Claim:
    key: str
    state: ClaimState
    at: datetime  # timezone-aware, UTC

    def format(self) -> str:
        """The field value, e.g. ``12:invite:1|claimed|2024-05-01T12:00:00+00:00``."""
        return f"{self.key}|{self.state}|{iso_utc(self.at)}"

    def kind(self, record_id: str) -> str | None:
        """The message kind named by the key, or None when the key is another record's."""
        prefix = f"{record_id}:"
        if not self.key.startswith(prefix):
            return None
        return self.key[len(prefix) :].split(":", 1)[0] or None


def iso_utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def parse_claim(value: str) -> Claim | None:
    """Parse a claim field value; None when blank.

    Raises:
        ClaimFormatError: the value is not ``<key>|claimed|<time>`` / ``<key>|sent|<time>``.
    """
    value = value.strip()
    if not value:
        return None
    key, sep1, rest = value.rpartition("|")
    # rpartition from the right twice: the key itself never contains "|" but be strict anyway.
    key, sep2, state = key.rpartition("|")
    if not (sep1 and sep2 and key) or state not in ClaimState.__members__.values():
        raise ClaimFormatError("not <key>|claimed|<time> or <key>|sent|<time>")
    try:
        at = datetime.fromisoformat(rest)
    except ValueError as exc:
        raise ClaimFormatError("the claim time is not ISO-8601") from exc
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return Claim(key=key, state=ClaimState(state), at=at)


def claimed(key: str, at: datetime) -> str:
    return Claim(key, ClaimState.CLAIMED, at).format()


def sent(key: str, at: datetime) -> str:
    return Claim(key, ClaimState.SENT, at).format()


def resend_key(base_key: str, at: datetime) -> str:
    """A fresh key for an explicit ``--resend``: unique per resend, so each is exactly-once."""
    return f"{base_key}{RESEND_MARK}{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
