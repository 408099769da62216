"""Headless Chromium for the browser tests: the Debian package driven by Playwright.

No browser is downloaded (``executable_path`` points at the system's Chromium). Off CI, a
machine without Chromium skips these tests; on CI (``CI`` set) that is a failure, as
``.ci/run`` installs it. Screenshots and PDFs go to ``test-artifacts/browser/`` at the
repository root (gitignored); a failing assertion names the file to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import ARTIFACTS, CHROMIUM_ARGS, PHONE_HEIGHT, DemoReport, Rendered


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def load(browser: Any) -> Iterator[Any]:
    """``load(html_file, width, name)`` -> Rendered (the page stays open for the test)."""
    contexts: list[Any] = []

    def _load(path: Path, width: int, name: str, *, height: int = PHONE_HEIGHT) -> Rendered:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        shot = ARTIFACTS / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        return Rendered(page, errors, shot)

    yield _load
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> DemoReport:
    """`recruit demo` once (300 records), and its report as numbers too."""
    import json
    from dataclasses import replace
    from datetime import UTC, datetime

    from recruit_cli.config import load_settings
    from recruit_cli.ops.demo import run_demo
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.report.render import render
    from recruit_cli.report.run import build_report
    from recruit_cli.sandbox import run_sandbox

    now = datetime.now(UTC)
    result = run_demo(tmp_path_factory.mktemp("demo") / "recruit-demo", now=now)
    period = result.report_path.stem.removeprefix("enrollment-")
    # Serve the demo's database again (a new port) to read the same report as JSON.
    with run_sandbox(db=result.directory / "sandbox.db") as sb:
        settings = load_settings(
            result.directory / "recruit.toml", environ={"REDCAP_API_TOKEN": sb.token}
        )
        settings = replace(settings, redcap=replace(settings.redcap, url=sb.url))
        with RedcapClient(sb.url, sb.token) as client:
            data = build_report(settings, client, week=period, now=now)
    return DemoReport(result.report_path, json.loads(render(data, "json")), data.summary(), period)
