"""Every shipped e-mail, English and Spanish, and the report e-mail, in headless Chromium.

Issue 14: at 375 px the invitation was cut off on the right: the plain booking URL under
"If the button does not work" could not wrap and widened the 600 px table. Real Bookings
URLs are longer than the demo's, so the one here is as long as real ones get. On a phone,
the study ID and the booking button must be on the first screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import PHONE_HEIGHT, WIDTHS, DemoReport

from recruit_cli.mail.templates import EmailTemplates

SHIPPED = EmailTemplates()
SETS = [(kind, lang) for kind, langs in sorted(SHIPPED.kinds().items()) for lang in langs]
# A real Microsoft Bookings page address: a long mailbox name and a service id.
BOOKING_URL = (
    "https://outlook.office365.com/owa/calendar/"
    "TMSEEGDepressionStudyConsentSessions@neuroscience-department.onmicrosoft.com"
    "/bookings/s/xQ3vKp9LmN2Rt7YwZa8bCd4eFg"
)
BASE = {
    "study_name": "Demo TMS-EEG study",
    "booking_url": BOOKING_URL,
    "contact_email": "tms-eeg-study-coordinators@neuroscience-department.example.org",
}
STUDY_ID = "10203"
CONTEXT: dict[str, dict[str, Any]] = {
    "invite": {"study_id": STUDY_ID},
    "ineligible": {},
    "safety_alert": {
        "record_id": "1234",
        "rule": "safety",
        "fired_at": "2026-11-30 14:05 PST",
        "ack_field": "pipeline_safety_acknowledged",
    },
}


def _write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path


def _report_context(demo: DemoReport, *, attached: bool) -> dict[str, Any]:
    filename = f"enrollment-{demo.period}.html"
    link = "" if attached else f"https://share.example.org/sites/tms-eeg/reports/{filename}"
    return {
        "period": demo.period,
        "summary": demo.summary,
        "attached": attached,
        "filename": filename,
        "report_link": link,
    }


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("kind", "lang"), [s for s in SETS if s[0] != "report"], ids=str)
def test_each_email_fits_the_screen(
    load: Any, tmp_path: Path, kind: str, lang: str | None, width: int
) -> None:
    rendered = SHIPPED.render(kind, {**BASE, **CONTEXT[kind]}, language=lang)
    name = f"email-{kind}-{lang or 'en'}"
    page = load(_write(tmp_path, name, rendered.html), width, name)
    scroll, inner = page.overflow()
    assert scroll <= inner, f"{name} scrolls sideways at {width} px: see {page.screenshot}"
    assert page.errors == [], page.errors
    for value in CONTEXT[kind].values():
        assert value in page.text(), f"{value} is not shown: see {page.screenshot}"


@pytest.mark.parametrize("lang", [lang for kind, lang in SETS if kind == "invite"], ids=str)
def test_the_study_id_and_booking_link_are_on_a_phones_first_screen(
    load: Any, tmp_path: Path, lang: str | None
) -> None:
    rendered = SHIPPED.render("invite", {**BASE, "study_id": STUDY_ID}, language=lang)
    name = f"email-invite-{lang or 'en'}-fold"
    page = load(_write(tmp_path, name, rendered.html), 375, name)
    study_id = page.page.get_by_text(STUDY_ID, exact=True).first
    button = page.page.locator(f'a[href="{BOOKING_URL}"]').first
    for what, element in (("study ID", study_id), ("booking button", button)):
        box = element.bounding_box()
        assert box is not None, f"no {what}: see {page.screenshot}"
        assert box["y"] + box["height"] <= PHONE_HEIGHT, f"{what} below the fold"
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, f"{what} off screen"
        assert element.is_visible()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("attached", [True, False], ids=["attachment", "inline"])
def test_the_report_email_fits_and_shows_the_summary(
    load: Any, tmp_path: Path, demo_report: DemoReport, attached: bool, width: int
) -> None:
    context = {**BASE, **_report_context(demo_report, attached=attached)}
    rendered = SHIPPED.render("report", context)
    name = f"email-report-{'attachment' if attached else 'inline'}"
    page = load(_write(tmp_path, name, rendered.html), width, name)
    scroll, inner = page.overflow()
    assert scroll <= inner, f"{name} scrolls sideways at {width} px: see {page.screenshot}"
    text = page.text()
    for label, value in demo_report.summary:
        assert label in text and value in text, f"{label}: {value} missing; {page.screenshot}"
    if not attached:
        link = page.page.locator(f'a[href="{context["report_link"]}"]')
        assert link.count() == 1 and link.is_visible()
    assert page.errors == [], page.errors
