"""PyCap's integration tests for a longitudinal project (tests/integration/
test_long_project.py at the pinned commit, README.md), run against the sandbox in PyCap's
order (they share one project and later tests build on earlier ones). The survey links
start with the sandbox's own address instead of redcapdemo.vumc.org's. Users and PDF
exports are out of the sandbox's scope: not restated here (README.md names them).
"""

from __future__ import annotations

import pytest
from redcap import Project

from recruit_cli.sandbox import Sandbox


def test_is_longitudinal(long_project: Project) -> None:
    assert long_project.is_longitudinal


def test_export_survey_link(long_project: Project, long_sandbox: Sandbox) -> None:
    link = long_project.export_survey_link(
        instrument="contact_info", event="enrollment_arm_1", record="1"
    )
    assert link.startswith(long_sandbox.url.replace("/api/", "/surveys/?s="))


def test_export_survey_queue_link(long_project: Project, long_sandbox: Sandbox) -> None:
    link = long_project.export_survey_queue_link(record="1")
    assert link.startswith(long_sandbox.url.replace("/api/", "/surveys/?sq="))


def test_export_survey_access_code(long_project: Project) -> None:
    code = long_project.export_survey_access_code(
        record="1", instrument="contact_info", event="enrollment_arm_1"
    )
    assert len(code) == 9


def test_export_survey_return_code(long_project: Project) -> None:
    code = long_project.export_survey_return_code(
        record="1", instrument="contact_info", event="enrollment_arm_1"
    )
    assert len(code) == 8


def test_survey_participant_export(long_project: Project) -> None:
    data = long_project.export_survey_participant_list(
        instrument="contact_info", event="enrollment_arm_1"
    )
    assert len(data) == 1
    data = long_project.export_survey_participant_list(
        instrument="contact_info", format_type="df", event="enrollment_arm_1"
    )
    assert "email" in data.columns


def test_project_info_export(long_project: Project) -> None:
    assert long_project.export_project_info()["purpose"] == 0


def test_records_export_labeled_headers(long_project: Project) -> None:
    data = long_project.export_records(format_type="csv", raw_or_label_headers="label")
    assert "Study ID" in data


def test_repeating_export(long_project: Project) -> None:
    rep = long_project.export_repeating_instruments_events(format_type="json")
    assert isinstance(rep, list)


def test_repeating_export_strictly_enfores_format(long_project: Project) -> None:
    with pytest.raises(ValueError):
        long_project.export_repeating_instruments_events(format_type="unsupported")  # type: ignore[arg-type]


def test_import_export_repeating_forms(long_project: Project) -> None:
    for format_type in ["xml", "json", "csv", "df"]:
        rep = long_project.export_repeating_instruments_events(format_type=format_type)  # type: ignore[arg-type]
        res = long_project.import_repeating_instruments_events(
            to_import=rep,
            import_format=format_type,  # type: ignore[arg-type]
        )
        assert res == 1


def test_limit_export_records_forms_and_fields(long_project: Project) -> None:
    records_df = long_project.export_records(
        forms=["demographics", "baseline_data"], format_type="df"
    )
    complete_cols = [col for col in records_df.columns if col.endswith("_complete")]
    assert long_project.def_field in records_df.index.names
    assert complete_cols == ["demographics_complete", "baseline_data_complete"]
    records_df = long_project.export_records(fields=["study_comments"], format_type="df")
    assert long_project.def_field in records_df.index.names
    records_df = long_project.export_records(
        forms=["baseline_data"], fields=["study_comments"], format_type="df"
    )
    complete_cols = [col for col in records_df.columns if col.endswith("_complete")]
    assert long_project.def_field in records_df.index.names
    assert complete_cols == ["baseline_data_complete"]


def test_delete_records_from_one_instrument_only(long_project: Project) -> None:
    new_record = [
        {
            "study_id": "3",
            "redcap_event_name": "enrollment_arm_1",
            "redcap_repeat_instrument": "",
            "redcap_repeat_instance": "",
        },
        {
            "study_id": "3",
            "redcap_event_name": "visit_1_arm_1",
            "redcap_repeat_instrument": "",
            "redcap_repeat_instance": "",
        },
    ]
    assert long_project.import_records(new_record)["count"] == 1
    assert len(long_project.export_records(records=["3"])) == 2
    assert long_project.delete_records(records=["3"], event="visit_1_arm_1") == 1
    assert len(long_project.export_records(records=["3"])) == 1
    assert long_project.delete_records(["3"]) == 1


def _arms(project: Project) -> tuple[list[int], list[str]]:
    response = project.export_arms()
    return [a["arm_num"] for a in response], [a["name"] for a in response]


def test_arms_export(long_project: Project) -> None:
    assert _arms(long_project) == ([1, 2], ["Drug A", "Drug B"])


def test_arms_import(long_project: Project) -> None:
    assert long_project.import_arms([{"arm_num": 3, "name": "Drug C"}]) == 1
    # REDCap returns an arm only once it has an event.
    long_project.import_events([{"event_name": "new_event", "arm_num": "3"}])
    assert _arms(long_project) == ([1, 2, 3], ["Drug A", "Drug B", "Drug C"])


def test_arms_import_rename(long_project: Project) -> None:
    assert long_project.import_arms([{"arm_num": 1, "name": "Drug Alpha"}]) == 1
    assert _arms(long_project) == ([1, 2, 3], ["Drug Alpha", "Drug B", "Drug C"])


def test_arms_delete(long_project: Project) -> None:
    assert long_project.delete_arms([3]) == 1
    assert _arms(long_project) == ([1, 2], ["Drug Alpha", "Drug B"])


def test_arms_import_override(long_project: Project) -> None:
    events = long_project.export_events()
    form_event_map = long_project.export_instrument_event_mappings()
    assert long_project.import_arms([{"arm_num": 3, "name": "Drug C"}]) == 1
    long_project.import_events([{"event_name": "new_event", "arm_num": "3"}])
    assert len(long_project.export_arms()) == 3
    new_arms = [{"arm_num": 1, "name": "Drug A"}, {"arm_num": 2, "name": "Drug B"}]
    assert long_project.import_arms(new_arms, override=1) == 2
    assert long_project.import_events(events) == 16
    assert long_project.import_instrument_event_mappings(form_event_map) == 44
    assert _arms(long_project) == ([1, 2], ["Drug A", "Drug B"])


def test_events_export(long_project: Project) -> None:
    assert len(long_project.export_events()) == 16


def test_events_import(long_project: Project) -> None:
    assert long_project.import_events([{"event_name": "XYZ", "arm_num": "2"}]) == 1
    assert len(long_project.export_events()) == 17


def test_events_delete(long_project: Project) -> None:
    assert long_project.delete_events(["xyz_arm_2"]) == 1
    assert len(long_project.export_events()) == 16


def test_export_instruments(long_project: Project) -> None:
    assert len(long_project.export_instruments()) == 9


def test_fem_export(long_project: Project) -> None:
    assert len(long_project.export_instrument_event_mappings()) == 44


def test_fem_import(long_project: Project) -> None:
    current_fem = long_project.export_instrument_event_mappings()
    one = [{"arm_num": "1", "unique_event_name": "enrollment_arm_1", "form": "demographics"}]
    assert long_project.import_instrument_event_mappings(one) == 1
    response = long_project.export_instrument_event_mappings()
    assert len(response) == 1
    assert [fem["arm_num"] for fem in response] == [1]
    assert [fem["unique_event_name"] for fem in response] == ["enrollment_arm_1"]
    assert [fem["form"] for fem in response] == ["demographics"]
    assert long_project.import_instrument_event_mappings(current_fem) == 44
