"""An address recruit can't send to is caught at screening, before a study ID is spent.

Screening and compose judge addresses by one definition (recruit_cli.address). These
addresses once passed screening and were refused only at invite time, after assign had
given the person a study ID: now they go to manual review at screening, keep no ID, and
nothing is sent. The commands run through the real entry point against the sandbox.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from screening_data import GOOD, pipeline_state, write_config

from recruit_cli.cli.main import run
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox

STATUS, REASONS = "pipeline_processing_status", "pipeline_ineligibility_reasons"
STUDY_ID = "assigned_study_id"
UNSENDABLE = {
    "2": "jo..e@example.org",  # two dots in a row
    "3": "a@exa_mple.com",  # an underscore in the domain
    "4": "josé@example.org",  # non-ASCII before the @ (no SMTPUTF8 on our paths)
    "5": "jo@lab.test",  # a reserved domain that can't receive mail
}
SENDABLE = {
    "1": "person@example.org",
    "6": "  spaced@example.org\t",  # trimmed
    "7": "Jo@Bücher.de",  # an internationalised domain, sent to in punycode
}


@pytest.fixture
def config(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    monkeypatch.delenv("RECRUIT_CONFIG", raising=False)
    return write_config(tmp_path, sb.url)


def recruit(config: Path, *args: str) -> int:
    return run(["--config", str(config), *args])


def sent_to(outbox: Path) -> list[str]:
    """The To header of every message in the outbox."""
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append(str(message["To"]))
    return found


def test_unsendable_addresses_go_to_review_at_screening_and_get_no_study_id(
    sb: Sandbox, config: Path, tmp_path: Path
) -> None:
    addresses = {**SENDABLE, **UNSENDABLE}
    with RedcapClient(sb.url, sb.token) as client:
        client.import_records(
            [{**GOOD, "record_id": rid, "participant_email": a} for rid, a in addresses.items()]
        )

    assert recruit(config, "screen") == 0
    with RedcapClient(sb.url, sb.token) as client:
        screened = pipeline_state(client)
    for rid in UNSENDABLE:
        row = screened[rid]
        assert row[STATUS] == "manual_review_required", rid
        [reason] = row[REASONS].splitlines()
        assert reason.startswith("email_invalid: [participant_email] is not a usable e-mail")
        assert UNSENDABLE[rid] not in reason
    assert {screened[rid][STATUS] for rid in SENDABLE} == {"eligible"}

    assert recruit(config, "assign") == 0
    assert recruit(config, "invite") == 0
    with RedcapClient(sb.url, sb.token) as client:
        done = pipeline_state(client)
    for rid in UNSENDABLE:
        assert done[rid][STATUS] == "manual_review_required"
        assert done[rid][STUDY_ID] == ""  # no study ID used up
    assert {done[rid][STATUS] for rid in SENDABLE} == {"eligible_invited"}
    assert all(done[rid][STUDY_ID] for rid in SENDABLE)

    # Only the sendable people got mail, each at their normalised address.
    assert sorted(sent_to(tmp_path / "outbox")) == [
        "Jo@xn--bcher-kva.de",
        "person@example.org",
        "spaced@example.org",
    ]
