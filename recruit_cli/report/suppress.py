"""Small-cell suppression, with complementary suppression over the report's sums.

Primary suppression hides every count from 1 to ``threshold - 1`` (zero is shown: it names
nobody). That alone is not enough: when a table shows a total and all but one of its parts,
the hidden part is the total minus the others. So the report also declares its *equations*
(``total = part + part + ...``: the screening outcomes add up to "screened", the groups add up
to a week's total, a number shown twice is one number) and, while some equation has exactly
one hidden cell, one more cell of it is hidden: the smallest non-zero part, else the total.

This is the classic heuristic, not a full audit: it guarantees that no hidden cell can be
read off any single published equation. Combining several equations, or reports from
different weeks, can still narrow a hidden cell down; keep ``suppress_below`` for audiences
that need it and share unsuppressed reports only with the study team.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

Equation = tuple[K, Sequence[K]]  # (total, parts)


def suppress(
    values: Mapping[K, int],
    equations: Sequence[tuple[K, Sequence[K]]],
    threshold: int,
) -> dict[K, int | None]:
    """Return ``values`` with suppressed cells as ``None``.

    Args:
        values: every published count, by cell key.
        equations: ``(total, parts)``: the published relation ``total == sum(parts)``.
            Keys missing from ``values`` are ignored. Equations may chain: hiding a cell to
            protect one equation re-checks the others, until nothing changes.
        threshold: counts ``1 .. threshold - 1`` are hidden; 0 or 1 turns suppression off.
    """
    if threshold <= 1:
        return dict(values)
    hidden = {key for key, value in values.items() if 0 < value < threshold}
    order = {key: index for index, key in enumerate(values)}  # ties break by declaration order
    relations = [
        (total, [p for p in parts if p in values])
        for total, parts in equations
        if total in values and any(p in values for p in parts)
    ]
    changed = bool(hidden)
    while changed:
        changed = False
        for total, parts in relations:
            cells = [total, *parts]
            if sum(1 for c in cells if c in hidden) != 1:
                continue
            candidates = [p for p in parts if p not in hidden] or [total]
            # The smallest non-zero part tells least about the hidden one; a zero only if
            # nothing else is left.
            pick = min(candidates, key=lambda c: (values[c] == 0, values[c], order[c]))
            hidden.add(pick)
            changed = True
    return {key: (None if key in hidden else value) for key, value in values.items()}
