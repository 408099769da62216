"""The project-design contents: ``arm``, ``event``, ``formEventMapping`` and
``repeatingFormsEvents``, export, import and delete, as REDCap answers them.

Recorded behaviour these follow (PyCap's longitudinal integration test against a real
server): arms come back as ``{"arm_num": 1, "name": "Drug A"}`` and only when they have an
event; ``override=1`` replaces every arm (their events and mappings go too); an import
answers the number of rows imported; a mapping import replaces all mappings; a classic
project answers 400 to the arm, event and mapping exports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from recruit_cli.sandbox import export
from recruit_cli.sandbox.design import Arm, Design, Event, Repeating, unique_event_name
from recruit_cli.sandbox.importer import parse_rows
from recruit_cli.sandbox.params import CONTENT_TYPES, ApiError, Params, Response, invalid
from recruit_cli.sandbox.project import Project

EVENT_COLUMNS = (
    "event_name",
    "arm_num",
    "unique_event_name",
    "custom_event_label",
    "event_id",
    "day_offset",
    "offset_min",
    "offset_max",
)


def _format(params: Params, *, xml: bool = False) -> str:
    fmt = params.lower("format") or "xml"
    if fmt in ("json", "csv") or (xml and fmt == "xml"):
        return fmt
    if fmt == "xml":
        raise ApiError(400, "The sandbox does not export format=xml here: use json or csv")
    raise invalid("format")


def _answer(rows: Sequence[Mapping[str, object]], fmt: str, columns: Sequence[str]) -> Response:
    if fmt == "json":
        body = export.to_json(list(rows))
    elif fmt == "csv":
        body = export.to_csv(rows, columns)
    else:
        from recruit_cli.sandbox.xmlio import to_xml

        body = to_xml(rows, columns)
    return Response(200, body, CONTENT_TYPES[fmt])


def _count(count: int) -> Response:
    return Response(200, str(count).encode(), CONTENT_TYPES["text"])


def _data(params: Params) -> list[dict[str, str]]:
    return parse_rows(params.get("data"), params.lower("format") or "xml")


def _longitudinal(project: Project, what: str, verb: str = "export") -> Design:
    design = project.design
    if not design.longitudinal:
        raise ApiError(400, f"You cannot {verb} {what} for classic projects")
    return design


def _int(value: str, name: str) -> int:
    if not value.strip().isdigit():
        raise ApiError(400, f'The value of "{name}" is not valid: {value}')
    return int(value)


# -- arms --------------------------------------------------------------------------------------


def arm(project: Project, params: Params) -> Response:
    action = params.lower("action")
    if action == "delete":
        design = _longitudinal(project, "arms", "delete")
        nums = {_int(a, "arms") for a in params.array("arms")}
        unknown = nums - {a.num for a in design.arms}
        if not nums or unknown:
            raise ApiError(400, "The arms to delete are not valid: " + ", ".join(map(str, unknown)))
        gone = [e.unique_name for e in design.events if e.arm_num in nums]
        project.set_design(_without_events(design, gone, nums), "Delete arm (API)")
        project.store.drop_events(gone)
        return _count(len(nums))
    if params.has("data"):
        design = _longitudinal(project, "arms", "import")
        rows = _data(params)
        arms = {} if params.flag("override") else {a.num: a for a in design.arms}
        if params.flag("override"):
            project.store.drop_events([e.unique_name for e in design.events])
            design = replace(design, events=(), mapping=(), repeating=())
        for row in rows:
            num = _int(row.get("arm_num", ""), "arm_num")
            arms[num] = Arm(num, row.get("name", "").strip() or f"Arm {num}")
        design = replace(design, arms=tuple(sorted(arms.values(), key=lambda a: a.num)))
        project.set_design(design, "Import arms (API)")
        return _count(len(rows))
    design = _longitudinal(project, "arms")
    wanted = {_int(a, "arms") for a in params.array("arms")}
    with_events = {e.arm_num for e in design.events}
    out: list[dict[str, object]] = [
        {"arm_num": a.num, "name": a.name}
        for a in design.arms
        if a.num in with_events and (not wanted or a.num in wanted)
    ]
    return _answer(out, _format(params), ("arm_num", "name"))


def _without_events(design: Design, gone: Sequence[str], arms: set[int] | None = None) -> Design:
    return replace(
        design,
        arms=tuple(a for a in design.arms if arms is None or a.num not in arms),
        events=tuple(e for e in design.events if e.unique_name not in gone),
        mapping=tuple(m for m in design.mapping if m[0] not in gone),
        repeating=tuple(r for r in design.repeating if r.event not in gone),
    )


# -- events ------------------------------------------------------------------------------------


def event(project: Project, params: Params) -> Response:
    action = params.lower("action")
    if action == "delete":
        design = _longitudinal(project, "events", "delete")
        names = params.array("events")
        unknown = [n for n in names if design.event(n) is None]
        if not names or unknown:
            raise ApiError(400, "The events to delete are not valid: " + ", ".join(unknown))
        project.set_design(_without_events(design, names), "Delete event (API)")
        project.store.drop_events(names)
        return _count(len(names))
    if params.has("data"):
        rows = _data(params)
        design = _longitudinal(project, "events", "import")
        if params.flag("override"):  # every event goes (with its mappings and data)
            gone = [e.unique_name for e in design.events]
            project.store.drop_events(gone)
            design = _without_events(design, gone, set())
        project.set_design(_import_events(design, rows), "Import events (API)")
        return _count(len(rows))
    design = _longitudinal(project, "events")
    wanted = {_int(a, "arms") for a in params.array("arms")}
    out: list[dict[str, object]] = [
        {
            "event_name": e.name,
            "arm_num": e.arm_num,
            "unique_event_name": e.unique_name,
            "custom_event_label": e.custom_label,
            "event_id": e.event_id,
            "day_offset": _number(e.day_offset),
            "offset_min": _number(e.offset_min),
            "offset_max": _number(e.offset_max),
        }
        for e in design.ordered_events()
        if not wanted or e.arm_num in wanted
    ]
    return _answer(out, _format(params), EVENT_COLUMNS)


def _number(text: str) -> int | float:
    value = float(text or 0)
    return int(value) if value.is_integer() else value


def _import_events(design: Design, rows: Sequence[Mapping[str, str]]) -> Design:
    """New events get a unique name from their label and arm; a row naming an existing
    unique event name updates that event."""
    events = {e.unique_name: e for e in design.events}
    arms = {a.num for a in design.arms}
    next_id = max((e.event_id for e in design.events), default=40) + 1
    for row in rows:
        name = row.get("event_name", "").strip()
        arm_num = _int(row.get("arm_num", ""), "arm_num")
        if not name:
            raise ApiError(400, "Each event needs an event_name")
        if arm_num not in arms:
            raise ApiError(400, f"The arm number {arm_num} does not exist in the project")
        fields = {
            "name": name,
            "arm_num": arm_num,
            "day_offset": row.get("day_offset", "") or "0",
            "offset_min": row.get("offset_min", "") or "0",
            "offset_max": row.get("offset_max", "") or "0",
            "custom_label": row.get("custom_event_label", "") or "",
        }
        given = row.get("unique_event_name", "").strip()
        if given and given in events:
            events[given] = replace(events[given], **fields)  # type: ignore[arg-type]
            continue
        unique = unique_event_name(name, arm_num, events)
        events[unique] = Event(unique_name=unique, event_id=next_id, **fields)  # type: ignore[arg-type]
        next_id += 1
    return replace(design, events=tuple(events.values()))


# -- instrument-event mapping ----------------------------------------------------------------


def form_event_mapping(project: Project, params: Params) -> Response:
    d = project.dictionary
    if params.has("data"):
        design = _longitudinal(project, "form/event mappings", "import")
        rows = _data(params)
        mapping = []
        for row in rows:
            name, form = row.get("unique_event_name", "").strip(), row.get("form", "").strip()
            if design.event(name) is None:
                raise ApiError(400, f"The unique event name '{name}' is not valid")
            if form not in d.forms:
                raise ApiError(400, f"The instrument '{form}' is not valid")
            mapping.append((name, form))
        project.set_design(
            replace(design, mapping=tuple(dict.fromkeys(mapping))),
            "Import instrument-event mappings (API)",
        )
        return _count(len(rows))
    design = _longitudinal(project, "form/event mappings")
    wanted = {_int(a, "arms") for a in params.array("arms")}
    out: list[dict[str, object]] = [
        {"arm_num": e.arm_num, "unique_event_name": e.unique_name, "form": form}
        for e in design.ordered_events()
        if not wanted or e.arm_num in wanted
        for form in design.forms_in(e.unique_name, d.forms)
    ]
    return _answer(out, _format(params), ("arm_num", "unique_event_name", "form"))


# -- repeating instruments and events --------------------------------------------------------


def repeating(project: Project, params: Params) -> Response:
    design, d = project.design, project.dictionary
    columns: tuple[str, ...] = ("form_name", "custom_form_label")
    if design.longitudinal:
        columns = ("event_name", *columns)
    if params.has("data"):
        rows = _data(params)
        settings = []
        for row in rows:
            event_name = row.get("event_name", "").strip() if design.longitudinal else ""
            form = row.get("form_name", "").strip()
            if design.longitudinal and design.event(event_name) is None:
                raise ApiError(400, f"The unique event name '{event_name}' is not valid")
            if form and form not in d.forms:
                raise ApiError(400, f"The instrument '{form}' is not valid")
            if not form and not design.longitudinal:
                raise ApiError(400, "A classic project can only repeat instruments")
            settings.append(Repeating(event_name, form, row.get("custom_form_label", "") or ""))
        project.set_design(
            replace(design, repeating=tuple(settings)),
            "Set up repeating instruments/events (API)",
        )
        return _count(len(rows))
    rows = [
        {"event_name": r.event, "form_name": r.form, "custom_form_label": r.custom_label}
        for r in design.repeating
    ]
    return _answer(
        [{c: row[c] for c in columns} for row in rows], _format(params, xml=True), columns
    )


HANDLERS: dict[str, Callable[[Project, Params], Response]] = {
    "arm": arm,
    "event": event,
    "formEventMapping": form_event_mapping,
    "repeatingFormsEvents": repeating,
}
