"""Named fault points, so tests can SIGKILL a pass at an exact step.

Why production code carries this: recruit's worst bugs (an e-mail sent twice or never, one
person with two study IDs) live in the gaps between a REDCap write and a send. The only
honest test of those gaps is a real ``kill -9`` of the real ``recruit`` process at each of
them, and that needs a marker at each step. A marker costs one environment lookup.

Production code calls ``crash_point("outreach.after_claim")`` between the steps of a
sequence whose every interleaving must be safe. With ``RECRUIT_CRASH_AT`` unset (always, in
production) it does nothing. In a test, ``RECRUIT_CRASH_AT=outreach.after_claim:3`` makes
the process kill itself with SIGKILL the third time that point is reached: no ``finally``
blocks, no flushing, exactly what ``kill -9`` from cron's host would do. Several points may
be listed, comma-separated.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV_VAR = "RECRUIT_CRASH_AT"
_reached: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if ``$RECRUIT_CRASH_AT`` names this point."""
    spec = os.environ.get(ENV_VAR, "")
    if not spec:
        return
    for item in spec.split(","):
        point, _, nth = item.strip().partition(":")
        if point != name:
            continue
        _reached[name] += 1
        if _reached[name] >= (int(nth) if nth.isdigit() else 1):
            os.kill(os.getpid(), signal.SIGKILL)
