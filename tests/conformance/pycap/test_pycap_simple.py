"""PyCap's integration tests for a classic project (tests/integration/test_simple_project.py
at the pinned commit, README.md), run against the sandbox: the same calls, the same
assertions. Users, roles, DAGs, the file repository and PDF exports are out of the
sandbox's scope (the issue leaves them out): their tests are not restated here, and
README.md names them.
"""

from __future__ import annotations

from io import StringIO

import pandas as pd
import pytest
import semantic_version
from redcap import Project, RedcapError


def test_is_not_longitudinal(simple_project: Project) -> None:
    assert not simple_project.is_longitudinal


def test_export_records(simple_project: Project) -> None:
    assert len(simple_project.export_records()) == 3


def test_export_records_always_has_record_id(simple_project: Project) -> None:
    proj_records_export = simple_project.export_records(fields=["first_name"])
    assert "record_id" in proj_records_export[0]


def test_export_records_df(simple_project: Project) -> None:
    assert len(simple_project.export_records(format_type="df")) == 3


def test_export_records_df_eav(simple_project: Project) -> None:
    # 13 stored values for each full record, 4 for the partial one; calc fields unset.
    df = simple_project.export_records(format_type="df", record_type="eav")
    assert len(df) == 30


def test_import_and_delete_records(simple_project: Project) -> None:
    new_record_ids = [4, 5, 6]
    test_records = [{"record_id": i} for i in new_record_ids]
    res = simple_project.import_records(test_records)
    assert res["count"] == len(test_records)
    res = simple_project.import_records(test_records, return_content="ids")
    assert len(res) == len(test_records)
    res = simple_project.import_records(test_records, return_content="nothing")
    assert res == [{}]
    assert simple_project.delete_records(new_record_ids) == 3


@pytest.mark.parametrize(
    ("return_format_type", "import_output", "delete_output"),
    [
        ("csv", "3", "3"),
        ("xml", '<?xml version="1.0" encoding="UTF-8" ?><count>3</count>', "3"),
    ],
)
def test_import_and_delete_records_non_json(
    simple_project: Project, return_format_type: str, import_output: str, delete_output: str
) -> None:
    new_record_ids = ["4", "5", "6"]
    test_records_csv = "record_id\n" + "\n".join(new_record_ids)
    test_records_df = pd.read_csv(StringIO(test_records_csv))
    res = simple_project.import_records(
        test_records_df, import_format="df", return_format_type=return_format_type
    )
    assert res == import_output
    res = simple_project.delete_records(new_record_ids, return_format_type=return_format_type)
    assert res == delete_output


def test_import_df_no_index(simple_project: Project) -> None:
    exported = simple_project.export_records(
        format_type="df", df_kwargs={"sep": ","}
    ).convert_dtypes()
    # The blank calc columns (age, bmi) go back in: REDCap accepts them.
    assert {"age", "bmi"} <= set(exported.columns)
    assert simple_project.import_records(exported, import_format="df")["count"] == 3


def test_export_version(simple_project: Project) -> None:
    assert simple_project.export_version() >= semantic_version.Version("12.0.1")


def test_export_field_names(simple_project: Project) -> None:
    # 15 fields (the two calc fields included) + demographics_complete.
    assert len(simple_project.export_field_names()) == 16


def test_export_one_field_name(simple_project: Project) -> None:
    assert len(simple_project.export_field_names(field="first_name")) == 1


def test_export_field_names_df(simple_project: Project) -> None:
    field_names = simple_project.export_field_names(format_type="df")
    assert all(field_names.columns == ["choice_value", "export_field_name"])


def test_export_instruments(simple_project: Project) -> None:
    assert len(simple_project.export_instruments()) == 1


def test_export_and_import_metadata(simple_project: Project) -> None:
    original_metadata = simple_project.export_metadata()
    assert len(original_metadata) == 15
    reduced_metadata = original_metadata[:14]
    assert simple_project.import_metadata(reduced_metadata) == len(reduced_metadata)
    assert simple_project.import_metadata(original_metadata) == len(original_metadata)


def test_export_and_import_metadata_csv(simple_project: Project) -> None:
    metadata = simple_project.export_metadata("csv")
    assert "field_name,form_name" in metadata
    assert simple_project.import_metadata(to_import=metadata, import_format="csv") == 15


def test_export_and_import_metadata_df(simple_project: Project) -> None:
    metadata = simple_project.export_metadata(
        format_type="df",
        df_kwargs={
            "index_col": "field_name",
            "dtype": {
                "text_validation_min": pd.Int64Dtype(),
                "text_validation_max": pd.Int64Dtype(),
            },
        },
    )
    assert metadata.index.name == "field_name"
    assert simple_project.import_metadata(to_import=metadata, import_format="df") == 15


def test_export_project_info(simple_project: Project) -> None:
    assert simple_project.export_project_info()["is_longitudinal"] == 0


def test_export_logging(simple_project: Project) -> None:
    logs = simple_project.export_logging(log_type="manage")
    first_log = logs.pop()
    assert "manage/design" in first_log["action"].lower()


def test_export_arms(simple_project: Project) -> None:
    with pytest.raises(RedcapError):
        simple_project.export_arms()


def test_export_events(simple_project: Project) -> None:
    with pytest.raises(RedcapError):
        simple_project.export_events()


def test_export_instrument_event_mapping(simple_project: Project) -> None:
    with pytest.raises(RedcapError):
        simple_project.export_instrument_event_mappings()
