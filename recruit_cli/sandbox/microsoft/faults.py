"""Fault injection for the Microsoft stand-in: Graph refusing or losing a request on purpose.

Grammar (``faults=`` of ``run_microsoft_sandbox`` or ``set_faults(spec)``), comma-separated::

    429@0.2 / 503@0.2 / drop@0.2    that fraction of requests, drawn from a seeded RNG
    429#3 / 503#3 / drop#3          exactly the 3rd request (1-based; repeat the item for
                                    more, e.g. 429#1,429#2)
    sent_items:503@1                an item prefixed sent_items: applies to the Sent Items
                                    query instead of sendMail (drop: sendMail only)
    retry_after=N                   the Retry-After seconds sent with 429/503 (default 1)
    seed=N                          the RNG seed (default 7)

``drop`` answers nothing: the message is stored as sent, then the connection is closed
without a response ("202, then the connection dropped"). Counting is per target (sendMail
requests, Sent Items queries), retries included, from the moment the spec is set.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

FAULT_KINDS = ("429", "503", "drop")
TARGETS = ("send", "sent_items")


@dataclass(frozen=True)
class FaultSpec:
    """A parsed fault spec (grammar in the module docstring)."""

    fractions: dict[tuple[str, str], float] = field(default_factory=dict)  # (target, kind)
    nths: dict[tuple[str, int], str] = field(default_factory=dict)  # (target, n) -> kind
    retry_after: int = 1
    seed: int = 7

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """Parse ``spec`` ("" or None: no faults).

        Raises:
            ValueError: an item that is not in the grammar.
        """
        fractions: dict[tuple[str, str], float] = {}
        nths: dict[tuple[str, int], str] = {}
        retry_after, seed = 1, 7
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            if item.startswith("retry_after="):
                retry_after = int(item.partition("=")[2])
                continue
            if item.startswith("seed="):
                seed = int(item.partition("=")[2])
                continue
            target = "send"
            if item.startswith("sent_items:"):
                target, item = "sent_items", item.partition(":")[2]
            kind, sep, amount = item.partition("@") if "@" in item else item.partition("#")
            if kind not in FAULT_KINDS or not sep or not amount:
                raise ValueError(f"Microsoft sandbox: bad fault item {raw.strip()!r}")
            if sep == "@":
                fractions[(target, kind)] = float(amount)
            else:
                nths[(target, int(amount))] = kind
        return cls(fractions, nths, retry_after, seed)


class Faults:
    """The current spec, its random sequence and its counters (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spec = FaultSpec()
        self._rng = random.Random(self._spec.seed)
        self._counts: Counter[str] = Counter()

    def set(self, spec: str | None) -> None:
        """Replace the spec; restarts the counters and the random sequence.

        Raises:
            ValueError: the spec does not parse (the old one stays).
        """
        parsed = FaultSpec.parse(spec)
        with self._lock:
            self._spec = parsed
            self._rng = random.Random(parsed.seed)
            self._counts.clear()

    def draw(self, target: str) -> tuple[str | None, int]:
        """Count one request to ``target``; the fault to inject (or None), and Retry-After."""
        with self._lock:
            self._counts[target] += 1
            kind = self._spec.nths.get((target, self._counts[target]))
            if kind is None:
                for k in FAULT_KINDS:
                    fraction = self._spec.fractions.get((target, k), 0.0)
                    if fraction and self._rng.random() < fraction:
                        kind = k
                        break
            if kind == "drop" and target != "send":
                kind = None
            return kind, self._spec.retry_after
