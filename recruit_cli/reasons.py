"""The reason codes recruit writes to REDCap's reasons field, and reading them back.

The reasons field holds one ``<code>: <text>`` line per reason. recruit writes it, but it is
a notes field in a project staff work in: they type notes there, and older scripts left
their own free text. Whatever is read back from it (``recruit status``, ``--json``, the
weekly report) shows and counts only the codes recruit knows, defined here once:

- the configured criteria (``[[screening.criteria]] name``), the ``unevaluable_<name>`` of
  each, the flags (``[[screening.flags]] name``) and the safety rule's name
  (``[safety] name``);
- recruit's own codes, below (screening, assignment and outreach write them).

Any other line counts as ``OTHER``; its text is never shown (it may name or describe a
person).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recruit_cli.settings import Settings

# Screening (screening/classify.py, screening/screen.py).
SAFETY_UNKNOWN = "safety_unknown"
QIDS_INVALID = "qids_invalid"
UNEVALUABLE = "unevaluable_"  # + a criterion's name
EMAIL_MISSING = "email_missing"
EMAIL_INVALID = "email_invalid"
NO_GROUPS = "no_groups"
UNEVALUABLE_GROUP = "unevaluable_group"
AMBIGUOUS_GROUP = "ambiguous_group"
BETWEEN_GROUPS = "between_groups"
SAFETY_ACKNOWLEDGED = "safety_acknowledged"
DUPLICATE = "duplicate"  # a later submission by a person already in the project (duplicates.py)
# Assignment (screening/assign.py).
UNKNOWN_GROUP = "unknown_group"
# Outreach (outreach/plan.py, invite.py, participant.py, send.py).
STUDY_ID_MISSING = "study_id_missing"
STUDY_ID_INVALID = "study_id_invalid"
CLAIM_INVALID = "claim_invalid"
DELIVERY_UNCERTAIN = "delivery_uncertain"
DO_NOT_CONTACT = "do_not_contact"
KEY_INVALID = "key_invalid"
MESSAGE_REFUSED = "message_refused"

OWN_CODES = frozenset(
    {
        SAFETY_UNKNOWN,
        QIDS_INVALID,
        EMAIL_MISSING,
        EMAIL_INVALID,
        NO_GROUPS,
        UNEVALUABLE_GROUP,
        AMBIGUOUS_GROUP,
        BETWEEN_GROUPS,
        SAFETY_ACKNOWLEDGED,
        DUPLICATE,
        UNKNOWN_GROUP,
        STUDY_ID_MISSING,
        STUDY_ID_INVALID,
        CLAIM_INVALID,
        DELIVERY_UNCERTAIN,
        DO_NOT_CONTACT,
        KEY_INVALID,
        MESSAGE_REFUSED,
    }
)
# What a line recruit does not recognise counts as (a note staff typed, an older script's
# text): its own wording is never shown. Reserved: no criterion may be named so.
OTHER = "other"
RESERVED = frozenset({OTHER, "unspecified"})

_LINE = re.compile(r"\s*([a-z][a-z0-9_]*)\s*:")


def known_codes(settings: Settings) -> frozenset[str]:
    """Every code recruit may have written for this study (see the module docstring)."""
    criteria = {c.name for c in settings.screening.criteria}
    return frozenset(
        OWN_CODES
        | criteria
        | {f"{UNEVALUABLE}{name}" for name in criteria}
        | flag_codes(settings)
        | {settings.safety.name}
    )


def flag_codes(settings: Settings) -> frozenset[str]:
    """The codes of the configured flags (``[[screening.flags]] name``)."""
    return frozenset(f.name for f in settings.screening.flags)


def line_code(line: str, known: frozenset[str]) -> str | None:
    """The code of one line of the reasons field: a known code, ``OTHER``, or None (blank)."""
    if not line.strip():
        return None
    found = _LINE.match(line)
    return found.group(1) if found and found.group(1) in known else OTHER


def codes(reasons: str, known: frozenset[str]) -> tuple[str, ...]:
    """The codes of a reasons field, in order and once each (``OTHER`` for the rest)."""
    found = (line_code(line, known) for line in reasons.splitlines())
    return tuple(dict.fromkeys(code for code in found if code is not None))
