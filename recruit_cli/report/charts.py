"""Charts: functions from the report's numbers to SVG bytes, and their alt text.

matplotlib's object API on an Agg canvas only, never pyplot (no global figure state, safe
in a library). SVG is sharp at any screen density and in print; its text stays text (so
it is small, searchable and readable by a screen reader). The output is reproducible byte
for byte: fixed size, a fixed hash salt, the default style whatever the user's matplotlibrc
says, and no date or creator in the file. Charts draw only what the tables show: a
suppressed number is a gap, never a value. The colours are the Okabe-Ito palette, told
apart with the common colour-vision deficiencies, and each group line has its own marker
and dash as well; no group is drawn in red.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recruit_cli.report.model import TargetLine, Trend

DPI = 100
_STYLE = {
    "font.family": ["DejaVu Sans"],  # ships with matplotlib: the same metrics everywhere
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.autolayout": False,
    "axes.axisbelow": True,  # grid lines behind the bars
    "svg.fonttype": "none",  # text as <text>, not outlines
    "svg.hashsalt": "recruit-report",  # stable ids: the same data gives the same bytes
}
# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, reddish purple,
# sky blue, black. Vermillion and yellow are left out (red reads as "bad"; yellow is too
# pale on white).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P")
DASHES = ("-", "--", "-.", ":", "-", "--")
SUBMITTED, SCREENED = "#56B4E9", "#7F7F7F"  # sky blue and grey bars
MUTED = "#5B6475"


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


def _svg(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def data_uri(svg: bytes) -> str:
    """Embed SVG bytes in HTML (``<img src=...>``), so the report is one file."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _show(value: int | None) -> str:
    return "suppressed" if value is None else f"{value:,}"


def trend_alt(trend: Trend) -> str:
    """The trend chart in words, every number included (the image's alt text)."""
    if not trend.weeks:
        return "Weekly trend: no weeks."
    parts = [
        f"{s.label} per week: {', '.join(_show(v) for v in s.values)} (total {_show(s.total)})"
        for s in trend.series
        if s.metric != "ids_issued" or s.group
    ]
    return (
        f"Weekly trend, {trend.weeks[0]} to {trend.weeks[-1]}, submitted and screened as bars "
        f"and study IDs issued per group as lines. " + "; ".join(parts) + "."
    )


def targets_alt(lines: Sequence[TargetLine]) -> str:
    """The target chart in words, every number included (the image's alt text)."""
    parts = []
    for e in lines:
        text = f"{e.label}: {_show(e.issued)} study IDs issued"
        if e.target is not None:
            percent = f", {e.percent:,}%" if e.percent is not None else ""
            text += f" of a target of {e.target:,}{percent}"
        parts.append(text)
    return "Study IDs issued per group against target. " + "; ".join(parts) + "."


def trend_svg(trend: Trend) -> bytes:
    """Weekly submitted and screened (bars) and study IDs issued per group (lines).

    Submitted sits beside screened so that a backlog (people submitting but not yet
    screened) shows as the gap between the two bars.
    """
    with _style():
        bars = [
            (s, colour)
            for metric, colour in (("submitted", SUBMITTED), ("screened", SCREENED))
            for s in trend.series
            if s.metric == metric and not s.group
        ]
        groups = [s for s in trend.series if s.metric == "ids_issued" and s.group]
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
                marker=MARKERS[i % len(MARKERS)],
                markersize=4,
                linestyle=DASHES[i % len(DASHES)],
                linewidth=1.6,
                color=PALETTE[i % len(PALETTE)],
                label=series.label,
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
                va="center", color=MUTED,
            )  # fmt: skip
        if any(v is None for series in trend.series for v in series.values):
            ax.text(
                1.0, 1.0, "gaps: suppressed counts (* in the table)", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=7, color=MUTED,
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
        return _svg(fig)


def targets_svg(lines: Sequence[TargetLine]) -> bytes | None:
    """Study IDs issued (bar) per group, against its target (dashed outline) when one is
    set, "issued / target" beside. None when there is nothing to draw (no IDs issued and no
    target): the report says so in words rather than show an empty frame."""
    has_target = any(e.target for e in lines)
    if not lines or (not has_target and not any(e.issued for e in lines)):
        return None
    with _style():
        height = 1.0 + 0.5 * max(1, len(lines))
        fig = _figure(8.0, height)
        ax = fig.add_subplot(1, 1, 1)
        y = list(range(len(lines)))
        targets = [_nan(e.target) for e in lines]
        issued = [_nan(e.issued) for e in lines]
        if has_target:
            ax.barh(y, targets, color="none", edgecolor="#333333", linestyle="--", label="Target")
        ax.barh(
            y,
            issued,
            color=[PALETTE[i % len(PALETTE)] for i in y],
            height=0.5,
            label="Study IDs issued",
        )
        widest = max([0.0, *(v for v in targets + issued if v == v)])  # NaN != NaN
        for i, e in enumerate(lines):
            text = _show(e.issued)
            if e.target:
                text += f" / {e.target:,}"
            end = max(v for v in (targets[i], issued[i], 0.0) if v == v)
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
        if has_target:  # one series alone needs no legend
            ax.legend(
                loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8, frameon=False
            )
        fig.subplots_adjust(left=0.25, right=0.98, top=1 - 0.3 / height, bottom=0.45 / height)
        return _svg(fig)


def _nan(value: int | None) -> float:
    return float("nan") if value is None else float(value)
