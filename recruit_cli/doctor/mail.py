"""Doctor's checks of the e-mail side of a configuration, all offline.

Everything here runs without sending anything: the settings a message needs, every
shipped or study template rendered with sample data (all kinds, all language variants),
and for Graph whether someone is signed in (read from the token cache, no network).
What they catch would otherwise surface only when the first invitation is due, after
screening and assignment have already written.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from recruit_cli.doctor.check import FAIL, OK, Check
from recruit_cli.errors import RecruitError
from recruit_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from recruit_cli.settings import Settings

SAMPLE_ADDRESS = "participant@example.org"
SAMPLES: dict[str, dict[str, Any]] = {
    "invite": {"study_id": "3000"},
    "ineligible": {},
    "safety_alert": {
        "record_id": "1",
        "rule": "safety",
        "fired_at": "2026-01-05T09:00:00+00:00",
        "ack_field": "pipeline_safety_acknowledged",
    },
    "report": {
        "period": "2026-W01",
        "summary": [("submitted", "0")],
        "attached": True,
        "filename": "enrollment-2026-W01.html",
        "report_link": "",
    },
}


def mail_checks(settings: Settings) -> list[Check]:
    """The e-mail checklist rows: settings, templates, and Microsoft sign-in for Graph."""
    email = settings.email
    missing = [
        key
        for key, value in (("sender", email.sender), ("booking_url", email.booking_url))
        if not value.strip()
    ]
    if missing:
        keys = ", ".join(f"email.{k}" for k in missing)
        return [
            Check(
                "e-mail settings", FAIL, f"{keys} not set: no message can be sent", ExitCode.CONFIG
            )
        ]
    checks = [Check("e-mail settings", OK, f"{email.transport}, from {email.sender}")]
    checks.append(_templates(settings))
    if email.transport == "graph":
        checks.append(_graph_sign_in(settings))
    return checks


def _templates(settings: Settings) -> Check:
    from recruit_cli.mail.compose import compose
    from recruit_cli.mail.templates import get_templates

    templates = get_templates(settings.email.templates_dir, settings.email.default_language)
    rendered = 0
    try:
        for kind, context in SAMPLES.items():
            for language in templates.kinds().get(kind, [None]):
                compose(
                    settings,
                    kind,
                    context,
                    to=[SAMPLE_ADDRESS],
                    key=f"doctor:{kind}:{settings.email.template_version}",
                    record_id="doctor",
                    language=language,
                )
                rendered += 1
    except RecruitError as exc:
        return Check("e-mail templates", FAIL, str(exc), exc.exit_code)
    where = settings.email.templates_dir or "shipped"
    return Check("e-mail templates", OK, f"{rendered} message sets render ({where})")


def _graph_sign_in(settings: Settings) -> Check:
    from recruit_cli.msgraph.auth import MicrosoftAuth

    try:
        status = MicrosoftAuth.from_settings(settings).status()
    except RecruitError as exc:
        return Check("Microsoft sign-in", FAIL, str(exc), exc.exit_code)
    if not status.signed_in:
        detail = "nobody is signed in: run `recruit auth login`"
        return Check("Microsoft sign-in", FAIL, detail, ExitCode.AUTH)
    who = status.username or "app (client credentials)"
    if status.expires_at and status.mode != "app":
        when = status.expires_at.astimezone(UTC).isoformat(timespec="minutes")
        who += f"; access token until {when} (refreshed silently)"
    return Check("Microsoft sign-in", OK, who)
