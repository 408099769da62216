"""The two registers of a record's send: the claim field (y) and the intent field (x).

Claim: ``<key>|<state>|<UTC time>|<run id>``. The key is the message's idempotency key,
``<record>:<kind>:<template version>`` (a resend adds ``:resend-<UTC time>``); the state:

- ``reserved``: a run holds the record to send it over a transport that cannot say
  afterwards whether it sent (SMTP); nothing has been handed over yet;
- ``claimed``: the message may have been handed to the transport;
- ``sent``: the transport accepted it.

The time is ISO-8601 UTC to the second; the run id names the ``recruit`` run that wrote it
(12 hex characters, new for every pass). Claims written before run ids existed have three
parts; they read as another run's.

Intent: ``<run id>|<UTC time>``, written by a run that is about to try to claim the record
(``outreach.acquire``). ``Lease`` says whether another run's claim still holds a record.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from recruit_cli.text import has_control

RESEND_MARK = ":resend-"


class ClaimState(StrEnum):
    RESERVED = "reserved"  # a run holds it; nothing handed to the transport yet (SMTP)
    CLAIMED = "claimed"  # the message may or may not have gone out
    SENT = "sent"  # written after the transport accepted the message


class ClaimFormatError(ValueError):
    """The claim field holds something recruit did not write (the value is never shown)."""


def new_run_id() -> str:
    """A fresh run identity: 12 random hex characters (48 bits: no two runs share one)."""
    return secrets.token_hex(6)


@dataclass(frozen=True)
class Claim:
    key: str
    state: ClaimState
    at: datetime  # timezone-aware, UTC
    run: str = ""  # the run that wrote it; "" for a claim written before run ids

    def format(self) -> str:
        """The field value, e.g. ``12:invite:1|claimed|2024-05-01T12:00:00+00:00|3f2a...``."""
        text = f"{self.key}|{self.state}|{iso_utc(self.at)}"
        return f"{text}|{self.run}" if self.run else text

    def kind(self, record_id: str) -> str | None:
        """The message kind named by the key, or None when the key is another record's."""
        prefix = f"{record_id}:"
        if not self.key.startswith(prefix):
            return None
        return self.key[len(prefix) :].split(":", 1)[0] or None

    @property
    def open(self) -> bool:
        """Reserved or claimed: a run held the record and had not finished with it."""
        return self.state is not ClaimState.SENT


@dataclass(frozen=True)
class Lease:
    """How long another run's open claim holds a record (``[email] claim_lease_minutes``).

    A run that held a record finishes with it (send, mark, review, release) well within
    the lease; a claim older than that was left by a run that stopped (killed, crashed,
    or one that backed off), and the run that takes the record over reconciles it.
    """

    now: datetime
    minutes: float

    def holds(self, claim: Claim) -> bool:
        """Whether ``claim`` is another run's open claim, young enough to still hold the
        record. A claim dated in the future (a clock ahead of ours) holds too."""
        return claim.open and self.now - claim.at < timedelta(minutes=self.minutes)


def iso_utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def parse_claim(value: str) -> Claim | None:
    """Parse a claim field value; None when blank.

    Raises:
        ClaimFormatError: the value is not ``<key>|<state>|<time>[|<run id>]``.
    """
    value = value.strip()
    if not value:
        return None
    parts = value.split("|")
    if len(parts) == 4:
        key, state, when, run = parts
    elif len(parts) == 3:
        (key, state, when), run = parts, ""
    else:
        raise ClaimFormatError("not <key>|<state>|<time>|<run id>")
    if not key or state not in ClaimState.__members__.values():
        raise ClaimFormatError("not <key>|<state>|<time>|<run id>")
    if has_control(key) or has_control(run):
        # Nothing recruit writes holds one; a claim that does was typed or forged, and its
        # key would be printed in notices and logs.
        raise ClaimFormatError("the claim holds a control character")
    return Claim(key=key, state=ClaimState(state), at=_time(when), run=run)


def parse_intent(value: str) -> str:
    """The run id in an intent field value (``<run id>|<time>``); "" when blank or not
    recruit's (which no run reads as its own)."""
    run, sep, _ = value.strip().partition("|")
    return run if sep else ""


def intent(run: str, at: datetime) -> str:
    return f"{run}|{iso_utc(at)}"


def claimed(key: str, at: datetime, run: str = "") -> str:
    return Claim(key, ClaimState.CLAIMED, at, run).format()


def reserved(key: str, at: datetime, run: str = "") -> str:
    return Claim(key, ClaimState.RESERVED, at, run).format()


def sent(key: str, at: datetime, run: str = "") -> str:
    return Claim(key, ClaimState.SENT, at, run).format()


def resend_key(base_key: str, at: datetime) -> str:
    """A fresh key for an explicit ``--resend``: unique per resend, so each is exactly-once."""
    return f"{base_key}{RESEND_MARK}{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ClaimFormatError("the claim time is not ISO-8601") from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
