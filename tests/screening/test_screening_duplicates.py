"""One person, one study ID: `recruit run` holds a later submission by the same person.

Each test runs the real passes (screen, alert, assign, invite, notify) against the sandbox
and reads back what REDCap holds and what the outbox transport wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from holds_support import outbox, project, put, records, recruit_run, sent, status, study

from recruit_cli.config import load_settings
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.screening.screen import screen_pass

HELD = "manual_review_required"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    monkeypatch.delenv("RECRUIT_CONFIG", raising=False)


def test_the_same_email_in_any_case_or_spacing_is_held_before_an_id_or_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(
            sb,
            {"record_id": "1", "participant_email": "pat.lee@example.org"},
            {"record_id": "2", "participant_email": "pat.lee@example.org"},
            {"record_id": "3", "participant_email": "  Pat.Lee@EXAMPLE.org "},
            {"record_id": "4", "participant_email": "PAT.LEE@example.org"},
            {"record_id": "5", "participant_email": "pat.leigh@example.org"},
        )
        assert recruit_run(config) == 0
        got = records(sb)
        assert status(got["1"]) == ("eligible_invited", "", "3000")
        for rid in ("2", "3", "4"):
            assert status(got[rid]) == (
                HELD,
                "duplicate: same participant_email as record 1",
                "",
            ), rid
            assert got[rid]["pipeline_invitation_sent_timestamp"] == ""
        # Someone else, screened in the same pass: the next ID, none used up on duplicates.
        assert status(got["5"]) == ("eligible_invited", "", "3001")
        assert outbox(tmp_path) == sent("1:invite:1", "5:invite:1")


def test_the_same_name_and_date_of_birth_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        person = {"first_name": "Ana María", "dob": "1990-04-02"}
        put(
            sb,
            {"record_id": "1", "participant_email": "ana@example.org", **person},
            {
                "record_id": "2",
                "participant_email": "ana.m@example.org",
                "first_name": " ana   MARÍA ",
                "dob": "1990-04-02",
            },
            # The same name born another day, and another name born the same day: others.
            {
                "record_id": "3",
                "participant_email": "a3@example.org",
                **person,
                "dob": "1991-04-02",
            },
            {
                "record_id": "4",
                "participant_email": "a4@example.org",
                **person,
                "first_name": "Ana",
            },
        )
        assert recruit_run(config) == 0
        got = records(sb)
        assert status(got["2"]) == (HELD, "duplicate: same first_name and dob as record 1", "")
        assert {
            rid: got[rid]["pipeline_processing_status"] for rid in ("1", "3", "4")
        } == dict.fromkeys(("1", "3", "4"), "eligible_invited")
        assert outbox(tmp_path) == sent("1:invite:1", "3:invite:1", "4:invite:1")


def test_within_one_batch_the_later_submission_is_the_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Record 7 was submitted before record 6 (the configured submitted_at field): 6 is the
    # later submission, whatever the record ids say.
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb, submitted_at=True)
        put(
            sb,
            {"record_id": "6", "submitted_on": "2025-03-02 09:00:00"},
            {"record_id": "7", "submitted_on": "2025-03-01 18:30:00"},
        )
        assert recruit_run(config) == 0
        got = records(sb)
        assert status(got["7"]) == ("eligible_invited", "", "3000")
        assert status(got["6"]) == (HELD, "duplicate: same participant_email as record 7", "")
        assert outbox(tmp_path) == sent("7:invite:1")


def test_a_duplicate_of_an_invited_record_is_held_and_the_earlier_record_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(sb, {"record_id": "1"})
        assert recruit_run(config) == 0
        before = records(sb)["1"]
        assert status(before) == ("eligible_invited", "", "3000")

        put(sb, {"record_id": "2", "participant_email": " Person@Example.org"})
        assert recruit_run(config) == 0
        got = records(sb)
        assert got["1"] == before
        assert status(got["2"]) == (HELD, "duplicate: same participant_email as record 1", "")
        assert outbox(tmp_path) == sent("1:invite:1")


def test_a_duplicate_of_an_ineligible_record_is_held_even_when_eligible_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(sb, {"record_id": "1", "age": "17"})
        assert recruit_run(config) == 0
        before = records(sb)["1"]
        assert before["pipeline_processing_status"] == "ineligible_notified"

        # The same person, now claiming an age that makes them eligible: a person decides.
        put(sb, {"record_id": "2", "age": "18"})
        assert recruit_run(config) == 0
        got = records(sb)
        assert got["1"] == before
        assert status(got["2"]) == (HELD, "duplicate: same participant_email as record 1", "")
        assert got["2"]["pipeline_group"] == ""
        assert outbox(tmp_path) == sent("1:ineligible:1")


def test_an_acknowledged_duplicate_is_screened_normally_and_not_held_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(sb, {"record_id": "1"}, {"record_id": "2"})
        assert recruit_run(config) == 0
        assert records(sb)["2"]["pipeline_processing_status"] == HELD

        # A coordinator finds two people sharing one mailbox: record 2 is someone else.
        put(sb, {"record_id": "2", "pipeline_duplicate_ok": "1"})
        assert recruit_run(config) == 0
        got = records(sb)
        assert status(got["2"]) == ("eligible_invited", "", "3001")
        assert outbox(tmp_path) == sent("1:invite:1", "2:invite:1")

        # Not held again, and nothing else changes on later runs.
        assert recruit_run(config) == 0
        assert records(sb) == got
        assert outbox(tmp_path) == sent("1:invite:1", "2:invite:1")


def test_a_first_form_that_becomes_ready_after_the_second_was_screened_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Record 1 was left without consent; the person submitted again (record 2), which was
    # held as a later duplicate and released by staff. When record 1 is completed later, it
    # is earlier by submission but record 2 already went through: one person, one study ID.
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(sb, {"record_id": "1", "agree_participate": "0"}, {"record_id": "2"})
        assert recruit_run(config) == 0
        assert status(records(sb)["2"]) == (
            HELD,
            "duplicate: same participant_email as record 1",
            "",
        )
        put(sb, {"record_id": "2", "pipeline_duplicate_ok": "1"})
        assert recruit_run(config) == 0
        assert status(records(sb)["2"]) == ("eligible_invited", "", "3000")

        put(sb, {"record_id": "1", "agree_participate": "1"})
        assert recruit_run(config) == 0
        got = records(sb)
        assert status(got["1"]) == (HELD, "duplicate: same participant_email as record 2", "")
        assert outbox(tmp_path) == sent("2:invite:1")


def test_blank_identity_fields_never_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(
            sb,
            # No name or date of birth at all.
            {"record_id": "1", "participant_email": "one@example.org"},
            {"record_id": "2", "participant_email": "two@example.org"},
            # The same name, the date of birth blank (whitespace only) in both.
            {
                "record_id": "3",
                "participant_email": "c@example.org",
                "first_name": "Kim",
                "dob": "",
            },
            {"record_id": "4", "participant_email": "d@example.org", "first_name": "Kim"},
            # No e-mail address in either: held for that, not as each other's duplicate.
            {"record_id": "5", "participant_email": ""},
            {"record_id": "6", "participant_email": "   "},
            # Whereas the same address is a match, blank names and all.
            {"record_id": "7", "participant_email": "one@example.org"},
        )
        assert recruit_run(config) == 0
        got = records(sb)
        for rid in ("1", "2", "3", "4"):
            assert got[rid]["pipeline_processing_status"] == "eligible_invited", rid
        assert status(got["7"]) == (HELD, "duplicate: same participant_email as record 1", "")
        for rid in ("5", "6"):
            assert status(got[rid]) == (
                HELD,
                "email_missing: [participant_email] is blank",
                "",
            ), rid
        assert outbox(tmp_path) == sent(*(f"{r}:invite:1" for r in "1234"))


def test_a_duplicate_matching_the_safety_rule_goes_to_safety_review_and_staff_are_alerted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(sb, {"record_id": "1"})
        assert recruit_run(config) == 0
        put(
            sb,
            {"record_id": "2", "qids_12": "3"},
            {"record_id": "3", "qids_12": "2"},
            {"record_id": "4", "qids_12": "0"},
        )
        assert recruit_run(config) == 0
        got = records(sb)
        for rid in ("2", "3"):
            assert status(got[rid]) == ("safety_review", "safety: matched the safety rule", "")
            assert got[rid]["pipeline_safety_alert_timestamp"] != ""
        # The same person without the safety concern is held as a duplicate, no alert.
        assert status(got["4"]) == (HELD, "duplicate: same participant_email as record 1", "")
        assert got["4"]["pipeline_safety_alert_timestamp"] == ""
        assert outbox(tmp_path) == sent("1:invite:1", "2:safety_alert:1", "3:safety_alert:1")


def test_the_check_costs_one_export_and_none_when_there_is_nothing_to_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        settings = load_settings(Path(study(tmp_path, sb)))
        put(
            sb,
            *(
                {"record_id": str(i), "participant_email": f"p{i % 3}@example.org"}
                for i in range(1, 31)
            ),
            {"record_id": "31", "agree_participate": "0"},  # not ready: left alone
        )
        with RedcapClient.from_settings(settings) as client:
            plan = screen_pass(settings, client, dry_run=True)
            assert client.calls == 2  # the identity fields of all + what screening reads
            held = [a.record_id for a in plan.actions if a.action == "review"]
            assert held == [str(i) for i in range(4, 31)]
            screen_pass(settings, client)
            before = client.calls
            assert screen_pass(settings, client).actions == ()
            # Record 31 is still pending (not ready): its status keeps the screen export.
            assert client.calls - before == 2
            client.import_records([{"record_id": "31", "pipeline_processing_status": "x"}])
            before = client.calls
            assert screen_pass(settings, client).actions == ()
            # Nothing pending: the identity export is the pass's only call, as the screen
            # export is without [duplicates].
            assert client.calls - before == 1
            before = client.calls
            only = screen_pass(settings, client, records=["2", "404"])
            assert client.calls - before == 1 and only.actions == ()
            assert any("record 404: not screened" in n for n in only.notices)
