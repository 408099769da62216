"""Surveys: timestamps and the survey identifier with exportSurveyFields, links and codes,
and the sandbox-only response submission."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import requests
from conformance_helpers import Api, meta

from recruit_cli.errors import UsageError
from recruit_cli.sandbox import Sandbox, run_sandbox

V = "text_validation_type_or_show_slider_number"
# The shape of REDCapR's survey test project (inst/test-data/projects/survey), smaller.
METADATA = [
    meta("participant_id", "prescreening_survey", "text"),
    meta("dob", "prescreening_survey", "text", **{V: "date_ymd"}),
    meta("email", "prescreening_survey", "text", **{V: "email"}),
    meta("first_name", "participant_info_survey", "text"),
    meta("complete_study", "completion_data", "yesno"),
]  # fmt: skip
SURVEYS = ["prescreening_survey", "participant_info_survey"]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(metadata=METADATA, surveys=SURVEYS) as sandbox:
        yield sandbox


def csv_export(api: Api, sb: Sandbox, **params: str) -> list[str]:
    return api(sb, content="record", format="csv", **params).text.splitlines()


def test_survey_columns_in_recorded_order(sb: Sandbox, api: Api) -> None:
    # REDCapR's recorded survey export (inst/test-data/projects/survey/data.csv) starts
    # participant_id,redcap_survey_identifier,prescreening_survey_timestamp,dob,email,...,
    # prescreening_survey_complete,participant_info_survey_timestamp,first_name,...
    sb.submit_survey("prescreening_survey", {"dob": "2000-01-01", "email": "a@example.org"},
                     when=datetime(2018, 3, 6, 15, 52, 43))  # fmt: skip
    sb.submit_survey("participant_info_survey", {"first_name": "Al"}, record="1", completed=False)
    lines = csv_export(api, sb, exportSurveyFields="true")
    assert lines[0] == (
        "participant_id,redcap_survey_identifier,prescreening_survey_timestamp,dob,email,"
        "prescreening_survey_complete,participant_info_survey_timestamp,first_name,"
        "participant_info_survey_complete,complete_study,completion_data_complete"
    )
    # The recorded row: 1,,"2018-03-06 15:52:43",2018-03-06,aaa@bbb.com,1,1,2,,...,"[not completed]"
    assert lines[1] == (
        '1,,"2018-03-06 15:52:43",2000-01-01,a@example.org,2,"[not completed]",Al,0,,0'
    )
    # Without the flag: no survey columns.
    assert csv_export(api, sb)[0] == (
        "participant_id,dob,email,prescreening_survey_complete,first_name,"
        "participant_info_survey_complete,complete_study,completion_data_complete"
    )


def test_a_timestamp_can_be_asked_for_by_name(sb: Sandbox, api: Api) -> None:
    sb.submit_survey("prescreening_survey", {"dob": "2000-01-01"}, when=datetime(2024, 5, 1, 9))
    api(sb, content="record", data=[{"participant_id": "2", "dob": "1990-01-01"}])
    rows = api(
        sb, content="record", format="json",
        fields="participant_id,prescreening_survey_timestamp",
    ).json()  # fmt: skip
    assert rows == [
        {"participant_id": "1", "prescreening_survey_timestamp": "2024-05-01 09:00:00"},
        {"participant_id": "2", "prescreening_survey_timestamp": ""},  # entered, not a survey
    ]


def test_a_response_is_logged_as_the_respondent_and_numbered_next(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=[{"participant_id": "41"}])
    assert sb.submit_survey("prescreening_survey", {"email": "b@example.org"}) == "42"
    entry = api(sb, content="log", format="json", logtype="record").json()[0]
    assert (entry["username"], entry["action"]) == (
        "[survey respondent]",
        "Create survey response 42",
    )


def test_a_refused_answer_writes_nothing(sb: Sandbox, api: Api) -> None:
    with pytest.raises(UsageError, match="could not be validated"):
        sb.submit_survey("prescreening_survey", {"email": "not an address"})
    with pytest.raises(UsageError, match="not enabled as a survey"):
        sb.submit_survey("completion_data", {"complete_study": "1"})
    assert api(sb, content="record", format="json").json() == []


def test_survey_link_and_posting_answers_to_it(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=[{"participant_id": "7"}])
    resp = api(sb, content="surveyLink", instrument="participant_info_survey", record="7")
    assert resp.headers["Content-Type"].startswith("text/plain")
    link = resp.text
    assert link.startswith(sb.url.replace("/api/", "/surveys/?s="))
    assert link == sb.survey_url("participant_info_survey", record="7")
    assert requests.post(link, data={"first_name": "Di"}, timeout=10).json() == {"record": "7"}
    row = api(sb, content="record", format="json", exportSurveyFields="true").json()[0]
    assert row["first_name"] == "Di"
    assert row["participant_info_survey_complete"] == "2"
    assert row["participant_info_survey_timestamp"][:4] == str(datetime.now().year)
    # The public survey's link makes a new record.
    public = sb.survey_url("prescreening_survey")
    assert requests.post(public, data={"dob": "1999-12-31"}, timeout=10).json() == {"record": "8"}


def test_codes_and_participant_list(sb: Sandbox, api: Api) -> None:
    sb.submit_survey("prescreening_survey", {"dob": "2000-01-01"})
    api(sb, content="record", data=[{"participant_id": "2"}])
    ref = {"instrument": "prescreening_survey", "record": "1"}
    access = api(sb, content="surveyAccessCode", **ref).text
    assert len(access) == 9  # PyCap's integration test: 9 characters
    assert len(api(sb, content="surveyReturnCode", **ref).text) == 8
    queue = api(sb, content="surveyQueueLink", record="1").text
    assert queue.startswith(sb.url.replace("/api/", "/surveys/?sq="))
    people = api(
        sb, content="participantList", format="json", instrument="prescreening_survey"
    ).json()
    assert [(p["record"], p["response_status"]) for p in people] == [("1", 2), ("2", 0)]
    assert people[0]["survey_access_code"] == access


def test_survey_calls_on_what_is_not_a_survey(sb: Sandbox, api: Api) -> None:
    api(sb, content="record", data=[{"participant_id": "1"}])
    resp = api(sb, content="surveyLink", instrument="completion_data", record="1", format="json")
    assert resp.status_code == 400
    assert "not enabled as a survey" in resp.json()["error"]
    resp = api(sb, content="surveyLink", instrument="prescreening_survey", record="9")
    assert resp.status_code == 400
