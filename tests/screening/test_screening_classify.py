"""classify: one record -> one outcome, in the documented order, never raising."""

from __future__ import annotations

import random
import string

import pytest
from screening_data import DEMO_CONFIG, GOOD, SettingsFactory

from recruit_cli.errors import ConfigError
from recruit_cli.screening.classify import ScreeningRules, classify
from recruit_cli.settings import Settings, Status


@pytest.fixture
def rules(settings: Settings) -> ScreeningRules:
    return ScreeningRules.from_settings(settings)


def rec(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("changes", "status", "codes", "group"),
    [
        ({}, Status.ELIGIBLE, (), "HC"),
        ({"qids_score": "15"}, Status.ELIGIBLE, (), "MDD"),
        ({"qids_score": "5"}, Status.ELIGIBLE, (), "HC"),
        ({"qids_score": "8"}, Status.MANUAL_REVIEW, ("between_groups",), None),
        ({"qids_score": "21"}, Status.MANUAL_REVIEW, ("between_groups",), None),
        ({"age": "17"}, Status.INELIGIBLE, ("age",), None),
        ({"age": "17", "travel": "0"}, Status.INELIGIBLE, ("age", "travel"), None),
        ({"age": "17", "travel": ""}, Status.INELIGIBLE, ("age",), None),
        ({"age": "abc"}, Status.MANUAL_REVIEW, ("unevaluable_age",), None),
        ({"age": ""}, Status.MANUAL_REVIEW, ("unevaluable_age",), None),
        ({"qids_score": "28"}, Status.MANUAL_REVIEW, ("qids_invalid",), None),
        (
            {"qids_score": "abc", "age": "x"},
            Status.MANUAL_REVIEW,
            ("qids_invalid", "unevaluable_age"),
            None,
        ),
        ({"qids_score": "12.5", "age": "70"}, Status.INELIGIBLE, ("age",), None),
        ({"qids_12": "2"}, Status.SAFETY_REVIEW, ("safety",), None),
        ({"qids_12": "3", "age": "12", "qids_score": "x"}, Status.SAFETY_REVIEW, ("safety",), None),
        ({"qids_12": ""}, Status.MANUAL_REVIEW, ("safety_unknown",), None),
        ({"qids_12": "", "age": "12"}, Status.MANUAL_REVIEW, ("safety_unknown",), None),
        ({"participant_email": "nobody"}, Status.MANUAL_REVIEW, ("email_invalid",), None),
        ({"participant_email": ""}, Status.MANUAL_REVIEW, ("email_missing",), None),
        (
            {"participant_email": "x", "qids_score": "8"},
            Status.MANUAL_REVIEW,
            ("email_invalid", "between_groups"),
            None,
        ),
        ({"participant_email": "nobody", "age": "9"}, Status.INELIGIBLE, ("age",), None),
    ],
)
def test_outcomes(
    rules: ScreeningRules,
    changes: dict[str, str],
    status: Status,
    codes: tuple[str, ...],
    group: str | None,
) -> None:
    outcome = classify(rules, rec(**changes))
    assert (outcome.status, outcome.codes, outcome.group) == (status, codes, group)


def test_reason_lines_are_code_and_text(rules: ScreeningRules) -> None:
    outcome = classify(rules, rec(age="17", travel="0"))
    assert outcome.reasons_text == "age: Must be 18-65\ntravel: Must travel to the lab"


def test_reasons_never_contain_values(rules: ScreeningRules) -> None:
    secret = "Sensitive-Answer-9431"
    for field in ("age", "qids_score", "participant_email"):
        outcome = classify(rules, rec(**{field: secret}))
        assert outcome.status == Status.MANUAL_REVIEW
        assert secret not in outcome.reasons_text


def test_on_unknown_ineligible(make_settings: SettingsFactory) -> None:
    screening = dict(DEMO_CONFIG["screening"])
    screening["criteria"] = [
        {"name": "age", "require": "[age] >= 18", "reason": "Adult", "on_unknown": "ineligible"}
    ]
    rules = ScreeningRules.from_settings(make_settings(screening=screening))
    assert classify(rules, rec(age="")).codes == ("age",)
    assert classify(rules, rec(age="")).status == Status.INELIGIBLE


def test_on_false_review_is_a_plausibility_check(make_settings: SettingsFactory) -> None:
    screening = dict(DEMO_CONFIG["screening"])
    screening["criteria"] = [
        {
            "name": "dob_plausible",
            "require": "datediff([dob], 'today', 'd', 'ymd', true) >= 0",
            "reason": "Date of birth is in the future",
            "on_false": "review",
        }
    ]
    rules = ScreeningRules.from_settings(make_settings(screening=screening))
    future = classify(rules, rec(dob="2999-01-01"))
    assert future.status == Status.MANUAL_REVIEW
    assert future.reasons_text == "dob_plausible: Date of birth is in the future"
    assert classify(rules, rec(dob="1990-05-01")).status == Status.ELIGIBLE


def test_bad_on_false_names_the_key(make_settings: SettingsFactory) -> None:
    screening = dict(DEMO_CONFIG["screening"])
    screening["criteria"] = [{"name": "a", "require": "[a] = 1", "reason": "r", "on_false": "x"}]
    with pytest.raises(ConfigError, match=r"screening\.criteria\[0\]\.on_false"):
        make_settings(screening=screening)


def test_ambiguous_groups(make_settings: SettingsFactory) -> None:
    groups = [dict(g) for g in DEMO_CONFIG["groups"]]
    groups[1]["when"] = "[qids_total] >= 0"
    outcome = classify(ScreeningRules.from_settings(make_settings(groups=groups)), rec())
    assert outcome.codes == ("ambiguous_group",)


def test_items_mode(make_settings: SettingsFactory) -> None:
    items = [f"qids_{i}" for i in range(1, 17)]
    rules = ScreeningRules.from_settings(make_settings(qids={"items": items}))
    record = rec(**dict.fromkeys(items, "0"))
    record["qids_12"] = "0"
    assert classify(rules, record).group == "HC"
    record["qids_3"] = ""
    assert classify(rules, record).codes == ("qids_invalid",)


def test_no_safety_rule_and_no_qids(make_settings: SettingsFactory) -> None:
    groups = [{"name": "ALL", "label": "All", "when": "[age] > 0", "first_id": 1, "last_id": 9}]
    rules = ScreeningRules.from_settings(make_settings(safety={}, qids={}, groups=groups))
    assert classify(rules, rec(qids_12="", qids_score="")).group == "ALL"


def test_malformed_rule_is_a_config_error_naming_the_key(make_settings: SettingsFactory) -> None:
    groups = [dict(g) for g in DEMO_CONFIG["groups"]]
    groups[1]["when"] = "[qids_total] >=> 3"
    with pytest.raises(ConfigError, match=r"groups\[1\]\.when"):  # when the config loads
        make_settings(groups=groups)


def test_total_on_random_garbage(rules: ScreeningRules) -> None:
    rng = random.Random(1234)
    alphabet = string.printable + "é漢字\u200b\u202e<>&\"'"
    fields = list(GOOD)
    for _ in range(2000):
        record = dict(GOOD)
        for field in rng.sample(fields, rng.randint(1, len(fields))):
            record[field] = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        outcome = classify(rules, record)  # must not raise
        assert outcome.status in set(Status)
        if outcome.status in (Status.MANUAL_REVIEW, Status.INELIGIBLE, Status.SAFETY_REVIEW):
            assert outcome.reasons
