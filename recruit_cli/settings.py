"""The settings object: one frozen tree, loaded once by ``recruit_cli.config``.

Precedence is flag > environment > config file > default. Secrets are resolved from the
environment (or a ``.env`` beside the config) at load time and held in ``Secret`` so that
no repr, log line or error message can show them. Rules (REDCap logic) are parsed at load
time too, once: the tree holds parsed ``Logic`` (its ``.text`` is what the file said), so
a rule that doesn't parse is a config error naming its key, and every pass and check
works from the same parsed rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# At run time, not only for type checking: the config loader reads these annotations.
from recruit_cli.logic import Logic


class Secret:
    """A string that never shows itself in repr/str. Use ``.reveal()`` at the point of use."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Status(StrEnum):
    """Values of the processing-status field. The first six are the legacy pipeline's own."""

    PENDING = "pending"  # blank counts as pending too
    ELIGIBLE_ID_ASSIGNED = "eligible_id_assigned"
    INELIGIBLE = "ineligible"
    MANUAL_REVIEW = "manual_review_required"
    ELIGIBLE_INVITED = "eligible_invited"
    INELIGIBLE_NOTIFIED = "ineligible_notified"
    # Added by recruit:
    ELIGIBLE = "eligible"  # screened eligible and placed in a group, waiting for a study ID
    SAFETY_REVIEW = "safety_review"  # safety rule fired: no automated e-mail, staff alerted


# Status values of a record nobody has screened yet.
BLANK_STATUSES = frozenset({"", Status.PENDING})


def time_zone(name: str) -> ZoneInfo:
    """The study's IANA time zone, or a ConfigError naming ``study.timezone``.

    The config loader refuses a bad zone when it loads; this is the one place the rest of
    recruit turns the name into a zone.
    """
    from recruit_cli.errors import ConfigError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Pacific" is a directory
        raise ConfigError(
            f"unknown time zone {name!r} (use an IANA name like America/New_York)",
            key="study.timezone",
        ) from exc


@dataclass(frozen=True)
class StudySettings:
    name: str
    timezone: str = "UTC"

    def zone(self) -> ZoneInfo:
        return time_zone(self.timezone)

    def now(self) -> datetime:
        """Now, in the study's time zone (timestamps are written with their offset)."""
        return datetime.now(self.zone())


@dataclass(frozen=True)
class RedcapSettings:
    url: str
    token: Secret = field(default_factory=lambda: Secret(""))
    token_env: str = "REDCAP_API_TOKEN"
    timeout: float = 30.0
    batch_size: int = 1000  # records per import call
    verify_tls: bool = True
    # A call that failed transiently (no connection, a timeout, 429, 5xx) is tried this many
    # more times, waiting 0.5 s, 1 s, 2 s, ... (or what Retry-After says), at most
    # retry_max_wait seconds each (redcap.client.BACKOFF).
    retries: int = 3
    retry_max_wait: float = 30.0
    # A whole request (connecting, sending, every byte of the answer) may take this long;
    # ``timeout`` only bounds each wait for the next byte (recruit_cli.deadline).
    max_request_seconds: float = 300.0
    # Answers larger than this are refused (exit 4) and never held in memory whole. 100 MB is
    # 50,000 records at about 2 KB a row (recruit exports only the fields it needs).
    max_response_mb: float = 100.0


@dataclass(frozen=True)
class FieldMap:
    """Logical name -> REDCap field name. Defaults match the legacy pipeline's fields."""

    record_id: str = "record_id"
    status: str = "pipeline_processing_status"
    reasons: str = "pipeline_ineligibility_reasons"
    invited_at: str = "pipeline_invitation_sent_timestamp"
    notified_at: str = "pipeline_ineligible_notification_sent_timestamp"
    study_id: str = "assigned_study_id"
    email: str = "participant_email"
    # Added by recruit (``recruit setup fields`` creates them):
    group: str = "pipeline_group"
    screened_at: str = "pipeline_screened_timestamp"
    # exactly-once claim: "<key>|<state>|<iso time>|<run id>" (outreach.claims); with
    # email_intent, the two registers of outreach's mutual exclusion (outreach.acquire)
    email_claim: str = "pipeline_email_claim"
    email_intent: str = "pipeline_email_intent"  # "<run id>|<iso time>": who last tried
    safety_alerted_at: str = "pipeline_safety_alert_timestamp"
    safety_ack: str = "pipeline_safety_acknowledged"  # staff set this to acknowledge
    # Staff set this (yes) on a record held as a duplicate that is a different person; read
    # only when [duplicates] is configured (screening.duplicates).
    duplicate_ok: str = "pipeline_duplicate_ok"
    # Optional, None when the project has no such field:
    language: str | None = None
    do_not_contact: str | None = None
    submitted_at: str | None = None  # survey timestamp field, for the report
    booked_at: str | None = None  # when the e-consent session was booked, once known

    def written(self) -> frozenset[str]:
        """The pipeline fields recruit writes: the only fields any pass may import.

        Not the record id (the key of every row), nor anything staff or participants fill
        in (the safety acknowledgement, the address, do-not-contact, ...).
        """
        return frozenset(
            {
                self.status,
                self.reasons,
                self.invited_at,
                self.notified_at,
                self.study_id,
                self.group,
                self.screened_at,
                self.email_claim,
                self.email_intent,
                self.safety_alerted_at,
            }
        )


@dataclass(frozen=True)
class Criterion:
    name: str  # stable code stored in REDCap, [a-z][a-z0-9_]*
    require: Logic  # REDCap logic that must be true to stay eligible
    reason: str  # readable text for staff, never sent to participants
    on_unknown: str = "review"  # "review" (default) or "ineligible"
    # "ineligible" (default) or "review": a plausibility check (e.g. a date of birth in the
    # future) whose failure means doubtful data, not an ineligible person.
    on_false: str = "ineligible"


@dataclass(frozen=True)
class Flag:
    """A suspicious-submission check (an attention check, an implausible completion time):
    when its rule is TRUE the record is held for manual review, never made ineligible."""

    name: str  # stable code stored in REDCap, [a-z][a-z0-9_]*
    when: Logic  # REDCap logic; TRUE raises the flag, FALSE or unknown does not
    reason: str  # readable text for staff, never sent to participants


@dataclass(frozen=True)
class ScreeningSettings:
    ready: Logic | None = None  # which submissions are ready to screen (None, or "": all)
    criteria: tuple[Criterion, ...] = ()
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class DuplicateSettings:
    """Which fields together identify a person: each entry is one way to match."""

    # e.g. (("participant_email",), ("first_name", "dob")); empty: no duplicate check
    match: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class QidsSettings:
    total: str | None = None  # self-reported total field
    items: tuple[str, ...] = ()  # or the 16 item fields, in order


@dataclass(frozen=True)
class SafetySettings:
    when: Logic | None = None  # None (or "" in the file): no safety rule
    notify: tuple[str, ...] = ()  # staff addresses for alerts
    name: str = "safety"


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    when: Logic
    first_id: int
    last_id: int
    target: int | None = None  # enrollment target, for the report


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"  # "starttls" | "ssl" | "none"
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    password_env: str = "RECRUIT_SMTP_PASSWORD"
    timeout: float = 30.0
    # One message (connecting included) may take this long; ``timeout`` bounds each reply.
    max_send_seconds: float = 120.0


@dataclass(frozen=True)
class GraphSettings:
    mode: str = "delegated"  # "delegated" (/me) | "shared" (/users/{mailbox}) | "app"
    client_id: str = ""
    tenant_id: str = "organizations"
    authority_host: str = "https://login.microsoftonline.com"
    endpoint: str = "https://graph.microsoft.com/v1.0"
    mailbox: str = ""  # the shared mailbox or the app-only user
    client_secret: Secret = field(default_factory=lambda: Secret(""))
    client_secret_env: str = "RECRUIT_GRAPH_CLIENT_SECRET"
    token_cache: Path | None = None  # default: <state dir>/msal_token_cache.bin
    timeout: float = 30.0
    ca_bundle: Path | None = None  # for tests / TLS-intercepting proxies
    # Seconds a sent message may take to show in Sent Items: an unconfirmed claim younger
    # than this is not sent again (recruit.outreach reconciliation).
    sent_items_grace: float = 600.0
    # A call Graph refused for now (429, 503) or a connection that never opened is tried
    # this many more times, waiting 1 s, 2 s, 4 s, ... (or what Retry-After says), at most
    # retry_max_wait seconds each (msgraph.client.BACKOFF).
    retries: int = 3
    retry_max_wait: float = 60.0
    # A whole Graph request may take this long, and its answer be this large.
    max_request_seconds: float = 60.0
    max_response_mb: float = 1.0


@dataclass(frozen=True)
class EmailSettings:
    transport: str = "outbox"  # "outbox" | "smtp" | "graph"
    sender: str = ""  # From address
    outbox_dir: Path = Path("outbox")
    templates_dir: Path | None = None  # the study's overrides of the shipped templates
    template_version: str = "1"  # part of the idempotency key
    default_language: str = "en"
    booking_url: str = ""
    test_recipient: str | None = None  # redirect every message here
    per_minute: int = 30  # pacing under the mailbox limit; 0 = no pacing
    resend_uncertain: bool = False  # smtp: resend when delivery can't be verified
    # How long a run's open claim holds a record against other recruit runs (other hosts,
    # other state directories): a claim older than this was left by a run that stopped,
    # and is taken over. Longer than any pass runs (see outreach.acquire).
    claim_lease_minutes: float = 60.0
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    graph: GraphSettings = field(default_factory=GraphSettings)


@dataclass(frozen=True)
class ReportSettings:
    out_dir: Path = Path("reports")
    suppress_below: int = 0  # 0 = no small-cell suppression
    recipients: tuple[str, ...] = ()
    # "attachment": the summary in the body and the report as an .html attachment;
    # "inline": the summary in the body and a link (``link``), nothing attached, for mail
    # filters that quarantine .html attachments. No PDF: see docs/configuration.md.
    email_format: str = "attachment"
    link: str = ""  # http(s) URL of the folder out_dir is shared as; the e-mail adds the file


@dataclass(frozen=True)
class OpsSettings:
    healthcheck_url: str = ""
    # How long one run (`recruit run`, a pass, an e-mailed report) may hold the lock: past
    # it the run stops with exit 4, so the next cron run (and its safety alerts) can start.
    max_run_minutes: float = 10.0


@dataclass(frozen=True)
class Settings:
    path: Path | None  # the config file, for messages
    study: StudySettings
    redcap: RedcapSettings
    fields: FieldMap = field(default_factory=FieldMap)
    screening: ScreeningSettings = field(default_factory=ScreeningSettings)
    duplicates: DuplicateSettings = field(default_factory=DuplicateSettings)
    qids: QidsSettings = field(default_factory=QidsSettings)
    safety: SafetySettings = field(default_factory=SafetySettings)
    groups: tuple[Group, ...] = ()
    email: EmailSettings = field(default_factory=EmailSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)
    state_dir: Path = Path(".")  # lock files and the MSAL token cache

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)

    def rules(self) -> tuple[tuple[str, Logic], ...]:
        """Every rule of the configuration with its dotted key, in the file's order.

        E.g. ``("screening.criteria[0].require", <Logic>)``; a rule left blank is absent.
        """
        out: list[tuple[str, Logic | None]] = [("screening.ready", self.screening.ready)]
        out += [
            (f"screening.criteria[{i}].require", c.require)
            for i, c in enumerate(self.screening.criteria)
        ]
        out += [(f"screening.flags[{i}].when", x.when) for i, x in enumerate(self.screening.flags)]
        out.append(("safety.when", self.safety.when))
        out += [(f"groups[{i}].when", g.when) for i, g in enumerate(self.groups)]
        return tuple((key, logic) for key, logic in out if logic is not None)
