"""The report's output formats: one self-contained HTML page, JSON, and long-format CSV.

All three are made from the same ``ReportData`` and name each number the same way: the CSV
row ``section,metric,group,window`` is the HTML cell's ``data-key`` (joined with ``|``), so
a reader (or a test) can match any number across formats. Output is deterministic: the same
data and the same ``now`` give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from recruit_cli import __version__
from recruit_cli.errors import TemplateError
from recruit_cli.report.model import SCHEMA, TITLES, ReportData

FORMATS = ("html", "json", "csv")
CONTENT_TYPES = {"html": "text/html", "json": "application/json", "csv": "text/csv"}
CSV_COLUMNS = ("section", "metric", "group", "window", "value", "label", "note")
SUPPRESSED = "suppressed"

Row = tuple[str, str, str, str, Any, str]  # section, metric, group, window, value, label


def render(data: ReportData, fmt: str) -> bytes:
    """The report as bytes in ``fmt`` ("html", "json" or "csv")."""
    if fmt == "html":
        return to_html(data).encode("utf-8")
    if fmt == "json":
        return to_json(data).encode("utf-8")
    if fmt == "csv":
        return to_csv(data).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r}")


def rows(data: ReportData) -> list[Row]:
    """Every number of the report as long-format rows (``None`` value = suppressed)."""
    out: list[Row] = [
        ("report", "study", "", "", data.study, ""),
        ("report", "period", "", "", data.period_label, ""),
        ("report", "first_day", "", "", data.first_day, ""),
        ("report", "last_day", "", "", data.last_day, ""),
        ("report", "timezone", "", "", data.timezone, ""),
        ("report", "generated_at", "", "", data.generated_at, ""),
        ("report", "suppress_below", "", "", data.suppress_below, ""),
        ("report", "submission_time_source", "", "", data.submitted_source, ""),
    ]
    for line in data.flow:
        for window in ("period", "cumulative"):
            value = line.period if window == "period" else line.cumulative
            out.append(("flow", line.metric, line.group, window, value, line.label))
    for reason in data.exclusions:
        out.append(("exclusions", reason.code, "", "period", reason.period, reason.text))
        out.append(("exclusions", reason.code, "", "cumulative", reason.cumulative, reason.text))
    for series in data.trend.series:
        for week, value in zip(data.trend.weeks, series.values, strict=True):
            out.append(("trend", series.metric, series.group, week, value, series.label))
        out.append(("trend", series.metric, series.group, "total", series.total, series.label))
    for e in data.targets:
        figures: tuple[tuple[str, object], ...] = (
            ("target", e.target),
            ("ids_issued", e.issued),
            ("percent_of_target", e.percent),
            ("weekly_rate", e.weekly_rate),
            ("projected_date", e.projected),
            ("projection_status", e.status),
        )
        for metric, figure in figures:
            out.append(("targets", metric, e.group, "cumulative", figure, e.label))
    for t in data.timing:
        timing: tuple[tuple[str, object], ...] = (
            ("n", t.n),
            ("median_hours", t.median_hours),
            ("p90_hours", t.p90_hours),
            ("median_days", t.median_days),
            ("p90_days", t.p90_days),
        )
        for metric, figure in timing:
            out.append(("time_to_invite", metric, "", t.window, figure, ""))
    for q in data.queues:
        out.append(("queues", f"{q.queue}_size", "", "now", q.size, q.label))
        if q.tracks_ack:
            out.append(("queues", f"{q.queue}_unacknowledged", "", "now", q.unacknowledged, ""))
        out.append(("queues", f"{q.queue}_oldest_age_days", "", "now", q.oldest_age_days, ""))
    for quality in data.quality:
        out.append(("data_quality", quality.problem, "", "all", quality.records, quality.text))
    return out


def key(section: str, metric: str, group: str, window: str) -> str:
    """The name of one number, shared by the HTML ``data-key`` and the CSV row."""
    return f"{section}|{metric}|{group}|{window}"


def to_csv(data: ReportData) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count_sections = {"flow", "exclusions", "trend", "queues", "data_quality"}
    for section, metric, group, window, value, label in rows(data):
        suppressed = value is None and (section in count_sections or metric in ("n", "ids_issued"))
        writer.writerow(
            (
                section,
                metric,
                group,
                window,
                "" if value is None else value,
                label,
                SUPPRESSED if suppressed else "",
            )
        )
    return buffer.getvalue()


def to_dict(data: ReportData) -> dict[str, Any]:
    """The JSON document (schema ``recruit.report/1``); ``null`` counts are suppressed."""
    return {
        "schema": SCHEMA,
        "study": data.study,
        "period": {
            "label": data.period_label,
            "first_day": data.first_day,
            "last_day": data.last_day,
            "timezone": data.timezone,
        },
        "generated_at": data.generated_at,
        "generator": f"recruit {__version__}",
        "suppress_below": data.suppress_below,
        "suppressed_cells": data.suppressed_cells,
        "submission_time_source": data.submitted_source,
        "definitions": data.definitions(),
        "flow": [
            {
                "metric": x.metric,
                "group": x.group,
                "label": x.label,
                "period": x.period,
                "cumulative": x.cumulative,
            }
            for x in data.flow
        ],
        "exclusions": [
            {"code": r.code, "reason": r.text, "period": r.period, "cumulative": r.cumulative}
            for r in data.exclusions
        ],
        "trend": {
            "weeks": list(data.trend.weeks),
            "series": [
                {
                    "metric": s.metric,
                    "group": s.group,
                    "label": s.label,
                    "values": list(s.values),
                    "total": s.total,
                }
                for s in data.trend.series
            ],
        },
        "targets": [
            {
                "group": e.group,
                "label": e.label,
                "target": e.target,
                "ids_issued": e.issued,
                "percent_of_target": e.percent,
                "weekly_rate": e.weekly_rate,
                "projected_date": e.projected,
                "projection_status": e.status,
            }
            for e in data.targets
        ],
        "time_to_invite": [
            {
                "window": t.window,
                "n": t.n,
                "median_hours": t.median_hours,
                "p90_hours": t.p90_hours,
                "median_days": t.median_days,
                "p90_days": t.p90_days,
            }
            for t in data.timing
        ],
        "queues": [
            {
                "queue": q.queue,
                "label": q.label,
                "size": q.size,
                **({"unacknowledged": q.unacknowledged} if q.tracks_ack else {}),
                "oldest_age_days": q.oldest_age_days,
            }
            for q in data.queues
        ],
        "data_quality": [
            {"problem": x.problem, "text": x.text, "records": x.records} for x in data.quality
        ],
    }


def to_json(data: ReportData) -> str:
    return json.dumps(to_dict(data), indent=2, ensure_ascii=False) + "\n"


def to_html(data: ReportData) -> str:
    """The self-contained page: inline CSS, charts as data URIs, nothing fetched."""
    import jinja2

    from recruit_cli.report.charts import (
        data_uri,
        targets_alt,
        targets_svg,
        trend_alt,
        trend_svg,
    )
    from recruit_cli.shipped import shipped

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(shipped("report"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.globals["key"] = key
    try:
        template = env.get_template("report.html.j2")
        return template.render(
            data=data,
            definitions=data.definitions(),
            titles=TITLES,
            version=__version__,
            trend_chart=data_uri(trend_svg(data.trend)),
            trend_alt=trend_alt(data.trend),
            targets_chart=data_uri(chart) if (chart := targets_svg(data.targets)) else "",
            targets_alt=targets_alt(data.targets),
            flow={(x.metric, x.group): x for x in data.flow},
        )
    except jinja2.TemplateError as exc:
        raise TemplateError(
            f"report template: {exc}", path="templates/report/report.html.j2"
        ) from exc


def _num(value: object) -> str:
    """A number as shown in the HTML (exactly the JSON's, with thousands separators);
    a suppressed one as ``*``."""
    if value is None:
        return "*"
    if isinstance(value, int | float):
        return f"{value:,}"
    return str(value)
