"""Fault injection: a compact spec that makes the sandbox misbehave on purpose.

Grammar (comma-separated items, whitespace ignored)::

    STATUS@N                  the N-th request (1-based) answers STATUS
    STATUS:P                  a fraction P (0..1) of requests answer STATUS
                              STATUS is one of 429 500 502 503 504; 429 and 503 carry
                              Retry-After
    delay=S                   every response waits S seconds (after the work is done)
    delay:P=S                 a fraction P of responses wait S seconds
    drop@N                    the N-th request: connection closed, nothing applied
    drop:P                    a fraction P of requests: connection closed, nothing applied
    drop-after-commit@N       the N-th write is applied and committed, then the
                              connection is closed with no response
    drop-after-commit:P       a fraction P of writes, likewise
    retry-after=S             the Retry-After value (default 1)
    locked=ID                 record ID is locked: every import touching it is refused
                              (HTTP 400, nothing applied); repeat for several records
    seed=N                    seed of the random draws (default 0): same spec, same faults

Requests are counted from the moment the spec is set. Failures happen before the request
is processed (nothing is applied); delays and drop-after-commit after it.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

from recruit_cli.errors import UsageError

STATUSES = frozenset({429, 500, 502, 503, 504})
_ITEM = re.compile(
    r"^(?:(?P<status>\d{3})(?P<sop>[@:])(?P<sarg>[\d.]+)"
    r"|delay(?::(?P<dprob>[\d.]+))?=(?P<dsec>[\d.]+)"
    r"|(?P<drop>drop-after-commit|drop)(?P<dop>[@:])(?P<darg>[\d.]+)"
    r"|retry-after=(?P<retry>\d+)"
    r"|locked=(?P<locked>[^,\s]+)"
    r"|seed=(?P<seed>\d+))$"
)


@dataclass(frozen=True)
class Rule:
    kind: str  # "status" | "delay" | "drop" | "drop-after-commit"
    nth: int | None = None
    probability: float = 0.0
    status: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class FaultSpec:
    text: str = ""
    rules: tuple[Rule, ...] = ()
    retry_after: int = 1
    seed: int = 0
    locked: frozenset[str] = frozenset()  # record ids whose imports are refused


def _probability(value: str, item: str) -> float:
    p = float(value)
    if not 0.0 <= p <= 1.0:
        raise UsageError(f"fault {item!r}: the fraction must be between 0 and 1")
    return p


def _nth(value: str, item: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"fault {item!r}: N must be a whole number >= 1")
    return int(value)


def parse_faults(text: str | None) -> FaultSpec:
    """Parse a fault spec ("" or None: no faults).

    Raises:
        UsageError: naming the item that does not parse.
    """
    if not text or not text.strip():
        return FaultSpec()
    rules: list[Rule] = []
    retry_after, seed = 1, 0
    locked: set[str] = set()
    for raw in text.split(","):
        item = raw.strip().replace(" ", "")
        if not item:
            continue
        m = _ITEM.match(item)
        if m is None:
            raise UsageError(f"fault {item!r} does not parse (see docs/sandbox.md)")
        try:
            if m["status"]:
                status = int(m["status"])
                if status not in STATUSES:
                    raise UsageError(f"fault {item!r}: status must be one of {sorted(STATUSES)}")
                if m["sop"] == "@":
                    rules.append(Rule("status", nth=_nth(m["sarg"], item), status=status))
                else:
                    p = _probability(m["sarg"], item)
                    rules.append(Rule("status", probability=p, status=status))
            elif m["dsec"]:
                p = _probability(m["dprob"], item) if m["dprob"] else 1.0
                rules.append(Rule("delay", probability=p, seconds=float(m["dsec"])))
            elif m["drop"]:
                if m["dop"] == "@":
                    rules.append(Rule(m["drop"], nth=_nth(m["darg"], item)))
                else:
                    rules.append(Rule(m["drop"], probability=_probability(m["darg"], item)))
            elif m["retry"]:
                retry_after = int(m["retry"])
            elif m["locked"]:
                locked.add(m["locked"])
            else:
                seed = int(m["seed"])
        except ValueError as exc:
            raise UsageError(f"fault {item!r}: {exc}") from exc
    return FaultSpec(
        text=text.strip(),
        rules=tuple(rules),
        retry_after=retry_after,
        seed=seed,
        locked=frozenset(locked),
    )


@dataclass(frozen=True)
class Decision:
    """What happens to one request."""

    status: int | None = None  # answer this error instead of processing
    drop: bool = False  # close the connection before processing
    drop_after_commit: bool = False  # if it is a write that commits, close afterwards
    delay: float = 0.0


@dataclass
class Faults:
    """The live fault state; thread-safe, swappable at run time with ``set``."""

    spec: FaultSpec = field(default_factory=FaultSpec)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=random.Random)
    _requests: int = 0
    _writes: int = 0

    def set(self, text: str | None) -> None:
        spec = parse_faults(text)
        with self._lock:
            self.spec = spec
            self._rng = random.Random(spec.seed)
            self._requests = 0
            self._writes = 0

    def decide(self) -> Decision:
        """Draw this request's fate. Every rule draws once, so a seed replays exactly."""
        with self._lock:
            self._requests += 1
            n = self._requests
            status, drop, after, delay = None, False, False, 0.0
            for rule in self.spec.rules:
                hit = rule.nth == n if rule.nth is not None else False
                if rule.nth is None and rule.kind != "drop-after-commit":
                    hit = self._rng.random() < rule.probability
                if rule.kind == "status" and hit and status is None:
                    status = rule.status
                elif rule.kind == "drop" and hit:
                    drop = True
                elif rule.kind == "delay" and hit:
                    delay = max(delay, rule.seconds)
                elif rule.kind == "drop-after-commit":
                    after = after or rule.nth is not None or rule.probability > 0
            return Decision(status=status, drop=drop, drop_after_commit=after, delay=delay)

    def drop_this_write(self) -> bool:
        """Called once per committed write: does drop-after-commit strike it?"""
        with self._lock:
            self._writes += 1
            n = self._writes
            struck = False
            for rule in self.spec.rules:
                if rule.kind != "drop-after-commit":
                    continue
                if rule.nth is not None:
                    struck = struck or rule.nth == n
                else:
                    struck = self._rng.random() < rule.probability or struck
            return struck

    @property
    def retry_after(self) -> int:
        return self.spec.retry_after

    @property
    def locked(self) -> frozenset[str]:
        """Record ids locked by the spec (``locked=ID``)."""
        return self.spec.locked
