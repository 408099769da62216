"""Each kind of bad configuration: a ConfigError (exit 3) naming file, key and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from config_samples import GOOD, TOKEN

from recruit_cli.config import load_settings
from recruit_cli.errors import ConfigError
from recruit_cli.exit_codes import ExitCode


@dataclass(frozen=True)
class Bad:
    old: str  # text of the good config to replace
    new: str  # what replaces it
    key: str  # the dotted key the message must name
    says: str  # a fragment the message must contain
    line_of: str | None = None  # the error's line is the first line containing this


CASES: dict[str, Bad] = {
    "unknown key, did you mean": Bad(
        "batch_size = 1000",
        "batchsize = 1000",
        "redcap.batchsize",
        "unknown key 'batchsize' in [redcap]; did you mean 'batch_size'?",
        "batchsize",
    ),
    "unknown table": Bad(
        "[screening]\n",
        "[screaning]\n",
        "[screaning]",
        "unknown key 'screaning' at the top level; did you mean 'screening'?",
        "[screaning]",
    ),
    "integer given as a string": Bad(
        "batch_size = 1000",
        'batch_size = "1000"',
        "redcap.batch_size",
        "expected an integer, got a string",
        "batch_size",
    ),
    "boolean given as a string": Bad(
        "verify_tls = true",
        'verify_tls = "yes"',
        "redcap.verify_tls",
        "expected true or false, got a string",
        "verify_tls",
    ),
    "string where an array belongs": Bad(
        'notify = ["oncall@example.edu"]',
        'notify = "oncall@example.edu"',
        "safety.notify",
        "expected an array of strings, got a string",
        "notify",
    ),
    "table where an array of tables belongs": Bad(
        GOOD[GOOD.index("[[groups]]") : GOOD.index("[email]")],
        '[groups]\nname = "HC"\n\n',
        "[groups]",
        "expected an array of tables ([[groups]]), got a table",
        "[groups]",
    ),
    "missing required key": Bad(
        'name = "TMS-EEG"\n',
        "",
        "study.name",
        "missing required key 'name'",
        "[study]",
    ),
    "missing required key in an array item": Bad(
        "first_id = 10200\n",
        "",
        "groups[1].first_id",
        "missing required key 'first_id'",
        '[[groups]]\nname = "MDD"',
    ),
    "token in the file": Bad(
        'token_env = "REDCAP_API_TOKEN"',
        f'token = "{TOKEN}"',
        "redcap.token",
        "secrets don't belong in the config file; set the environment variable REDCAP_API_TOKEN",
        "token =",
    ),
    "smtp password in the file": Bad(
        "port = 587",
        'port = 587\npassword = "hunter2"',
        "email.smtp.password",
        "set the environment variable RECRUIT_SMTP_PASSWORD",
        "password",
    ),
    "graph client secret in the file": Bad(
        'mode = "delegated"',
        'mode = "delegated"\nclient_secret_env = "LAB_SECRET"\nclient_secret = "x"',
        "email.graph.client_secret",
        "set the environment variable LAB_SECRET",
        "client_secret =",
    ),
    "a secret-looking key anywhere": Bad(
        'healthcheck_url = ""',
        'healthcheck_url = ""\napi_key = "abc"',
        "ops.api_key",
        "secrets don't belong in the config file",
        "api_key",
    ),
    "the token pasted into token_env": Bad(
        'token_env = "REDCAP_API_TOKEN"',
        f'token_env = "{TOKEN}"',
        "redcap.token_env",
        "names the environment variable that holds the secret",
        "token_env",
    ),
    "rule that does not parse": Bad(
        "require = \"[travel] = '1'\"",
        'require = "[travel] = "',
        "screening.criteria[1].require",
        "the rule does not parse",
        "[travel] =",
    ),
    "ready rule that does not parse": Bad(
        "ready = \"[agree_participate] = '1'\"",
        'ready = "[agree_participate"',
        "screening.ready",
        "the rule does not parse",
        "ready =",
    ),
    "safety rule that does not parse, with its position": Bad(
        'when = "[qids_12] >= 2"',
        'when = "[qids_12] >= 2 and foo([x])"',
        "safety.when",
        "the rule does not parse: unknown function 'foo' at position 19",
        "foo(",
    ),
    "rule given as a number": Bad(
        'when = "[qids_12] >= 2"',
        "when = 2",
        "safety.when",
        "expected a rule (REDCap logic, a string), got an integer",
        "when = 2",
    ),
    "bad criterion name": Bad(
        'name = "travel"',
        'name = "Travel!"',
        "screening.criteria[1].name",
        "must be lower-case letters, digits and _",
        "Travel!",
    ),
    "duplicate criterion name": Bad(
        'name = "travel"',
        'name = "age"',
        "screening.criteria[1].name",
        "criterion name 'age' is used twice",
        'name = "age"\nrequire = "[travel]',
    ),
    "on_unknown not allowed": Bad(
        'on_unknown = "ineligible"',
        'on_unknown = "maybe"',
        "screening.criteria[1].on_unknown",
        'must be one of "review", "ineligible"',
        "on_unknown",
    ),
    "on_false not allowed": Bad(
        'on_unknown = "ineligible"',
        'on_unknown = "ineligible"\non_false = "maybe"',
        "screening.criteria[1].on_false",
        'must be one of "ineligible", "review"',
        "on_false",
    ),
    "overlapping id ranges": Bad(
        "first_id = 10200",
        "first_id = 10000",
        "groups[1].first_id",
        "group 'MDD' ids 10000..20000 overlap group 'HC' ids 3000..10199",
        "first_id = 10000",
    ),
    "first id above last id": Bad(
        "last_id = 20000",
        "last_id = 10000",
        "groups[1].first_id",
        "first_id 10200 is above last_id 10000",
        "first_id = 10200",
    ),
    "duplicate group name": Bad(
        'name = "MDD"',
        'name = "HC"',
        "groups[1].name",
        "group name 'HC' is used twice",
        'name = "HC"\nwhen = "[qids_total] >=',
    ),
    "qids total and items": Bad(
        'total = "qids_score"',
        'total = "qids_score"\nitems = ["q1"]',
        "[qids]",
        "set either 'total' or 'items', not both",
        "[qids]",
    ),
    "qids items not 16": Bad(
        'total = "qids_score"',
        'items = ["q1", "q2", "q3"]',
        "qids.items",
        "QIDS-SR16 needs exactly 16 item fields, got 3",
        "items",
    ),
    "qids_total used without qids": Bad(
        'total = "qids_score"',
        "",
        "[qids]",
        "rules use [qids_total] but [qids] sets neither",
        "[qids]",
    ),
    "unknown transport": Bad(
        'transport = "outbox"',
        'transport = "pigeon"',
        "email.transport",
        'must be one of "outbox", "smtp", "graph"',
        "transport",
    ),
    "shared mailbox without a mailbox": Bad(
        'mode = "delegated"',
        'mode = "shared"',
        "email.graph.mailbox",
        'mode "shared" sends from a mailbox',
        "[email.graph]",
    ),
    "unknown graph mode": Bad(
        'mode = "delegated"',
        'mode = "robot"',
        "email.graph.mode",
        'must be one of "delegated", "shared", "app"',
        "mode =",
    ),
    "bad time zone": Bad(
        'timezone = "America/Los_Angeles"',
        'timezone = "Mars/Olympus_Mons"',
        "study.timezone",
        "unknown time zone 'Mars/Olympus_Mons'",
        "timezone",
    ),
    "time zone that is a tzdata directory": Bad(
        'timezone = "America/Los_Angeles"',
        'timezone = "Pacific"',
        "study.timezone",
        "unknown time zone 'Pacific'",
        "timezone",
    ),
    "url that is not http": Bad(
        'url = "https://redcap.example.edu/api/"',
        'url = "redcap.example.edu/api/"',
        "redcap.url",
        "must be an http:// or https:// URL",
        "url =",
    ),
    "batch size out of range": Bad(
        "batch_size = 1000",
        "batch_size = 0",
        "redcap.batch_size",
        "must be between 1 and 10000 records",
        "batch_size",
    ),
    "not a REDCap field name": Bad(
        'email = "participant_email"',
        'email = "Participant Email"',
        "fields.email",
        "is not a REDCap field name",
        "Participant Email",
    ),
    "one REDCap field mapped twice": Bad(
        'booked_at = "booking_date"',
        'booked_at = "do_not_contact"',
        "fields.booked_at",
        "already mapped to fields.do_not_contact",
        "booked_at",
    ),
    "not an address": Bad(
        'notify = ["oncall@example.edu"]',
        'notify = ["oncall"]',
        "safety.notify[0]",
        "not an e-mail address",
        "notify",
    ),
    # Staff addresses meet the same test as participants' (recruit_cli.address), so one
    # compose would refuse fails at load, naming the key, not at the first send.
    "sender compose can't send from": Bad(
        'sender = "study-team@example.edu"',
        'sender = "study..team@example.edu"',
        "email.sender",
        "not an e-mail address (the part before the @ is not valid)",
        "sender",
    ),
    "alert address on a domain with an underscore": Bad(
        'notify = ["oncall@example.edu"]',
        'notify = ["oncall@exa_mple.edu"]',
        "safety.notify[0]",
        "not an e-mail address (the domain is not valid)",
        "notify",
    ),
    "template version breaking the idempotency key": Bad(
        'transport = "outbox"',
        'transport = "outbox"\ntemplate_version = "v1|2"',
        "email.template_version",
        "part of the idempotency key",
        "template_version",
    ),
    "negative pacing": Bad(
        'transport = "outbox"',
        'transport = "outbox"\nper_minute = -1',
        "email.per_minute",
        "must be 0 (no pacing) or more",
        "per_minute",
    ),
    "too many retries": Bad(
        "batch_size = 1000",
        "batch_size = 1000\nretries = 11",
        "redcap.retries",
        "must be 0 (no retry) to 10",
        "retries",
    ),
    "negative retry wait": Bad(
        'mode = "delegated"',
        'mode = "delegated"\nretry_max_wait = -1',
        "email.graph.retry_max_wait",
        "must be 0 or more seconds",
        "retry_max_wait",
    ),
    "endless retry wait": Bad(
        "batch_size = 1000",
        "batch_size = 1000\nretry_max_wait = inf",
        "redcap.retry_max_wait",
        "must be 0 or more seconds",
        "retry_max_wait",
    ),
    "no claim lease": Bad(
        'transport = "outbox"',
        'transport = "outbox"\nclaim_lease_minutes = 0',
        "email.claim_lease_minutes",
        "must be a positive number of minutes",
        "claim_lease_minutes",
    ),
    "endless claim lease": Bad(
        'transport = "outbox"',
        'transport = "outbox"\nclaim_lease_minutes = nan',
        "email.claim_lease_minutes",
        "must be a positive number of minutes",
        "claim_lease_minutes",
    ),
    "empty group rule": Bad(
        'when = "[qids_total] <= 5"',
        'when = ""',
        "groups[0].when",
        "the rule is empty",
        'when = ""',
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_config(case: str, tmp_path: Path) -> None:
    bad = CASES[case]
    assert bad.old in GOOD, "the case must change the good config"
    text = GOOD.replace(bad.old, bad.new, 1)
    config = tmp_path / "recruit.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={"REDCAP_API_TOKEN": TOKEN, "HOME": "/h"})
    message = str(info.value)
    assert info.value.exit_code == ExitCode.CONFIG
    assert bad.says in message
    assert info.value.key == bad.key or f"[{info.value.key}]" == bad.key
    assert str(config) in message and bad.key in message
    if bad.line_of is not None:
        line = text[: text.index(bad.line_of)].count("\n") + 1
        assert info.value.line == line
        assert message.startswith(f"{config}:{line}: ")
    assert TOKEN not in message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "recruit.toml"
    config.write_text(GOOD.replace("batch_size = 1000", "batch_size = = 1000"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    line = GOOD[: GOOD.index("batch_size")].count("\n") + 1
    assert info.value.line == line
    assert str(info.value).startswith(f"{config}:{line}: not valid TOML")


def test_missing_required_table(tmp_path: Path) -> None:
    start, end = GOOD.index("[redcap]"), GOOD.index("[fields]")
    config = tmp_path / "recruit.toml"
    config.write_text(GOOD[:start] + GOOD[end:], encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    assert "missing required table [redcap]" in str(info.value)
    assert str(info.value).startswith(str(config))


def test_unreadable_bytes(tmp_path: Path) -> None:
    config = tmp_path / "recruit.toml"
    config.write_bytes(b"\xff\xfe[study]\n")
    with pytest.raises(ConfigError, match="cannot read the config file") as info:
        load_settings(config, environ={})
    assert info.value.exit_code == ExitCode.CONFIG


def test_the_secret_value_is_never_echoed(tmp_path: Path) -> None:
    config = tmp_path / "recruit.toml"
    text = GOOD.replace('token_env = "REDCAP_API_TOKEN"', 'token = "very-secret-value"')
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    assert "very-secret-value" not in str(info.value) + repr(info.value)
