"""Checks of the configuration on its own: its rules, the ID ranges, who safety alerts reach.

Loading has already refused what is plainly wrong (a rule that doesn't parse, overlapping
ranges); these rows say so in the checklist and warn about what loading accepts.
"""

from __future__ import annotations

import itertools

from recruit_cli.doctor.check import FAIL, OK, WARN, Check
from recruit_cli.exit_codes import ExitCode
from recruit_cli.settings import Settings


def check_rules(settings: Settings) -> Check:
    """The rules parsed when the configuration loaded (one that didn't stopped the load)."""
    return Check("rules parse", OK, f"{len(settings.rules())} rules")


def check_ranges(settings: Settings) -> Check:
    spans = sorted((g.first_id, g.last_id, g.name) for g in settings.groups)
    bad = [f"{a[2]} and {b[2]}" for a, b in itertools.pairwise(spans) if b[0] <= a[1]]
    bad += [f"{g.name} (first_id > last_id)" for g in settings.groups if g.first_id > g.last_id]
    if bad:
        return Check("group ID ranges", FAIL, "overlap: " + ", ".join(bad), ExitCode.CONFIG)
    return Check("group ID ranges", OK, f"{len(settings.groups)} disjoint ranges")


def check_safety(settings: Settings) -> Check:
    """Warn when a safety match would reach nobody but the log (or nothing can match)."""
    if settings.safety.when is None:
        return Check("safety alerts", WARN, "no [safety] when rule: nobody is held for review")
    if not settings.safety.notify:
        # The pass still holds such records in safety_review, but staff hear of it only
        # through the log and exit code 5 (see outreach.safety).
        return Check("safety alerts", WARN, "no [safety] notify addresses: alerts only in the log")
    return Check("safety alerts", OK, f"{len(settings.safety.notify)} recipient(s)")
