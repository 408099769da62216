"""`setup fields --apply` on projects that already hold some pipeline fields."""

from __future__ import annotations

from pathlib import Path

from screening_data import build_settings

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.screening.setup_fields import FORM, PIPELINE_FIELDS, setup_fields


def test_adds_to_an_existing_pipeline_form_that_is_not_last(tmp_path: Path) -> None:
    # A lab added two pipeline fields by hand, on a form followed by another form. REDCap
    # refuses a dictionary whose forms are not contiguous, so appending at the end would fail.
    survey = [r for r in DEMO_METADATA if r["form_name"] == "screening_survey"]
    staff = [dict(r) for r in DEMO_METADATA if r["form_name"] == "staff_tracking"]
    staff[0]["branching_logic"] = "[agree_participate] = '1'"
    pipeline = [r for r in DEMO_METADATA if r["form_name"] == FORM][:2]
    with run_sandbox(metadata=survey + pipeline + staff) as sb:
        settings = build_settings(tmp_path, url=sb.url, token=sb.token)
        with RedcapClient.from_settings(settings) as client:
            result = setup_fields(settings, client)
            assert result.exit_code == 0
            assert result.counts == {"add_field": len(PIPELINE_FIELDS) - 2}
            after = client.export_metadata_rows()
    forms = [r["form_name"] for r in after]
    assert forms == ["screening_survey"] * len(survey) + [FORM] * len(PIPELINE_FIELDS) + [
        "staff_tracking"
    ] * len(staff)
    names = [r["field_name"] for r in after]
    assert names[: len(survey) + 2] == [r["field_name"] for r in survey + pipeline]
    assert after[-len(staff)]["branching_logic"] == "[agree_participate] = '1'"
