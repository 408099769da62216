"""What the browser tests share: where artifacts go, the widths, the page wrapper."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# The network is closed here, and a browser left to itself phones home at start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WIDTHS = (375, 768, 1280)
PHONE_HEIGHT = 667  # an iPhone SE's viewport: what "above the fold" means on a phone


@dataclass
class Rendered:
    """One page loaded at one width: the page, its console errors, its screenshot."""

    page: Any
    errors: list[str]
    screenshot: Path

    def text(self) -> str:
        return str(self.page.inner_text("body"))

    def overflow(self) -> tuple[int, int]:
        """(document scroll width, viewport width): the page must not scroll sideways."""
        width, inner = self.page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        return int(width), int(inner)


@dataclass(frozen=True)
class DemoReport:
    html: Path  # the demo's weekly report, as `recruit demo` wrote it
    numbers: dict[str, Any]  # the same report as JSON (recruit.report/2)
    summary: list[tuple[str, str]]  # what the report e-mail shows
    period: str
