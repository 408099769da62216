"""The pure half: the claim field format and the decision for each kind of row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from outreach_support import build_settings

from recruit_cli.outreach.claims import (
    Claim,
    ClaimFormatError,
    ClaimState,
    Lease,
    claimed,
    intent,
    parse_claim,
    parse_intent,
    resend_key,
    reserved,
    sent,
)
from recruit_cli.outreach.invite import invite_spec
from recruit_cli.outreach.plan import Verdict, append_reason, decide, message_key, plan_pass
from recruit_cli.outreach.safety import alert_spec
from recruit_cli.settings import Settings, Status

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# Decided two hours after NOW with the default lease: a claim written at NOW is stale.
LATER = Lease(NOW + timedelta(hours=2), 60)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return build_settings(tmp_path, url="http://127.0.0.1:9/api/", token="0" * 32)


def row(**fields: str) -> dict[str, str]:
    base = {
        "record_id": "7",
        "pipeline_processing_status": "eligible_id_assigned",
        "assigned_study_id": "3007",
        "participant_email": "p@example.org",
        "pipeline_email_claim": "",
        "do_not_contact": "",
    }
    base.update(fields)
    return base


def test_claim_round_trip_and_kind() -> None:
    text = claimed("7:invite:1", NOW)
    assert text == "7:invite:1|claimed|2024-05-01T12:00:00+00:00"
    claim = parse_claim(text)
    assert claim == Claim("7:invite:1", ClaimState.CLAIMED, NOW)
    assert claim.kind("7") == "invite" and claim.kind("70") is None
    assert parse_claim(sent("7:invite:1", NOW)) == Claim("7:invite:1", ClaimState.SENT, NOW)
    assert parse_claim("  ") is None
    assert resend_key("7:invite:1", NOW) == "7:invite:1:resend-20240501T120000Z"


def test_claims_carry_their_run_and_the_older_form_still_reads() -> None:
    text = reserved("7:invite:1", NOW, "a1b2c3d4e5f6")
    assert text == "7:invite:1|reserved|2024-05-01T12:00:00+00:00|a1b2c3d4e5f6"
    claim = parse_claim(text)
    assert claim == Claim("7:invite:1", ClaimState.RESERVED, NOW, "a1b2c3d4e5f6")
    assert claim is not None and claim.open
    # Written before run ids: read as another run's (run "").
    old = parse_claim("7:invite:1|claimed|2024-05-01T12:00:00+00:00")
    assert old == Claim("7:invite:1", ClaimState.CLAIMED, NOW, "")
    assert parse_intent(intent("a1b2c3d4e5f6", NOW)) == "a1b2c3d4e5f6"
    assert parse_intent("") == parse_intent("junk") == ""


def test_another_runs_open_claim_holds_the_record_for_the_lease() -> None:
    claim = parse_claim(claimed("7:invite:1", NOW, "a1b2c3d4e5f6"))
    assert claim is not None
    assert Lease(NOW + timedelta(minutes=59), 60).holds(claim)
    assert not Lease(NOW + timedelta(minutes=60), 60).holds(claim)
    assert Lease(NOW - timedelta(minutes=5), 60).holds(claim)  # a clock ahead of ours
    done = parse_claim(sent("7:invite:1", NOW, "a1b2c3d4e5f6"))
    assert done is not None and not Lease(NOW, 60).holds(done)


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "7:invite:1|maybe|2024-05-01T12:00:00+00:00",
        "k|sent|yesterday",
        "|sent|",
        # A key or run id with a line break would be printed into notices and logs.
        "7:invite\nFAKE LOG LINE:1|claimed|2024-05-01T12:00:00+00:00",
        "7:invite:1|claimed|2024-05-01T12:00:00+00:00|run\u2028x",
    ],
)
def test_a_claim_recruit_did_not_write_is_refused(value: str) -> None:
    with pytest.raises(ClaimFormatError) as info:
        parse_claim(value)
    assert "yesterday" not in str(info.value)


CASES = [
    ("fresh record", {}, Verdict.SEND, ""),
    ("status moved on", {"pipeline_processing_status": "manual_review_required"}, Verdict.SKIP, ""),
    ("safety review", {"pipeline_processing_status": "safety_review"}, Verdict.SKIP, ""),
    (
        "stale claim open",
        {"pipeline_email_claim": claimed("7:invite:1", NOW)},
        Verdict.RECONCILE,
        "",
    ),
    (
        "stale reservation",
        {"pipeline_email_claim": reserved("7:invite:1", NOW, "a1b2c3d4e5f6")},
        Verdict.RECONCILE,
        "",
    ),
    (
        "young claim of another run",
        {"pipeline_email_claim": claimed("7:invite:1", LATER.now, "a1b2c3d4e5f6")},
        Verdict.TAKEN,
        "another recruit run holds it",
    ),
    (
        "young reservation of another run",
        {"pipeline_email_claim": reserved("7:invite:1", LATER.now - timedelta(minutes=59))},
        Verdict.TAKEN,
        "another recruit run",
    ),
    (
        "young claim of another kind",
        {"pipeline_email_claim": claimed("7:ineligible:1", LATER.now)},
        Verdict.TAKEN,
        "another recruit run",
    ),
    (
        "older template version open",
        {"pipeline_email_claim": claimed("7:invite:0", NOW)},
        Verdict.RECONCILE,
        "",
    ),
    (
        "another kind open",
        {"pipeline_email_claim": claimed("7:ineligible:1", NOW)},
        Verdict.REVIEW,
        "delivery_uncertain",
    ),
    (
        "sent but not marked",
        {"pipeline_email_claim": sent("7:invite:1", NOW)},
        Verdict.ALREADY_SENT,
        "",
    ),
    ("another kind sent", {"pipeline_email_claim": sent("7:ineligible:1", NOW)}, Verdict.SEND, ""),
    ("unreadable claim", {"pipeline_email_claim": "x"}, Verdict.REVIEW, "claim_invalid"),
    ("do not contact", {"do_not_contact": "1"}, Verdict.REVIEW, "do_not_contact"),
    ("no study id", {"assigned_study_id": " "}, Verdict.REVIEW, "study_id_missing"),
    (
        "header in study id",
        {"assigned_study_id": "3007\r\nBcc: x@evil.example"},
        Verdict.REVIEW,
        "study_id_invalid",
    ),
    ("no address", {"participant_email": ""}, Verdict.REVIEW, "email_missing"),
    (
        "header in address",
        {"participant_email": "p@example.org\nBcc: x@evil.example"},
        Verdict.REVIEW,
        "email_invalid",
    ),
    # The one definition screening and compose use, asked before anything is claimed.
    (
        "unsendable address",
        {"participant_email": "p..q@example.org"},
        Verdict.REVIEW,
        "email_invalid",
    ),
    ("spaces around the address", {"participant_email": " p@example.org\t"}, Verdict.SEND, ""),
]


@pytest.mark.parametrize(("name", "fields", "verdict", "code"), CASES, ids=[c[0] for c in CASES])
def test_invite_decisions(
    settings: Settings, name: str, fields: dict[str, str], verdict: Verdict, code: str
) -> None:
    d = decide(settings, invite_spec(settings), row(**fields), key="7:invite:1", lease=LATER)
    assert d.verdict is verdict
    assert d.detail.startswith(code)
    assert "evil" not in d.detail and "p@example.org" not in d.detail


def test_resend_gets_a_fresh_key_and_only_when_asked(settings: Settings) -> None:
    spec = invite_spec(settings)
    claim = sent("7:invite:1", NOW)
    done = row(pipeline_processing_status="eligible_invited", pipeline_email_claim=claim)
    lease = Lease(NOW, 60)
    [plain] = plan_pass(
        settings, spec, [done], keys=lambda r: message_key(settings, r, "invite"), lease=lease
    )
    assert plain.verdict is Verdict.SKIP
    [again] = plan_pass(
        settings,
        spec,
        [done],
        keys=lambda r: message_key(settings, r, "invite"),
        resend=True,
        lease=lease,
    )
    assert again.verdict is Verdict.SEND and again.resend
    assert again.key == "7:invite:1:resend-20240501T120000Z"


def test_safety_alert_ignores_do_not_contact_and_skips_acknowledged(settings: Settings) -> None:
    spec = alert_spec(settings)
    base = {"record_id": "9", "pipeline_processing_status": "safety_review", "do_not_contact": "1"}
    assert decide(settings, spec, base, key="9:safety_alert:1", lease=LATER).verdict is Verdict.SEND
    acked = {**base, "pipeline_safety_acknowledged": "1"}
    assert (
        decide(settings, spec, acked, key="9:safety_alert:1", lease=LATER).verdict is Verdict.SKIP
    )
    alerted = {**base, "pipeline_safety_alert_timestamp": "2024-05-01T05:00:00-07:00"}
    assert (
        decide(settings, spec, alerted, key="9:safety_alert:1", lease=LATER).verdict is Verdict.SKIP
    )
    # A claim it cannot read is overwritten rather than blocking a safety alert.
    odd = {**base, "pipeline_email_claim": "??"}
    assert decide(settings, spec, odd, key="9:safety_alert:1", lease=LATER).verdict is Verdict.SEND


def test_review_reasons_are_appended_once() -> None:
    assert append_reason("age: too young", "email_invalid: x") == "age: too young\nemail_invalid: x"
    assert append_reason("email_invalid: x", "email_invalid: x") == "email_invalid: x"
    assert append_reason("", "do_not_contact: y") == "do_not_contact: y"


def test_statuses_used_are_the_documented_ones(settings: Settings) -> None:
    spec = invite_spec(settings)
    assert (spec.status_from, spec.status_to) == (
        Status.ELIGIBLE_ID_ASSIGNED,
        Status.ELIGIBLE_INVITED,
    )
    assert spec.filter_logic == "[pipeline_processing_status] = 'eligible_id_assigned'"
