"""HTML/JSON/CSV: same numbers everywhere, no planted identifier anywhere, reproducible."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from report_support import (
    FIELDS,
    NOW,
    PLANTED_EMAIL,
    PLANTED_ID_PREFIX,
    PLANTED_NAME,
    make_settings,
    twenty,
)

from recruit_cli.report.data import build_source
from recruit_cli.report.metrics import compute
from recruit_cli.report.model import ReportData
from recruit_cli.report.period import resolve_period
from recruit_cli.report.render import render

PLANTED = (
    PLANTED_EMAIL.split("@")[0].split(".")[0] + ".person",
    "example.org",
    PLANTED_NAME,
    PLANTED_ID_PREFIX,
    "xq7",
)


def build(suppress_below: int = 0) -> ReportData:
    settings = make_settings(suppress_below=suppress_below)
    period = resolve_period(settings.study.timezone, week="2026-W47")
    return compute(build_source(settings, twenty(), None), settings, period, NOW)


class Cells(HTMLParser):
    """Collects the text of every element with a data-key, and checks the tags nest."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, list[str]] = {}
        self.stack: list[tuple[str, str | None]] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "img":
            self.images.append(attr.get("src") or "")
        if tag in self.VOID:
            return
        key = attr.get("data-key")
        if key is not None:
            self.cells.setdefault(key, []).append("")
        self.stack.append((tag, key))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1][0] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for _, key in self.stack:
            if key is not None:
                self.cells[key][-1] += data


def parse(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    return parser


def html_value(text: str) -> object:
    text = text.strip().replace(",", "")
    if text == "*":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def json_values(doc: dict[str, object]) -> dict[str, object]:
    """Walk the JSON document's own structure into key -> value (independent of rows())."""
    out: dict[str, object] = {}
    for x in doc["flow"]:  # type: ignore[attr-defined]
        for w in ("period", "cumulative"):
            out[f"flow|{x['metric']}|{x['group']}|{w}"] = x[w]
    for r in doc["exclusions"]:  # type: ignore[attr-defined]
        for w in ("period", "cumulative"):
            out[f"exclusions|{r['code']}||{w}"] = r[w]
    trend = doc["trend"]
    for s in trend["series"]:  # type: ignore[index]
        for week, v in zip(trend["weeks"], s["values"], strict=True):  # type: ignore[index]
            out[f"trend|{s['metric']}|{s['group']}|{week}"] = v
        out[f"trend|{s['metric']}|{s['group']}|total"] = s["total"]
    for e in doc["targets"]:  # type: ignore[attr-defined]
        for m in ("ids_issued", "target", "percent_of_target", "weekly_rate", "projected_date"):
            out[f"targets|{m}|{e['group']}|cumulative"] = e[m]
    for t in doc["time_to_invite"]:  # type: ignore[attr-defined]
        for m in ("n", "median_hours", "p90_hours", "median_days", "p90_days"):
            out[f"time_to_invite|{m}||{t['window']}"] = t[m]
    for q in doc["queues"]:  # type: ignore[attr-defined]
        out[f"queues|{q['queue']}_size||now"] = q["size"]
        out[f"queues|{q['queue']}_oldest_age_days||now"] = q["oldest_age_days"]
        if "unacknowledged" in q:
            out[f"queues|{q['queue']}_unacknowledged||now"] = q["unacknowledged"]
    for d in doc["data_quality"]:  # type: ignore[attr-defined]
        out[f"data_quality|{d['problem']}||all"] = d["records"]
    return out


@pytest.mark.parametrize("suppress_below", [0, 3])
def test_json_carries_every_number_shown_in_the_html(suppress_below: int) -> None:
    data = build(suppress_below)
    cells = parse(render(data, "html").decode()).cells
    expected = json_values(json.loads(render(data, "json")))
    assert len(cells) > 100
    for key, texts in cells.items():
        assert key in expected, key
        for text in texts:  # a number shown twice (card and table) is the same number
            value = html_value(text)
            if key.startswith("targets|projected_date"):
                continue  # a date or a sentence ("target reached"); checked below
            if value == "—":
                assert expected[key] is None, key
            else:
                assert value == expected[key], (key, text, expected[key])
    # Every count in the JSON is on the page.
    missing = [k for k in expected if k not in cells]
    assert missing == []
    projected = cells["targets|projected_date|HC|cumulative"]
    assert projected == (["2027-06-06"] if suppress_below == 0 else ["*"])
    assert cells["targets|projected_date|MDD|cumulative"] == ["target reached"]


def test_csv_parses_and_matches_json() -> None:
    data = build(3)
    table = list(csv.DictReader(io.StringIO(render(data, "csv").decode())))
    assert list(table[0]) == ["section", "metric", "group", "window", "value", "label", "note"]
    expected = json_values(json.loads(render(data, "json")))
    by_key = {f"{r['section']}|{r['metric']}|{r['group']}|{r['window']}": r for r in table}
    for key, value in expected.items():
        r = by_key[key]
        if value is None:
            assert r["value"] == ""
        else:
            assert r["value"] == str(value), key
    hidden = [r for r in table if r["note"] == "suppressed"]
    assert hidden and all(r["value"] == "" for r in hidden)
    assert by_key["flow|screened||period"]["value"] == "13"


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_no_planted_identifier_in_any_format(fmt: str) -> None:
    text = render(build(), fmt).decode()
    for planted in PLANTED:
        assert planted not in text, planted
    assert re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text) is None  # no e-mail address at all
    assert PLANTED_ID_PREFIX.lower() not in text.lower()


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_text_typed_into_the_reasons_field_never_reaches_the_report(fmt: str) -> None:
    # Staff or older scripts can type anything into the reasons (notes) field: after a code
    # the configuration knows, and after one it does not. Only configured text is shown.
    rows = twenty()
    typed = f"called {PLANTED_NAME} at 555-0199, mother says depressed"
    rows[4][FIELDS.reasons] = f"age: {typed}"
    rows[5][FIELDS.reasons] = f"legacy_note: {typed}\ntravel: {typed}"
    settings = make_settings()
    period = resolve_period(settings.study.timezone, week="2026-W47")
    data = compute(build_source(settings, rows, None), settings, period, NOW)
    text = render(data, fmt).decode()
    for planted in (PLANTED_NAME, "555-0199", "mother says"):
        assert planted not in text, planted
    reasons = {r.code: (r.text, r.period) for r in data.exclusions}
    assert reasons["age"] == ("Must be 18 to 65 years old", 1)
    assert reasons["travel"] == ("Must be able to travel to the lab", 1)
    assert "legacy_note" not in reasons  # an unknown code is not shown: it counts as other
    assert reasons["other"] == (
        "not a reason code recruit knows (the text recorded in REDCap is not shown)",
        1,
    )
    assert "legacy_note" not in text


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_same_data_same_now_same_bytes(fmt: str) -> None:
    assert render(build(), fmt) == render(build(), fmt)


def test_html_is_self_contained() -> None:
    html = render(build(), "html").decode()
    parsed = parse(html)
    assert len(parsed.images) == 2
    assert all(src.startswith("data:image/svg+xml;base64,") for src in parsed.images)
    assert "http://" not in html and "https://" not in html
    assert "<style>" in html and "@media print" in html
    assert "<script" not in html


def test_html_escapes_configured_text() -> None:
    from dataclasses import replace

    data = replace(build(), study="<b>Study & Co</b>")
    html = render(data, "html").decode()
    assert "<b>Study" not in html and "&lt;b&gt;Study &amp; Co&lt;/b&gt;" in html


def test_charts_are_reproducible_svgs_sharp_at_any_density() -> None:
    from recruit_cli.report.charts import targets_svg, trend_svg

    data = build()
    first = trend_svg(data.trend)
    assert first.lstrip().startswith(b"<?xml") and b"<svg" in first
    assert first == trend_svg(data.trend)
    assert b"<dc:date>" not in first and b"Matplotlib" not in first  # no date, no creator
    assert b"<text" in first  # text stays text: searchable, readable by a screen reader
    assert targets_svg(data.targets) == targets_svg(data.targets)


def test_the_target_chart_without_targets_has_no_target_legend() -> None:
    # Issue 14: `init` sets no targets; the chart drew a "Target" legend anyway, and with
    # nothing issued an empty frame.
    from dataclasses import replace

    from recruit_cli.report.charts import targets_svg

    data = build()
    untargeted = tuple(replace(e, target=None, percent=None) for e in data.targets)
    chart = targets_svg(untargeted)
    assert chart is not None and b"Target" not in chart
    assert b"Target" in (targets_svg(data.targets) or b"")
    nothing = tuple(replace(e, issued=0) for e in untargeted)
    assert targets_svg(nothing) is None
    html = render(replace(data, targets=nothing), "html").decode()
    assert len(parse(html).images) == 1
    assert "No study IDs issued yet, and no targets set." in html


def test_charts_carry_their_numbers_in_alt_text() -> None:
    data = build()
    html = render(data, "html").decode()
    alts = re.findall(r'<img class="chart" src="[^"]*" alt="([^"]*)"', html)
    assert len(alts) == 2
    trend_alt, targets_alt = alts
    submitted = next(s for s in data.trend.series if s.metric == "submitted")
    assert ", ".join(str(v) for v in submitted.values) in trend_alt
    for e in data.targets:
        assert f"{e.label}: {e.issued} study IDs issued of a target of {e.target}" in targets_alt


def test_every_table_header_has_a_scope() -> None:
    html = render(build(), "html").decode()
    headers = re.findall(r"<th\b[^>]*>", html)
    assert headers and all('scope="col"' in h or 'scope="row"' in h for h in headers)


def test_trend_chart_draws_submissions_beside_screening() -> None:
    # A project whose submissions were screened in a batch (like the demo's) still shows
    # when people came in: the submitted bars are drawn, not only listed in the table.
    from dataclasses import replace

    from recruit_cli.report.charts import trend_svg
    from recruit_cli.report.model import TrendSeries

    trend = build().trend
    submitted = next(s for s in trend.series if s.metric == "submitted")
    moved = replace(submitted, values=(9,) * len(trend.weeks))
    other = replace(trend, series=tuple(moved if s is submitted else s for s in trend.series))
    assert isinstance(moved, TrendSeries)
    assert trend_svg(trend) != trend_svg(other)


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_empty_project_renders_in_every_format(fmt: str) -> None:
    settings = make_settings(suppress_below=3)
    period = resolve_period(settings.study.timezone, week="2026-W47")
    data = compute(build_source(settings, [], None), settings, period, NOW)
    text = render(data, fmt).decode()
    if fmt == "html":
        assert len(parse(text).images) == 2
        assert "No exclusion criteria configured" not in text  # criteria are, with zeros
    assert data.flow_line("screened") is not None
    assert data.flow_line("screened").cumulative == 0  # type: ignore[union-attr]


def test_the_trend_total_says_it_covers_the_trend_weeks_only() -> None:
    # Issue 14: "Total" 297 beside "Submitted" 300 in the flow, without saying why.
    html = render(build(), "html").decode()
    assert '<th scope="row">Total, these 12 weeks</th>' in html
    assert "The totals cover these 12 weeks only" in html


def test_chart_colours_are_colour_blind_safe_and_no_group_is_red() -> None:
    from recruit_cli.report.charts import PALETTE, trend_svg

    svg = trend_svg(build().trend).decode()
    groups = [s for s in build().trend.series if s.metric == "ids_issued" and s.group]
    used = {c.lower() for c in re.findall(r"stroke: (#[0-9a-fA-F]{6})", svg)}
    assert {c.lower() for c in PALETTE[: len(groups)]} <= used

    def reddish(colour: str) -> bool:
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return r > 180 and g < 100 and b < 100

    assert not [c for c in PALETTE if reddish(c)]
    assert not [c for c in used if reddish(c)]
