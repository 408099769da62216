"""The two projects PyCap's integration tests run on, built in a fresh sandbox through the
REDCap API (PyCap itself makes the calls), and the PyCap ``Project`` objects the tests use.

PyCap's own fixtures (tests/integration/conftest.py at the pinned commit, see README.md)
create the projects on redcapdemo.vumc.org from project XML with a super token. Here the
same shapes are made with the calls a project designer's API token has: the data
dictionary, then arms, events, the instrument-event mapping, the repeating instruments and
the records. What the tests count (15 fields, 3 records, 2 arms, 16 events, 44 mappings,
9 instruments) is the same; the field names the tests name are PyCap's, the rest and all
values are our own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redcap import Project

from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.design import Design


def meta(name: str, form: str, ftype: str, label: str = "", **extra: str) -> dict[str, str]:
    row = dict.fromkeys(METADATA_COLUMNS, "")
    row.update(field_name=name, form_name=form, field_type=ftype, field_label=label or name)
    row.update(extra)
    return row


def _v(kind: str, lo: str = "", hi: str = "") -> dict[str, str]:
    return {
        "text_validation_type_or_show_slider_number": kind,
        "text_validation_min": lo,
        "text_validation_max": hi,
    }


def _choices(text: str) -> dict[str, str]:
    return {"select_choices_or_calculations": text}


BMI = "round(([weight]*10000)/(([height])^(2)),1)"

# -- the classic project: one instrument, 15 fields, two of them calculated ---------------

D = "demographics"
SIMPLE_METADATA = [
    meta("record_id", D, "text", "Study ID"),
    meta("first_name", D, "text", "First Name", identifier="y"),
    meta("last_name", D, "text", "Last Name", identifier="y"),
    meta("address", D, "notes", "Street, City, State, ZIP"),
    meta("telephone", D, "text", "Phone number", **_v("phone")),
    meta("email", D, "text", "E-mail", **_v("email")),
    meta("dob", D, "text", "Date of birth", **_v("date_ymd")),
    meta("age", D, "calc", "Age (years)", **_choices("rounddown(datediff([dob],'today','y'))")),
    meta("ethnicity", D, "radio", "Ethnicity", **_choices("0, Hisp. | 1, Not hisp. | 2, Unknown")),
    meta("race", D, "dropdown", "Race", **_choices("0, A | 1, B | 2, C | 4, D | 6, Unknown")),
    meta("sex", D, "radio", "Gender", **_choices("0, Female | 1, Male")),
    meta("height", D, "text", "Height (cm)", **_v("number", "130", "215")),
    meta("weight", D, "text", "Weight (kilograms)", **_v("integer", "35", "200")),
    meta("bmi", D, "calc", "BMI", **_choices(BMI)),
    meta("comments", D, "notes", "Comments"),
]  # fmt: skip

SIMPLE_RECORDS = [
    {
        "record_id": "1", "first_name": "Ada", "last_name": "Sample", "address": "1 Loop Rd",
        "telephone": "(415) 555-0101", "email": "ada@example.org", "dob": "2001-02-03",
        "ethnicity": "2", "race": "6", "sex": "0", "height": "130", "weight": "100",
        "demographics_complete": "2",
    },
    {
        "record_id": "2", "first_name": "Bo", "last_name": "Sample", "address": "2 Loop Rd",
        "telephone": "(415) 555-0102", "email": "bo@example.org", "dob": "1999-09-09",
        "ethnicity": "0", "race": "4", "sex": "1", "height": "180", "weight": "80",
        "demographics_complete": "2",
    },
    {"record_id": "3", "first_name": "Cy", "last_name": "Partial", "demographics_complete": "0"},
]  # fmt: skip


@pytest.fixture(scope="module")
def simple_sandbox() -> Iterator[Sandbox]:
    with run_sandbox(metadata=SIMPLE_METADATA) as sb:
        yield sb


@pytest.fixture(scope="module")
def simple_project(simple_sandbox: Sandbox) -> Project:
    """PyCap's "simple" project: 3 records whose calc fields were never computed (its XML
    import leaves them blank, which its EAV count of 30 values shows). Here the records are
    imported before the calc fields are added, so REDCap has nothing to recalculate."""
    proj = Project(simple_sandbox.url, simple_sandbox.token)
    no_calc = [r for r in SIMPLE_METADATA if r["field_type"] != "calc"]
    assert proj.import_metadata(no_calc) == 13
    assert proj.import_records(SIMPLE_RECORDS) == {"count": 3}
    assert proj.import_metadata(SIMPLE_METADATA) == 15
    return Project(simple_sandbox.url, simple_sandbox.token)  # fresh metadata cache


# -- the longitudinal project: 2 arms, 16 events, 9 instruments, a repeating instrument and
# -- a survey ---------------------------------------------------------------------------

FORMS = [
    "demographics", "contact_info", "baseline_data", "visit_lab_data",
    "patient_morale_questionnaire", "visit_blood_workup", "visit_observed_behavior",
    "completion_data", "completion_project_questionnaire",
]  # fmt: skip
LONG_METADATA = [
    meta("study_id", "demographics", "text", "Study ID"),
    meta("first_name", "demographics", "text", "First Name"),
    meta("dob", "demographics", "text", "Date of birth", **_v("date_ymd")),
    meta("height", "demographics", "text", "Height (cm)", **_v("number")),
    meta("weight", "demographics", "text", "Weight (kilograms)", **_v("integer")),
    meta("bmi", "demographics", "calc", "BMI", **_choices(BMI)),
    meta("phone", "contact_info", "text", "Phone", **_v("phone")),
    meta("contact_comments", "contact_info", "notes", "Comments"),
    meta("prealb_b", "baseline_data", "text", "Prealbumin", **_v("number")),
    meta("vld1", "visit_lab_data", "text", "Albumin", **_v("number")),
    meta("pmq1", FORMS[4], "dropdown", "Morale", **_choices("0, Low | 1, High")),
    meta("vbw1", "visit_blood_workup", "text", "Hemoglobin", **_v("number")),
    meta("vob1", "visit_observed_behavior", "radio", "Alert", **_choices("0, No | 1, Yes")),
    meta("study_comments", "completion_data", "notes", "Comments"),
    meta("complete_study", "completion_data", "yesno", "Completed the study?"),
    meta("cpq1", "completion_project_questionnaire", "text", "Date", **_v("date_ymd")),
]  # fmt: skip

EVENTS = {  # event label -> instruments, per arm
    1: [
        ("Enrollment", ["demographics", "contact_info", "baseline_data"]),
        ("Dose 1", ["patient_morale_questionnaire"]),
        ("Visit 1", FORMS[3:7]),
        ("Dose 2", ["patient_morale_questionnaire"]),
        ("Visit 2", FORMS[3:7]),
        ("Dose 3", ["patient_morale_questionnaire"]),
        ("Visit 3", FORMS[3:7]),
        ("Final visit", [*FORMS[4:7], *FORMS[7:9]]),
    ],
    2: [
        ("Enrollment", ["demographics", "contact_info", "baseline_data"]),
        ("Deadline to opt out of study", ["contact_info"]),
        ("First dose", ["patient_morale_questionnaire"]),
        ("First visit", FORMS[3:7]),
        ("Second dose", ["patient_morale_questionnaire"]),
        ("Second visit", FORMS[3:7]),
        ("Final visit", [*FORMS[3:7], *FORMS[7:9]]),
        ("Deadline to return feedback", ["contact_info"]),
    ],
}

LONG_RECORDS = [
    {"study_id": "1", "redcap_event_name": "enrollment_arm_1", "first_name": "Ada",
     "dob": "2001-02-03", "height": "170", "weight": "70", "demographics_complete": "2"},
    {"study_id": "1", "redcap_event_name": "enrollment_arm_1", "phone": "(415) 555-0101",
     "contact_info_complete": "2"},
    {"study_id": "1", "redcap_event_name": "enrollment_arm_1",
     "redcap_repeat_instrument": "baseline_data", "redcap_repeat_instance": "1",
     "prealb_b": "0.2", "baseline_data_complete": "2"},
    {"study_id": "1", "redcap_event_name": "dose_1_arm_1", "pmq1": "1"},
    {"study_id": "1", "redcap_event_name": "visit_1_arm_1", "vld1": "3.5", "vob1": "1"},
    {"study_id": "1", "redcap_event_name": "final_visit_arm_1", "study_comments": "done",
     "complete_study": "1"},
    {"study_id": "2", "redcap_event_name": "enrollment_arm_2", "first_name": "Bo",
     "demographics_complete": "1"},
    {"study_id": "2", "redcap_event_name": "first_dose_arm_2", "pmq1": "0"},
]  # fmt: skip


@pytest.fixture(scope="module")
def long_sandbox() -> Iterator[Sandbox]:
    design = Design(is_longitudinal=True)  # REDCap's "longitudinal" project setting
    with run_sandbox(metadata=LONG_METADATA, design=design, surveys=["contact_info"]) as sb:
        yield sb


@pytest.fixture(scope="module")
def long_project(long_sandbox: Sandbox) -> Project:
    """PyCap's "long" project, designed through the API."""
    proj = Project(long_sandbox.url, long_sandbox.token)
    assert (
        proj.import_arms([{"arm_num": 1, "name": "Drug A"}, {"arm_num": 2, "name": "Drug B"}]) == 2
    )
    events = [
        {"event_name": name, "arm_num": arm} for arm, evs in EVENTS.items() for name, _ in evs
    ]
    assert proj.import_events(events) == 16
    names = [e["unique_event_name"] for e in proj.export_events()]
    forms = [forms for evs in EVENTS.values() for _, forms in evs]
    mapping = [
        {"arm_num": name.rsplit("_", 1)[1], "unique_event_name": name, "form": form}
        for name, event_forms in zip(names, forms, strict=True)
        for form in event_forms
    ]
    assert proj.import_instrument_event_mappings(mapping) == 44
    repeating = [
        {"event_name": "enrollment_arm_1", "form_name": "baseline_data", "custom_form_label": ""}
    ]
    assert proj.import_repeating_instruments_events(repeating) == 1
    assert proj.import_records(LONG_RECORDS) == {"count": 2}
    return Project(long_sandbox.url, long_sandbox.token)
