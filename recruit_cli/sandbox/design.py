"""The project's shape beyond its data dictionary: arms, events, which instruments each event
holds, repeating instruments and events, and survey-enabled instruments.

A classic project has no events: every row lives in the event ``""``. A longitudinal project
has at least one arm with events; REDCap derives each event's unique name from its label
and arm (``"Deadline to opt out of study"`` in arm 2 -> ``deadline_to_opt_ou_arm_2``, as
PyCap's longitudinal test project records). The design is kept as one JSON setting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace

_NOT_NAME = re.compile(r"[^a-z0-9]+")
UNIQUE_STEM = 18  # REDCap keeps this many characters of the label in the unique event name


@dataclass(frozen=True)
class Arm:
    num: int
    name: str


@dataclass(frozen=True)
class Event:
    unique_name: str
    name: str  # the label ("Enrollment")
    arm_num: int
    event_id: int
    day_offset: str = "0"
    offset_min: str = "0"
    offset_max: str = "0"
    custom_label: str = ""


@dataclass(frozen=True)
class Repeating:
    """One repeating setting: an instrument in an event, or (form "") a whole event."""

    event: str  # unique event name; "" in a classic project
    form: str  # "" for a repeating event
    custom_label: str = ""


@dataclass(frozen=True)
class Design:
    is_longitudinal: bool = False  # REDCap's "longitudinal" setting; events imply it
    arms: tuple[Arm, ...] = ()
    events: tuple[Event, ...] = ()
    mapping: tuple[tuple[str, str], ...] = ()  # (unique event name, form), in event order
    repeating: tuple[Repeating, ...] = ()
    surveys: tuple[str, ...] = ()
    _by_event: Mapping[str, Event] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_event", {e.unique_name: e for e in self.events})

    # -- persistence ----------------------------------------------------------------------

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("_by_event", None)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str | None) -> Design:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            is_longitudinal=bool(data.get("is_longitudinal", False)),
            arms=tuple(Arm(**a) for a in data.get("arms", [])),
            events=tuple(Event(**e) for e in data.get("events", [])),
            mapping=tuple((m[0], m[1]) for m in data.get("mapping", [])),
            repeating=tuple(Repeating(**r) for r in data.get("repeating", [])),
            surveys=tuple(data.get("surveys", [])),
        )

    # -- questions the API asks ------------------------------------------------------------

    @property
    def longitudinal(self) -> bool:
        return self.is_longitudinal or bool(self.events)

    @property
    def has_repeating(self) -> bool:
        return bool(self.repeating)

    def event(self, unique_name: str) -> Event | None:
        return self._by_event.get(unique_name)

    def event_names(self) -> list[str]:
        """Unique event names in REDCap's order: by arm, then as defined."""
        return [e.unique_name for e in self.ordered_events()]

    def ordered_events(self) -> list[Event]:
        return sorted(self.events, key=lambda e: e.arm_num)

    def forms_in(self, event: str, all_forms: Iterable[str]) -> list[str]:
        """The instruments designated for ``event`` (every form in a classic project)."""
        if not self.longitudinal:
            return list(all_forms)
        mapped = {f for e, f in self.mapping if e == event}
        return [f for f in all_forms if f in mapped]

    def repeat_instrument(self, event: str, form: str) -> bool:
        return any(r.event == event and r.form == form for r in self.repeating)

    def repeat_event(self, event: str) -> bool:
        return any(r.event == event and r.form == "" for r in self.repeating)

    def event_label(self, unique_name: str) -> str:
        """The label REDCap exports with rawOrLabel=label: the event's name, with its arm
        when the project has more than one arm."""
        e = self.event(unique_name)
        if e is None:
            return unique_name
        if len({ev.arm_num for ev in self.events}) > 1:
            arm = next((a.name for a in self.arms if a.num == e.arm_num), "")
            return f"{e.name} (Arm {e.arm_num}: {arm})"
        return e.name

    def first_event(self) -> str:
        """The event a classic-shaped write lands in ("" for a classic project)."""
        names = self.event_names()
        return names[0] if names else ""

    # -- changes ---------------------------------------------------------------------------

    def with_surveys(self, forms: Iterable[str]) -> Design:
        return replace(self, surveys=tuple(dict.fromkeys(forms)))


def unique_event_name(label: str, arm_num: int, taken: Iterable[str]) -> str:
    """REDCap's unique event name: the label lower-cased, runs of other characters as
    ``_``, cut to 18 characters, then ``_arm_N``; a clash gets a letter before the arm."""
    stem = _NOT_NAME.sub("_", label.lower()).strip("_")[:UNIQUE_STEM].rstrip("_") or "event"
    used = set(taken)
    name = f"{stem}_arm_{arm_num}"
    suffix = ord("b")
    while name in used:
        name = f"{stem[: UNIQUE_STEM - 2]}_{chr(suffix)}_arm_{arm_num}"
        suffix += 1
    return name
