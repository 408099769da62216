"""What invite and notify share: the participant's fields, address checks and language."""

from __future__ import annotations

from recruit_cli.address import problem
from recruit_cli.outreach.plan import Row
from recruit_cli.settings import Settings


def participant_fields(settings: Settings, *extra: str) -> tuple[str, ...]:
    """The fields a participant-mail pass exports (only these, never the answers)."""
    f = settings.fields
    names = [f.record_id, f.status, f.reasons, f.email, f.email_claim, *extra]
    names += [name for name in (f.language, f.do_not_contact) if name]
    return tuple(dict.fromkeys(names))


def status_filter(settings: Settings, status: str) -> str:
    return f"[{settings.fields.status}] = '{status}'"


def address_problem(settings: Settings, row: Row) -> str | None:
    """A review reason when recruit can't send to the address field, else None.

    The test screening and ``compose`` apply (``recruit_cli.address``), asked before
    anything is claimed. The value itself never appears in the reason.
    """
    field = settings.fields.email
    value = row.get(field, "")
    if not value.strip():
        return f"email_missing: {field} is blank"
    why = problem(value)
    if why is not None:
        return f"email_invalid: {field} is not a usable e-mail address ({why})"
    return None


def address(settings: Settings, row: Row) -> str:
    return row.get(settings.fields.email, "").strip()


def language(settings: Settings, row: Row) -> str | None:
    """The participant's language value; ``compose`` falls back to the default if unusable."""
    name = settings.fields.language
    return (row.get(name, "").strip() or None) if name else None
