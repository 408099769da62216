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
    """Weekly screened (bars) and ID assigned per group (lines) over the trend weeks."""
    with _style():
        fig = _figure(8.0, 3.0)
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(trend.weeks)))
        screened = next((s for s in trend.series if s.metric == "screened"), None)
        if screened is not None:
            ax.bar(x, [_nan(v) for v in screened.values], color="#c7c7c7", label="Screened")
        groups = [s for s in trend.series if s.metric == "id_assigned" and s.group]
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
        ax.set_ylabel("records")
        ax.set_ylim(bottom=0)
        ax.yaxis.get_major_locator().set_params(integer=True)
        if screened is not None or groups:
            ax.legend(
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                ncol=min(4, 1 + len(groups)),
                fontsize=8,
                frameon=False,
            )
        fig.subplots_adjust(left=0.07, right=0.99, top=0.86, bottom=0.12)
        return _png(fig)


def enrollment_png(lines: tuple[EnrollmentLine, ...]) -> bytes:
    """Enrolled (bar) against target (outline) per group."""
    with _style():
        fig = _figure(8.0, 0.6 + 0.5 * max(1, len(lines)))
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
            label="Enrolled (ID assigned)",
        )
        for i, e in enumerate(lines):
            text = "suppressed" if e.enrolled is None else f"{e.enrolled}"
            if e.target:
                text += f" / {e.target}"
            ax.annotate(
                text, (0, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8
            )
        ax.set_yticks(y, [e.label for e in lines])
        ax.invert_yaxis()
        ax.set_xlim(left=0)
        ax.grid(axis="y", visible=False)
        fig.subplots_adjust(left=0.25, right=0.98, top=0.92, bottom=0.25 / max(1, len(lines)))
        return _png(fig)


def _nan(value: int | None) -> float:
    return float("nan") if value is None else float(value)
