"""At least 40 kinds of malformed submission: each goes to manual review with a reason.

All cases share one sandbox and one screen pass (the pass must survive all of them at once).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from screening_data import DEMO_CONFIG, GOOD, build_settings

from recruit_cli.exit_codes import ExitCode
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult
from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.screening.screen import screen_pass

TEN_KB = 10 * 1024
HTML = "<script>alert('x')</script>"
# (field -> value changes, the reason code expected)
CASES: dict[str, tuple[dict[str, str], str]] = {
    "age non-numeric": ({"age": "abc"}, "unevaluable_age"),
    "age words": ({"age": "thirty"}, "unevaluable_age"),
    "age blank": ({"age": ""}, "unevaluable_age"),
    "age spaces only": ({"age": "   "}, "unevaluable_age"),
    "age with unit": ({"age": "30 years"}, "unevaluable_age"),
    "age letter O": ({"age": "3O"}, "unevaluable_age"),
    "age two dots": ({"age": "30.5.1"}, "unevaluable_age"),
    "age html": ({"age": "<b>30</b>"}, "unevaluable_age"),
    "age full-width digits": ({"age": "３０"}, "unevaluable_age"),
    "age 10 KB": ({"age": "x" * TEN_KB}, "unevaluable_age"),
    "age emoji": ({"age": "🎂"}, "unevaluable_age"),
    "age dash": ({"age": "-"}, "unevaluable_age"),
    "qids 28": ({"qids_score": "28"}, "qids_invalid"),
    "qids -1": ({"qids_score": "-1"}, "qids_invalid"),
    "qids abc": ({"qids_score": "abc"}, "qids_invalid"),
    "qids 12.5": ({"qids_score": "12.5"}, "qids_invalid"),
    "qids blank": ({"qids_score": ""}, "qids_invalid"),
    "qids exponent": ({"qids_score": "1e1"}, "qids_invalid"),
    "qids plus sign": ({"qids_score": "+5"}, "qids_invalid"),
    "qids full-width": ({"qids_score": "１２"}, "qids_invalid"),
    "qids arabic-indic": ({"qids_score": "٣"}, "qids_invalid"),
    "qids two numbers": ({"qids_score": "5 5"}, "qids_invalid"),
    "qids hex": ({"qids_score": "0x1"}, "qids_invalid"),
    "qids NaN": ({"qids_score": "NaN"}, "qids_invalid"),
    "qids html": ({"qids_score": HTML}, "qids_invalid"),
    "qids 10 KB": ({"qids_score": "1" * TEN_KB}, "qids_invalid"),
    "qids 100": ({"qids_score": "100"}, "qids_invalid"),
    "email without @": ({"participant_email": "person.example.org"}, "email_invalid"),
    "email blank": ({"participant_email": ""}, "email_missing"),
    "email no domain": ({"participant_email": "person@"}, "email_invalid"),
    "email no local part": ({"participant_email": "@example.org"}, "email_invalid"),
    "email dotless domain": ({"participant_email": "person@localhost"}, "email_invalid"),
    "email space": ({"participant_email": "per son@example.org"}, "email_invalid"),
    "email two @": ({"participant_email": "a@@example.org"}, "email_invalid"),
    "email header injection": (
        {"participant_email": "a@example.org\nBcc: b@example.org"},
        "email_invalid",
    ),
    "email two addresses": ({"participant_email": "a@example.org, b@example.org"}, "email_invalid"),
    "email angle brackets": ({"participant_email": "<a@example.org>"}, "email_invalid"),
    "email html": ({"participant_email": HTML}, "email_invalid"),
    "email 10 KB": ({"participant_email": "a" * TEN_KB + "@example.org"}, "email_invalid"),
    "consent blank": ({"agree_participate": ""}, "unevaluable_consent"),
    "travel blank": ({"travel": ""}, "unevaluable_travel"),
    "english blank": ({"english": ""}, "unevaluable_english"),
    "tms blank": ({"tms_contra": ""}, "unevaluable_tms"),
    "safety item blank": ({"qids_12": ""}, "safety_unknown"),
    "dob in the future": ({"dob": "2999-01-01"}, "dob_plausible"),
    "dob not a date": ({"dob": "31/02/1990"}, "unevaluable_dob_plausible"),
    "dob impossible date": ({"dob": "1990-02-31"}, "unevaluable_dob_plausible"),
    "everything blank": (dict.fromkeys(GOOD.keys() - {"record_id", "qids_12"}, ""), ""),
}
IDS = {name: str(i) for i, name in enumerate(CASES, start=1)}
METADATA = copy.deepcopy(DEMO_METADATA)
METADATA.insert(3, {**METADATA[2], "field_name": "dob", "field_label": "Date of birth"})


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PassResult, dict]]:  # type: ignore[type-arg]
    screening = copy.deepcopy(DEMO_CONFIG["screening"])
    screening["ready"] = ""  # consent is a criterion here, so a blank one is screened
    screening["criteria"].insert(
        0, {"name": "consent", "require": "[agree_participate] = '1'", "reason": "No consent"}
    )
    screening["criteria"].append(
        {
            "name": "dob_plausible",
            "require": "datediff([dob], 'today', 'd', 'ymd', true) >= 0",
            "reason": "Date of birth is in the future",
            "on_false": "review",
        }
    )
    tmp: Path = tmp_path_factory.mktemp("malformed")
    with run_sandbox(metadata=METADATA) as sb:
        settings = build_settings(tmp, url=sb.url, token=sb.token, screening=screening)
        with RedcapClient.from_settings(settings) as client:
            rows = [
                {**GOOD, "dob": "1990-05-01", **changes, "record_id": IDS[name]}
                for name, (changes, _) in CASES.items()
            ]
            client.import_records(rows)
            result = screen_pass(settings, client, now=datetime(2025, 1, 1, tzinfo=UTC))
            state = {r["record_id"]: r for r in client.export_records()}
        yield result, state


def test_there_are_at_least_40_kinds() -> None:
    assert len(CASES) >= 40


def test_the_pass_survives_them_all(screened: tuple[PassResult, dict]) -> None:  # type: ignore[type-arg]
    result, _ = screened
    assert result.exit_code == ExitCode.OK
    assert len(result.actions) == len(CASES)


PARAMS = list(CASES)


@pytest.mark.parametrize("name", PARAMS)
def test_goes_to_manual_review_with_a_reason(name: str, screened: tuple[PassResult, dict]) -> None:  # type: ignore[type-arg]
    _, state = screened
    row = state[IDS[name]]
    code = CASES[name][1]
    assert row["pipeline_processing_status"] == "manual_review_required"
    lines = row["pipeline_ineligibility_reasons"].splitlines()
    assert lines and all(": " in line for line in lines)
    if code:
        assert code in [line.split(":")[0] for line in lines]
    for value in CASES[name][0].values():  # reasons never quote the value
        if len(value.strip()) > 2:
            assert value not in row["pipeline_ineligibility_reasons"]
