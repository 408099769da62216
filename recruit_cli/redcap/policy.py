"""Which REDCap calls may be sent again, and how REDCap's array parameters are spelled.

How long to wait between attempts is ``recruit_cli.retry``'s, shared with Microsoft Graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class Retry(Enum):
    """Whether a call may be sent again after a transient failure."""

    SAFE = "safe"  # reads and value imports: repeating changes nothing
    NEVER = "never"  # forceAutoNumber / metadata imports: report the failure at once


def array(name: str, values: Sequence[str] | None) -> dict[str, str]:
    """REDCap's array parameters, PyCap style: ``fields[0]=a&fields[1]=b``."""
    items = [values] if isinstance(values, str) else list(values or ())
    return {f"{name}[{i}]": str(v) for i, v in enumerate(items)}


def describe(payload: Mapping[str, str]) -> str:
    """``content=record action=import``: names the call, never its data or token."""
    call = f"content={payload.get('content', '?')}"
    action = payload.get("action")
    return f"{call} action={action}" if action else call
