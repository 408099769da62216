"""The demo's weekly report in headless Chromium: phone, tablet and desktop, and on paper.

Issue 14: at 420 px the flow and the exclusions table were cut off. Each width must show
the whole page without scrolling sideways, every key number must be in the rendered text
(not only in the HTML source), and the page must print on A4 and Letter with no table
wider than the paper.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import ARTIFACTS, WIDTHS, DemoReport

# Printable width in CSS pixels (96 per inch) with the report's @page margins (12 mm a side).
PAPER = {"A4": (210 - 24) / 25.4 * 96, "Letter": (8.5 * 25.4 - 24) / 25.4 * 96}


def _key_numbers(numbers: dict[str, Any]) -> list[str]:
    flow = {(x["metric"], x["group"]): x for x in numbers["flow"]}
    shown = [
        f"{flow[(m, '')]['cumulative']:,}" for m in ("submitted", "screened", "eligible", "invited")
    ]
    shown += [f"{t['ids_issued']:,}" for t in numbers["targets"]]
    shown += [str(t["median_hours"]) for t in numbers["time_to_invite"] if t["n"]]
    return shown


@pytest.mark.parametrize("width", (*WIDTHS, 420))  # 420: where the issue saw it cut off
def test_the_report_fits_and_shows_its_numbers(
    load: Any, demo_report: DemoReport, width: int
) -> None:
    page = load(demo_report.html, width, "report")
    scroll, inner = page.overflow()
    assert scroll <= inner, f"the page scrolls sideways at {width} px: see {page.screenshot}"
    # Nothing inside is cut off either: no table needs its own scrollbar.
    clipped = page.page.evaluate(
        "[...document.querySelectorAll('.table, .flow')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.parentElement.id)"
    )
    assert clipped == [], f"cut off at {width} px: {clipped}; see {page.screenshot}"
    text = page.text()
    for number in _key_numbers(demo_report.numbers):
        assert number in text, f"{number} is not shown at {width} px: see {page.screenshot}"
    assert "Study IDs issued against target" in text
    assert page.errors == [], page.errors


def test_the_charts_are_sharp_and_described(load: Any, demo_report: DemoReport) -> None:
    page = load(demo_report.html, 1280, "report-charts")
    images = page.page.evaluate(
        "[...document.images].map(i => [i.currentSrc.slice(0, 26), i.alt, i.naturalWidth])"
    )
    assert len(images) == 2
    for source, alt, natural in images:
        assert source == "data:image/svg+xml;base64,"  # vector: sharp at any density
        assert natural > 0, "the chart did not decode"
        assert any(ch.isdigit() for ch in alt) and len(alt) > 60


@pytest.mark.parametrize("paper", sorted(PAPER))
def test_the_report_prints_on_a4_and_letter_without_cut_off_tables(
    load: Any, demo_report: DemoReport, paper: str
) -> None:
    width = int(PAPER[paper])
    page = load(demo_report.html, width, f"report-print-{paper}", height=1000)
    page.page.emulate_media(media="print")
    too_wide = page.page.evaluate(
        "[...document.querySelectorAll('table, figure, .flow')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.closest('section')?.id)"
    )
    pdf = ARTIFACTS / f"report-{paper}.pdf"
    page.page.pdf(path=str(pdf), format=paper, print_background=True)
    assert too_wide == [], f"wider than {paper} paper: {too_wide}; see {pdf}"
    scroll, inner = page.overflow()
    assert scroll <= inner, f"the printed page is wider than {paper}: see {pdf}"
