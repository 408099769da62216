"""Semantic checks: what the types alone can't say (rules parse, ranges don't overlap, ...).

Each check raises ``ConfigError`` naming the file, the dotted key and its line. Values are
never quoted in messages (a mistyped field could hold an address or a secret); names,
numbers the user chose (ID ranges) and logic positions are.
"""

from __future__ import annotations

import itertools
import math
import re
from urllib.parse import urlsplit

from recruit_cli.address import problem as address_problem
from recruit_cli.config.convert import Context
from recruit_cli.config.lines import KeyPath
from recruit_cli.errors import ConfigError
from recruit_cli.reasons import OWN_CODES, RESERVED, UNEVALUABLE
from recruit_cli.settings import Settings

CODE = re.compile(r"[a-z][a-z0-9_]*")
FIELD = re.compile(r"[a-z][a-z0-9_]*")  # REDCap variable names
GROUP = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LOOKS_LIKE_TOKEN = re.compile(r"[0-9A-Fa-f]{32,}")
VERSION = re.compile(r"[A-Za-z0-9._-]+")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]+)*")
QIDS_ITEMS = 16
MAX_RETRIES = 10  # more would keep a cron run waiting on a service that is down
MAX_RUN_MINUTES = 1440  # a run bound longer than a day bounds nothing a cron job needs

TRANSPORTS = ("outbox", "smtp", "graph")
REPORT_EMAIL_FORMATS = ("attachment", "inline")
GRAPH_MODES = ("delegated", "shared", "app")
SMTP_SECURITY = ("starttls", "ssl", "none")
ON_UNKNOWN = ("review", "ineligible")
ON_FALSE = ("ineligible", "review")


def validate(s: Settings, ctx: Context) -> None:
    """Raise ConfigError for the first semantic problem found."""
    _study(s, ctx)
    _redcap(s, ctx)
    _fields(s, ctx)
    _rules(s, ctx)
    _criteria(s, ctx)
    _flags(s, ctx)
    _duplicates(s, ctx)
    _groups(s, ctx)
    _email(s, ctx)
    _addresses(s, ctx)
    _numbers(s, ctx)


def _study(s: Settings, ctx: Context) -> None:
    if not s.study.name.strip():
        raise ctx.error("the study needs a name", ("study", "name"))
    try:
        s.study.zone()
    except ConfigError as exc:  # re-raised with the file and line
        raise ctx.error(
            f"unknown time zone '{s.study.timezone}' (use an IANA name like America/New_York)",
            ("study", "timezone"),
        ) from exc


def _redcap(s: Settings, ctx: Context) -> None:
    _http_url(s.redcap.url, ctx, ("redcap", "url"), required=True)
    if not 1 <= s.redcap.batch_size <= 10_000:
        raise ctx.error("must be between 1 and 10000 records", ("redcap", "batch_size"))
    for at, name in (
        (("redcap", "token_env"), s.redcap.token_env),
        (("email", "smtp", "password_env"), s.email.smtp.password_env),
        (("email", "graph", "client_secret_env"), s.email.graph.client_secret_env),
    ):
        if LOOKS_LIKE_TOKEN.fullmatch(name):
            raise ctx.error(
                "this names the environment variable that holds the secret, not the secret "
                "itself; put the secret in that variable (or .env) and remove it from here",
                at,
            )
        if not ENV_NAME.fullmatch(name):
            raise ctx.error(
                "must be an environment variable name (letters, digits, underscore)", at
            )


def _fields(s: Settings, ctx: Context) -> None:
    seen: dict[str, str] = {}
    for key, value in vars(s.fields).items():
        if value is None:
            continue
        if not FIELD.fullmatch(value):
            raise ctx.error(
                f"'{value}' is not a REDCap field name (lower-case letters, digits, _)",
                ("fields", key),
            )
        if value in seen:
            raise ctx.error(
                f"'{value}' is already mapped to fields.{seen[value]}: "
                "each logical field needs its own REDCap field",
                ("fields", key),
            )
        seen[value] = key
    if s.qids.total is not None and s.qids.items:
        raise ctx.error("set either 'total' or 'items', not both", ("qids",))
    if s.qids.total is not None and not FIELD.fullmatch(s.qids.total):
        raise ctx.error("not a REDCap field name", ("qids", "total"))
    if s.qids.items:
        if len(s.qids.items) != QIDS_ITEMS:
            raise ctx.error(
                f"QIDS-SR16 needs exactly {QIDS_ITEMS} item fields, got {len(s.qids.items)}",
                ("qids", "items"),
            )
        for i, item in enumerate(s.qids.items):
            if not FIELD.fullmatch(item):
                raise ctx.error("not a REDCap field name", ("qids", "items", i))
        if len(set(s.qids.items)) != QIDS_ITEMS:
            raise ctx.error("the 16 item fields must all differ", ("qids", "items"))


def _rules(s: Settings, ctx: Context) -> None:
    # Every rule was parsed when it was read (config.convert); what is left is what the
    # rules need from the rest of the file.
    uses_qids_total = any("qids_total" in logic.fields for _, logic in s.rules())
    if uses_qids_total and s.qids.total is None and not s.qids.items:
        raise ctx.error(
            "rules use [qids_total] but [qids] sets neither 'total' nor 'items'", ("qids",)
        )


def _criteria(s: Settings, ctx: Context) -> None:
    names: set[str] = set()
    for i, c in enumerate(s.screening.criteria):
        at: KeyPath = ("screening", "criteria", i)
        if not CODE.fullmatch(c.name):
            raise ctx.error(
                f"criterion name '{c.name}' must be lower-case letters, digits and _, "
                "starting with a letter (it is stored in REDCap as a code)",
                (*at, "name"),
            )
        if c.name in names:
            raise ctx.error(f"criterion name '{c.name}' is used twice", (*at, "name"))
        if c.name in RESERVED:
            raise ctx.error(
                f"criterion name '{c.name}' is reserved (it counts reasons recruit does not know)",
                (*at, "name"),
            )
        names.add(c.name)
        if not c.reason.strip() or "\n" in c.reason or "\r" in c.reason:
            raise ctx.error("the reason must be one non-empty line", (*at, "reason"))
        if c.on_unknown not in ON_UNKNOWN:
            raise ctx.error(_one_of(ON_UNKNOWN), (*at, "on_unknown"))
        if c.on_false not in ON_FALSE:
            raise ctx.error(_one_of(ON_FALSE), (*at, "on_false"))
    if not CODE.fullmatch(s.safety.name) or s.safety.name in RESERVED:
        raise ctx.error(
            f"must be lower-case letters, digits and _, and not {' or '.join(sorted(RESERVED))}",
            ("safety", "name"),
        )


def _flags(s: Settings, ctx: Context) -> None:
    # A flag's name is a reason code like a criterion's: it must not be read as another one.
    criteria = {c.name for c in s.screening.criteria}
    taken = criteria | {f"{UNEVALUABLE}{n}" for n in criteria} | {s.safety.name}
    taken |= OWN_CODES | RESERVED
    names: set[str] = set()
    for i, flag in enumerate(s.screening.flags):
        at: KeyPath = ("screening", "flags", i)
        if not CODE.fullmatch(flag.name):
            raise ctx.error(
                f"flag name '{flag.name}' must be lower-case letters, digits and _, "
                "starting with a letter (it is stored in REDCap as a code)",
                (*at, "name"),
            )
        if flag.name in names:
            raise ctx.error(f"flag name '{flag.name}' is used twice", (*at, "name"))
        if flag.name in taken:
            raise ctx.error(
                f"flag name '{flag.name}' is already a criterion's or recruit's own code "
                "(or reserved)",
                (*at, "name"),
            )
        names.add(flag.name)
        if not flag.reason.strip() or "\n" in flag.reason or "\r" in flag.reason:
            raise ctx.error("the reason must be one non-empty line", (*at, "reason"))


def _duplicates(s: Settings, ctx: Context) -> None:
    seen: set[frozenset[str]] = set()
    for i, entry in enumerate(s.duplicates.match):
        at: KeyPath = ("duplicates", "match", i)
        if not entry:
            raise ctx.error("an empty list of fields matches nothing", at)
        for j, name in enumerate(entry):
            if not FIELD.fullmatch(name):
                raise ctx.error("not a REDCap field name", (*at, j))
        if len(set(entry)) != len(entry):
            raise ctx.error("a field is listed twice", at)
        if frozenset(entry) in seen:
            raise ctx.error("the same fields are listed twice", at)
        seen.add(frozenset(entry))


def _groups(s: Settings, ctx: Context) -> None:
    seen: dict[str, int] = {}
    for i, g in enumerate(s.groups):
        if not GROUP.fullmatch(g.name):
            raise ctx.error(
                f"group name '{g.name}' must be letters, digits, _ or -", ("groups", i, "name")
            )
        if g.name in seen:
            raise ctx.error(f"group name '{g.name}' is used twice", ("groups", i, "name"))
        seen[g.name] = i
        if not g.label.strip():
            raise ctx.error("the label is empty", ("groups", i, "label"))
        if g.first_id < 0:
            raise ctx.error("study ids can't be negative", ("groups", i, "first_id"))
        if g.first_id > g.last_id:
            raise ctx.error(
                f"group '{g.name}': first_id {g.first_id} is above last_id {g.last_id}",
                ("groups", i, "first_id"),
            )
        if g.target is not None and g.target < 1:
            raise ctx.error("the enrollment target must be at least 1", ("groups", i, "target"))
    ordered = sorted(enumerate(s.groups), key=lambda pair: pair[1].first_id)
    for (_, low), (j, high) in itertools.pairwise(ordered):
        if high.first_id <= low.last_id:
            raise ctx.error(
                f"group '{high.name}' ids {high.first_id}..{high.last_id} overlap group "
                f"'{low.name}' ids {low.first_id}..{low.last_id}",
                ("groups", j, "first_id"),
            )


def _email(s: Settings, ctx: Context) -> None:
    e = s.email
    if e.transport not in TRANSPORTS:
        raise ctx.error(_one_of(TRANSPORTS), ("email", "transport"))
    if e.smtp.security not in SMTP_SECURITY:
        raise ctx.error(_one_of(SMTP_SECURITY), ("email", "smtp", "security"))
    if e.graph.mode not in GRAPH_MODES:
        raise ctx.error(_one_of(GRAPH_MODES), ("email", "graph", "mode"))
    if e.graph.mode in ("shared", "app") and not e.graph.mailbox.strip():
        raise ctx.error(
            f'mode "{e.graph.mode}" sends from a mailbox: set email.graph.mailbox',
            ("email", "graph", "mailbox"),
        )
    if e.transport == "graph" and not e.graph.client_id.strip():
        raise ctx.error(
            'transport "graph" needs the app registration\'s client_id',
            ("email", "graph", "client_id"),
        )
    _http_url(e.graph.authority_host, ctx, ("email", "graph", "authority_host"), required=True)
    _http_url(e.graph.endpoint, ctx, ("email", "graph", "endpoint"), required=True)
    _http_url(e.booking_url, ctx, ("email", "booking_url"), required=False)
    _http_url(s.ops.healthcheck_url, ctx, ("ops", "healthcheck_url"), required=False)
    if not VERSION.fullmatch(e.template_version):
        raise ctx.error(
            "must be letters, digits, '.', '_' or '-' (it is part of the idempotency key)",
            ("email", "template_version"),
        )
    if not LANGUAGE.fullmatch(e.default_language):
        raise ctx.error("must be a language code such as 'en'", ("email", "default_language"))


def _addresses(s: Settings, ctx: Context) -> None:
    # Staff addresses: the same test as participants' (recruit_cli.address), so a typo is
    # caught at load, not at the first send; still never quoted back.
    single: list[tuple[KeyPath, str | None]] = [
        (("email", "sender"), s.email.sender or None),
        (("email", "test_recipient"), s.email.test_recipient),
        (("email", "graph", "mailbox"), s.email.graph.mailbox or None),
    ]
    single += [(("safety", "notify", i), a) for i, a in enumerate(s.safety.notify)]
    single += [(("report", "recipients", i), a) for i, a in enumerate(s.report.recipients)]
    for at, address in single:
        why = None if address is None else address_problem(address)
        if why is not None:
            raise ctx.error(f"not an e-mail address ({why})", at)


def _numbers(s: Settings, ctx: Context) -> None:
    positive = [
        (("redcap", "timeout"), s.redcap.timeout),
        (("email", "smtp", "timeout"), s.email.smtp.timeout),
        (("email", "graph", "timeout"), s.email.graph.timeout),
    ]
    if s.email.graph.sent_items_grace < 0:
        raise ctx.error("must be 0 or more seconds", ("email", "graph", "sent_items_grace"))
    retrying: list[tuple[KeyPath, int, float]] = [
        (("redcap",), s.redcap.retries, s.redcap.retry_max_wait),
        (("email", "graph"), s.email.graph.retries, s.email.graph.retry_max_wait),
    ]
    for table, retries, max_wait in retrying:
        if not 0 <= retries <= MAX_RETRIES:
            raise ctx.error(f"must be 0 (no retry) to {MAX_RETRIES}", (*table, "retries"))
        if not 0 <= max_wait < math.inf:  # nan and inf too: TOML has both
            raise ctx.error("must be 0 or more seconds", (*table, "retry_max_wait"))
    for at, seconds in positive:
        if seconds <= 0:
            raise ctx.error("must be a positive number of seconds", at)
    _bounds(s, ctx)
    if not 1 <= s.email.smtp.port <= 65535:
        raise ctx.error("must be a TCP port (1-65535)", ("email", "smtp", "port"))
    _lease(s, ctx)
    if s.email.per_minute < 0:
        raise ctx.error("must be 0 (no pacing) or more", ("email", "per_minute"))
    if s.report.suppress_below < 0:
        raise ctx.error("must be 0 (no suppression) or more", ("report", "suppress_below"))
    if s.report.email_format not in REPORT_EMAIL_FORMATS:
        raise ctx.error(_one_of(REPORT_EMAIL_FORMATS), ("report", "email_format"))
    _http_url(s.report.link, ctx, ("report", "link"), required=False)


def _bounds(s: Settings, ctx: Context) -> None:
    # The run's and each call's wall-clock bounds and the answer size caps (nan and inf
    # too: TOML has both, and neither bounds anything).
    bounds: list[tuple[KeyPath, float, str]] = [
        (("redcap", "max_request_seconds"), s.redcap.max_request_seconds, "seconds"),
        (("redcap", "max_response_mb"), s.redcap.max_response_mb, "MB"),
        (("email", "smtp", "max_send_seconds"), s.email.smtp.max_send_seconds, "seconds"),
        (("email", "graph", "max_request_seconds"), s.email.graph.max_request_seconds, "seconds"),
        (("email", "graph", "max_response_mb"), s.email.graph.max_response_mb, "MB"),
    ]
    for at, value, unit in bounds:
        if not 0 < value < math.inf:
            raise ctx.error(f"must be a positive number of {unit}", at)
    if not 0 < s.ops.max_run_minutes <= MAX_RUN_MINUTES:
        raise ctx.error(
            f"must be more than 0 and at most {MAX_RUN_MINUTES} minutes (a day)",
            ("ops", "max_run_minutes"),
        )


def _lease(s: Settings, ctx: Context) -> None:
    # Nothing else to check at load: a run never uses its claim past LEASE_USABLE of the
    # lease (outreach.acquire), so any positive lease is safe; one shorter than a pass
    # only leaves that pass's last records to a later one.
    if not 0 < s.email.claim_lease_minutes < math.inf:
        raise ctx.error("must be a positive number of minutes", ("email", "claim_lease_minutes"))


def _http_url(url: str, ctx: Context, at: KeyPath, *, required: bool) -> None:
    if not url and not required:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ctx.error("must be an http:// or https:// URL", at)


def _one_of(options: tuple[str, ...]) -> str:
    return "must be one of " + ", ".join(f'"{o}"' for o in options)
