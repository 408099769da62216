"""When a REDCap call may be sent again, and how long to wait before it does."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from enum import Enum

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class Retry(Enum):
    """Whether a call may be sent again after a transient failure."""

    SAFE = "safe"  # reads and value imports: repeating changes nothing
    NEVER = "never"  # forceAutoNumber / metadata imports: report the failure at once


class Transient(Exception):
    """A failure worth another attempt. Internal: callers see RedcapUnavailable."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def wait_seconds(
    exc: BaseException | None, attempt: int, *, backoff_base: float, max_wait: float
) -> float:
    """``Retry-After`` when the server gave one, else exponential backoff with jitter
    (so that several clients don't retry in step); never more than ``max_wait``."""
    if isinstance(exc, Transient) and exc.retry_after is not None:
        return min(exc.retry_after, max_wait)
    backoff: float = backoff_base * 2 ** (attempt - 1)
    return min(backoff + random.uniform(0, backoff_base), max_wait)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header; None for an HTTP date, garbage or none."""
    value = headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None  # fall back to our own backoff
    return max(0.0, seconds)


def array(name: str, values: Sequence[str] | None) -> dict[str, str]:
    """REDCap's array parameters, PyCap style: ``fields[0]=a&fields[1]=b``."""
    items = [values] if isinstance(values, str) else list(values or ())
    return {f"{name}[{i}]": str(v) for i, v in enumerate(items)}


def describe(payload: Mapping[str, str]) -> str:
    """``content=record action=import``: names the call, never its data or token."""
    call = f"content={payload.get('content', '?')}"
    action = payload.get("action")
    return f"{call} action={action}" if action else call
