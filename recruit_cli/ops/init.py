"""`recruit init [DIR]`: scaffold a study directory a coordinator can fill in.

It writes ``recruit.toml`` (every key, commented), ``.env.example`` (the secrets, which never
go in the config file), ``.gitignore`` (.env, outbox/, reports/, state/) and
``templates/email/`` (copies of the shipped e-mail templates, each headed by a comment
listing the variables it can use). Existing files are never overwritten unless ``force`` is
set, and nothing is written at all when any would be refused, so a half-scaffolded
directory can't happen. An existing ``.gitignore`` is never touched, even with ``force``
(it is the user's, with their own entries); the result then says what it should list.

The configuration and templates hold no secret and no participant data and are meant to be
reviewed and versioned, so they get the umask's usual mode; ``.env.example`` is 0600, so
that the ``.env`` copied from it (``cp`` keeps the mode) starts private.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recruit_cli.errors import UsageError
from recruit_cli.private import write_private
from recruit_cli.shipped import shipped

ENV_EXAMPLE = """\
# Secrets for recruit. Copy this file to .env (beside recruit.toml) and fill it in, or set
# the variables in the environment cron runs with. Never put them in recruit.toml.
# Keep .env out of version control and readable only by you: chmod 600 .env

# The REDCap API token of the project (32 hex characters). Its user needs API export and
# API import rights (and Project Design rights for `recruit setup fields --apply`, Logging
# rights for submission dates in the report unless [fields] submitted_at is set).
REDCAP_API_TOKEN=

# Only for [email] transport = "smtp" with a username:
# RECRUIT_SMTP_PASSWORD=

# Only for [email.graph] mode = "app" (client credentials):
# RECRUIT_GRAPH_CLIENT_SECRET=
"""

# The study directory may well go into version control (the configuration and templates
# deserve a history); the secrets and anything holding participant data must not.
GITIGNORE = """\
# Written by `recruit init`: what must never be committed.
# The secrets (the REDCap token, passwords).
.env
# E-mails written by the outbox transport: they hold participants' addresses.
outbox/
# Weekly reports (aggregates, but for the study team only) and recruit's lock files and
# Microsoft sign-in cache.
reports/
state/
"""

TEMPLATE_HEADERS = {
    "invite": "study_id, booking_url, study_name, contact_email",
    "ineligible": "study_name, contact_email (never state the reason)",
    "safety_alert": "record_id, rule, fired_at, ack_field, study_name (never answers);"
    " record_problem only for a record whose id recruit refused (test: is defined)",
    "report": "period, summary (list of (label, value)), attached, filename, report_link",
}


@dataclass(frozen=True)
class InitResult:
    directory: Path
    written: tuple[Path, ...]
    notices: tuple[str, ...] = ()


def plan_files(directory: Path) -> dict[Path, str]:
    """Every file ``init`` would write, with its content."""
    files: dict[Path, str] = {
        directory / "recruit.toml": shipped("recruit.example.toml").read_text(encoding="utf-8"),
        directory / ".env.example": ENV_EXAMPLE,
        directory / ".gitignore": GITIGNORE,
    }
    email_dir = shipped("email")
    files[directory / "templates" / "email" / "README.md"] = email_dir.joinpath(
        "README.md"
    ).read_text(encoding="utf-8")
    for item in sorted(_walk(email_dir), key=lambda t: t.name):
        kind = item.name.split(".", 1)[0]
        variables = TEMPLATE_HEADERS.get(kind, "see the shipped template")
        header = (
            f"{{#- {item.name}: your study's copy; it overrides the shipped template.\n"
            f"    Variables: {variables}.\n"
            "    Delete this file to go back to the shipped one. -#}\n"
        )
        files[directory / "templates" / "email" / item.name] = header + item.read_text(
            encoding="utf-8"
        )
    return files


def _walk(folder: Path) -> list[Path]:
    return [item for item in folder.iterdir() if item.is_file() and item.name.endswith(".j2")]


def init_study(directory: Path, *, force: bool = False) -> InitResult:
    """Write the scaffold into ``directory``; refuse (writing nothing) if a file exists."""
    files = plan_files(directory)
    notices: list[str] = []
    gitignore = directory / ".gitignore"
    if gitignore.exists():
        del files[gitignore]
        notices.append(
            f"{gitignore} exists and was left as it is: make sure it lists .env, outbox/, "
            "reports/ and state/ (secrets and participants' addresses)"
        )
    existing = [path for path in files if path.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing[:3]) + (" …" if len(existing) > 3 else "")
        raise UsageError(f"refusing to overwrite existing files ({names}); use --force")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name == ".env.example":
            # Not secret itself, but `cp .env.example .env` copies its mode: the .env made
            # from it is private before anyone remembers to chmod it.
            write_private(path, text.encode("utf-8"))
            continue
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return InitResult(directory=directory, written=tuple(files), notices=tuple(notices))
