"""rawOrLabelHeaders=label, and min/max that are soft on import."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conformance_helpers import Api, meta

from recruit_cli.sandbox import Sandbox, run_sandbox

V = "text_validation_type_or_show_slider_number"
METADATA = [
    meta("record_id", "demographics", "text", "Study ID"),
    meta("first_name", "demographics", "text", "<b>First</b> Name"),
    meta("race", "demographics", "checkbox", "Race (Select all that apply)",
         select_choices_or_calculations="1, American Indian/Alaska Native | 2, Asian"),
    meta("weight", "demographics", "text", "Weight (kilograms)",
         **{V: "integer", "text_validation_min": "35", "text_validation_max": "200"}),
    meta("height", "demographics", "text", "Height (cm)",
         **{V: "number", "text_validation_min": "130", "text_validation_max": "215",
            "field_annotation": "@FORCE-MINMAX"}),
]  # fmt: skip


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(metadata=METADATA) as sandbox:
        yield sandbox


def test_label_headers_as_recorded(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=[{"record_id": "1", "race___2": "1", "weight": "70"}])
    text = api(sb, content="record", format="csv", rawOrLabelHeaders="label").text
    # REDCapR's recorded label-header export (read-oneshot/label-header.R): `Study ID`,
    # `Race (Select all that apply) (choice=American Indian/Alaska Native)`, `Complete?`.
    assert text.splitlines() == [
        '"Study ID","First Name","Race (Select all that apply) (choice=American Indian/Alaska '
        'Native)","Race (Select all that apply) (choice=Asian)","Weight (kilograms)",'
        '"Height (cm)",Complete?',
        "1,,0,1,70,,0",
    ]
    # Values stay raw unless rawOrLabel=label too.
    rows = api(sb, content="record", format="json", rawOrLabelHeaders="label",
               rawOrLabel="label").json()  # fmt: skip
    assert rows[0]["Race (Select all that apply) (choice=Asian)"] == "Checked"
    assert rows[0]["Complete?"] == "Incomplete"


def test_out_of_range_values_are_imported(sb: Sandbox, api: Api) -> None:
    # REDCap's min/max are soft: the data-entry form warns ("This value is admissible, but
    # you may wish to double check it", REDCap's API help page), an import keeps the value.
    resp = api(sb, content="record", data=[{"record_id": "1", "weight": "500"}])
    assert resp.json() == {"count": 1}
    rows = api(sb, content="record", format="json", fields="record_id,weight").json()
    assert rows == [{"record_id": "1", "weight": "500"}]


def test_force_minmax_makes_the_range_hard(sb: Sandbox, api: Api) -> None:
    resp = api(sb, content="record", data=[{"record_id": "1", "height": "300"}],
               returnFormat="json")  # fmt: skip
    assert resp.status_code == 400
    assert resp.json()["error"].startswith(
        '"1","height","300","The value you provided is outside the allowed range'
    )
