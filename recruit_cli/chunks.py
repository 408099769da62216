"""``chunks``: consecutive slices of a sequence (REDCap import batches, outreach windows)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (a size below 1 counts as 1)."""
    step = max(1, size)
    for start in range(0, len(items), step):
        yield items[start : start + step]
