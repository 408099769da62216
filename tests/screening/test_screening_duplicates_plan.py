"""find_duplicates on its own (pure): which earlier record a submission is held against."""

from __future__ import annotations

from screening_data import SettingsFactory

from recruit_cli.screening.duplicates import find_duplicates, normalised
from recruit_cli.settings import Settings

MATCH = {"match": [["participant_email"], ["first_name", "dob"]]}


def rec(rid: str, email: str = "", **more: str) -> dict[str, str]:
    return {"record_id": rid, "participant_email": email, **more}


def held(settings: Settings, rows: list[dict[str, str]], *asked: str) -> dict[str, str]:
    return {rid: r.text for rid, r in find_duplicates(settings, rows, set(asked)).items()}


def test_values_are_compared_normalised() -> None:
    assert normalised("  Ana \t María ", email=False) == normalised("ana maría", email=False)
    assert normalised(" JO@Example.ORG ", email=True) == normalised("jo@example.org", email=True)
    assert normalised(" \t ", email=True) == "" == normalised("", email=False)


def test_the_reason_names_the_earliest_match_over_every_entry(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(duplicates=MATCH)
    rows = [
        rec("1", "x@example.org", first_name="Kim", dob="2000-01-01", **{
            "pipeline_processing_status": "eligible_invited", "assigned_study_id": "3000"}),
        rec("2", "kim@example.org", pipeline_processing_status="ineligible_notified"),
        rec("3", "KIM@example.org", first_name="kim", dob="2000-01-01"),
    ]  # fmt: skip
    assert held(settings, rows, "3") == {"3": "same first_name and dob as record 1"}


def test_submission_order_is_the_submitted_at_field_when_configured(
    make_settings: SettingsFactory,
) -> None:
    fields = {"email": "participant_email", "submitted_at": "submitted_on"}
    settings = make_settings(duplicates=MATCH, fields=fields)
    rows = [
        rec("1", "a@example.org", submitted_on="2025-03-02 08:00:00"),
        rec("2", "a@example.org", submitted_on="2025-03-01 08:00:00"),
        rec("3", "a@example.org"),  # no submission time: after those with one
    ]
    assert held(settings, rows, "1", "2", "3") == {
        "1": "same participant_email as record 2",
        "3": "same participant_email as record 2",
    }


def test_a_record_already_through_screening_comes_first_whatever_its_time(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(duplicates=MATCH)
    rows = [
        rec("1", "a@example.org"),  # pending, earliest
        rec("2", "a@example.org", pipeline_processing_status="eligible_invited"),
        rec("3", "b@example.org"),  # pending, earliest
        rec("4", "b@example.org", assigned_study_id="3001"),  # staff reset it to pending
        rec("5", "c@example.org"),
        rec("6", "c@example.org"),  # pending, not being screened now (not ready)
    ]
    assert held(settings, rows, "1", "3", "4", "5") == {
        "1": "same participant_email as record 2",
        "3": "same participant_email as record 4",
        # 4 holds a study ID: never held. 5 is earlier than 6, which is not through.
    }


def test_the_events_of_a_longitudinal_record_count_as_one_record(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(duplicates=MATCH)
    rows = [
        rec("1", "", redcap_event_name="screening_arm_1"),
        rec("1", "a@example.org", redcap_event_name="baseline_arm_1"),
        rec("2", "A@example.org", redcap_event_name="screening_arm_1"),
    ]
    assert held(settings, rows, "2") == {"2": "same participant_email as record 1"}


def test_a_value_many_records_share_is_one_group_not_pairs(
    make_settings: SettingsFactory,
) -> None:
    # A placeholder address typed by thousands: each new one is held against the first.
    settings = make_settings(duplicates=MATCH)
    old = [
        rec(str(i), "none@example.org", pipeline_processing_status="ineligible_notified")
        for i in range(1, 5001)
    ]
    new = [rec(str(i), " NONE@example.org") for i in range(5001, 5004)]
    assert held(settings, old + new, "5001", "5002", "5003") == {
        rid: "same participant_email as record 1" for rid in ("5001", "5002", "5003")
    }
