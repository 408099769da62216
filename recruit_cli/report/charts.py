"""Charts: functions from the report's numbers to PNG bytes.

matplotlib's object API on an Agg canvas only, never pyplot (no global figure state, safe
in a library). The output is reproducible byte for byte: fixed size and dpi, the default
style whatever the user's matplotlibrc says, and no "Software" metadata in the PNG.
Charts draw only what the tables show: a suppressed number is a gap, never a value.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recruit_cli.report.model import EnrollmentLine, Trend

DPI = 100
_STYLE = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: same glyphs on every machine
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.autolayout": False,
    "axes.axisbelow": True,  # grid lines behind the bars
}
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


@contextmanager
def _style() -> Iterator[None]:
    from matplotlib import style

    with style.context(["default", _STYLE]):
        yield


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """Embed PNG bytes in HTML (``<img src=...>``), so the report is one file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def trend_png(trend: Trend) -> bytes:
    """Weekly submitted and screened (bars) and ID assigned per group (lines).

    Submitted sits beside screened so that a backlog (people submitting but not yet
    screened) shows as the gap between the two bars.
    """
    with _style():
        bars = [
            (s, colour)
            for metric, colour in (("submitted", "#9ecae1"), ("screened", "#8c8c8c"))
            for s in trend.series
            if s.metric == metric and not s.group
        ]
        groups = [s for s in trend.series if s.metric == "id_assigned" and s.group]
        entries = len(bars) + len(groups)
        ncol = min(3, max(1, entries))
        rows = -(-entries // ncol)  # the legend's rows, above the plot
        height = 3.0 + 0.22 * max(0, rows - 1)
        fig = _figure(8.0, height)
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(trend.weeks)))
        width = 0.8 / max(1, len(bars))
        for i, (series, colour) in enumerate(bars):
            offset = (i - (len(bars) - 1) / 2) * width
            ax.bar(
                [v + offset for v in x],
                [_nan(v) for v in series.values],
                width=width,
                color=colour,
                label=series.label,
            )
        for i, series in enumerate(groups):
            ax.plot(
                x,
                [_nan(v) for v in series.values],
                marker="o",
                markersize=3,
                color=_COLOURS[i % len(_COLOURS)],
                label=f"ID assigned: {series.label}",
            )
        ax.set_xticks(x, [w.split("-")[1] for w in trend.weeks])
        if trend.weeks:
            ax.set_xlabel(f"ISO week, {trend.weeks[0]} to {trend.weeks[-1]}")
        ax.set_ylabel("records")
        shown = [v for s in trend.series for v in s.values if v]
        if shown:
            ax.set_ylim(bottom=0)
            ax.yaxis.get_major_locator().set_params(integer=True)
        else:  # nothing to draw (or all suppressed): a clean 0..1 axis, and say so
            ax.set_ylim(0, 1)
            ax.set_yticks([0, 1])
            ax.text(
                0.5, 0.5, "No records in these weeks", transform=ax.transAxes, ha="center",
                va="center", color="#5b6475",
            )  # fmt: skip
        if any(v is None for series in trend.series for v in series.values):
            ax.text(
                1.0, 1.0, "gaps: suppressed counts (* in the table)", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=7, color="#5b6475",
            )  # fmt: skip
        if entries:
            handles, labels = ax.get_legend_handles_labels()
            # matplotlib lists lines before bars; keep the order they are described in.
            bar_labels = {series.label for series, _ in bars}
            order = sorted(range(len(labels)), key=lambda i: labels[i] not in bar_labels)
            ax.legend(
                [handles[i] for i in order],
                [labels[i] for i in order],
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                ncol=ncol,
                fontsize=8,
                frameon=False,
            )
        top = 1 - (0.14 + 0.07 * (rows - 1)) * 3.0 / height
        fig.subplots_adjust(left=0.07, right=0.99, top=top, bottom=0.17 * 3.0 / height)
        return _png(fig)


def enrollment_png(lines: tuple[EnrollmentLine, ...]) -> bytes:
    """Enrolled (bar) against target (dashed outline) per group, "enrolled / target" beside."""
    with _style():
        height = 1.0 + 0.5 * max(1, len(lines))
        fig = _figure(8.0, height)
        ax = fig.add_subplot(1, 1, 1)
        y = list(range(len(lines)))
        targets = [_nan(e.target) for e in lines]
        enrolled = [_nan(e.enrolled) for e in lines]
        ax.barh(y, targets, color="none", edgecolor="#555555", linestyle="--", label="Target")
        ax.barh(
            y,
            enrolled,
            color=[_COLOURS[i % len(_COLOURS)] for i in y],
            height=0.5,
            label="Enrolled (study ID assigned)",
        )
        widest = max([0.0, *(v for v in targets + enrolled if v == v)])  # NaN != NaN
        for i, e in enumerate(lines):
            text = "suppressed" if e.enrolled is None else f"{e.enrolled:,}"
            if e.target:
                text += f" / {e.target:,}"
            end = max(v for v in (targets[i], enrolled[i], 0.0) if v == v)
            # Beside the longer of the two bars: readable on any colour, never on top.
            ax.annotate(
                text, (end, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8
            )
        ax.set_yticks(y, [e.label for e in lines])
        ax.invert_yaxis()
        ax.set_xlim(0, max(1.0, widest) * 1.18)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("records")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8, frameon=False)
        fig.subplots_adjust(left=0.25, right=0.98, top=1 - 0.3 / height, bottom=0.45 / height)
        return _png(fig)


def _nan(value: int | None) -> float:
    return float("nan") if value is None else float(value)
