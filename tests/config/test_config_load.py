"""Loading a good recruit.toml: values, lookup order, paths, secrets, .env, state dir."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from config_samples import GOOD, TOKEN

from recruit_cli.config import load_settings, require_token, settings_from_mapping
from recruit_cli.errors import ConfigError
from recruit_cli.exit_codes import ExitCode
from recruit_cli.logic import parse
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff
from recruit_cli.settings import Criterion, Group, Secret

ENV = {"REDCAP_API_TOKEN": TOKEN, "HOME": "/home/coordinator"}


def test_good_config_round_trip(study: Path) -> None:
    s = load_settings(study / "recruit.toml", environ=ENV)
    assert s.path == study / "recruit.toml"
    assert s.study.name == "TMS-EEG" and s.study.timezone == "America/Los_Angeles"
    assert s.redcap.url == "https://redcap.example.edu/api/"
    assert s.redcap.token == Secret(TOKEN) and s.redcap.timeout == 30.0
    assert s.fields.email == "participant_email" and s.fields.language == "preferred_language"
    assert s.fields.status == "pipeline_processing_status"  # the legacy default
    assert s.fields.submitted_at is None
    assert s.screening.criteria == (
        Criterion("age", parse("[age] >= 18 and [age] <= 65"), "Must be 18 to 65 years old"),
        Criterion(
            "travel", parse("[travel] = '1'"), "Must be able to travel to the lab", "ineligible"
        ),
    )
    assert s.qids.total == "qids_score" and s.qids.items == ()
    assert s.safety.notify == ("oncall@example.edu",)
    assert s.groups[0] == Group("HC", "Healthy control", parse("[qids_total] <= 5"), 3000, 10199)
    assert s.groups[1].label == "MDD"  # a missing label defaults to the name
    assert s.groups[1].target == 80
    assert s.email.smtp.host == "smtp.example.edu" and s.email.smtp.port == 587
    assert s.email.graph.mode == "delegated"


def test_rules_are_parsed_when_the_config_loads(study: Path) -> None:
    s = load_settings(study / "recruit.toml", environ=ENV)
    assert s.screening.ready == parse("[agree_participate] = '1'")
    assert s.safety.when is not None and s.safety.when.fields == {"qids_12"}
    assert [key for key, _ in s.rules()] == [
        "screening.ready",
        "screening.criteria[0].require",
        "screening.criteria[1].require",
        "safety.when",
        "groups[0].when",
        "groups[1].when",
    ]
    assert s == load_settings(study / "recruit.toml", environ=ENV)  # rules compare by text
    assert hash(s) == hash(load_settings(study / "recruit.toml", environ=ENV))


def test_a_blank_optional_rule_is_no_rule(study: Path) -> None:
    config = study / "recruit.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("ready = \"[agree_participate] = '1'\"", 'ready = ""')
    config.write_text(text.replace('when = "[qids_12] >= 2"', 'when = "  "'), encoding="utf-8")
    s = load_settings(config, environ=ENV)
    assert s.screening.ready is None and s.safety.when is None
    assert s.rules()[0][0] == "screening.criteria[0].require"


def test_relative_paths_resolve_beside_the_config(study: Path) -> None:
    s = load_settings(study / "recruit.toml", environ=ENV)
    assert s.email.outbox_dir == study / "outbox"
    assert s.email.templates_dir == study / "templates" / "email"
    assert s.report.out_dir == study / "reports"
    assert s.state_dir == study / "state"
    assert s.email.graph.ca_bundle == Path("/etc/ssl/corp.pem")  # absolute stays


def test_lookup_order(study: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other")
    (other / "elsewhere.toml").write_text(GOOD.replace("TMS-EEG", "From env"), encoding="utf-8")
    env = {**ENV, "RECRUIT_CONFIG": str(other / "elsewhere.toml")}
    explicit = load_settings(study / "recruit.toml", environ=env)
    assert explicit.study.name == "TMS-EEG"  # --config beats $RECRUIT_CONFIG
    assert load_settings(None, environ=env).study.name == "From env"


def test_local_recruit_toml_is_the_last_resort(
    study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(study)
    assert load_settings(None, environ=ENV).study.name == "TMS-EEG"


def test_no_configuration_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(None, environ={})
    assert str(info.value) == (
        "no configuration: pass --config, set RECRUIT_CONFIG, or create ./recruit.toml "
        "(recruit init)"
    )
    assert info.value.exit_code == ExitCode.CONFIG


@pytest.mark.parametrize("via", ["flag", "env"])
def test_a_named_config_that_does_not_exist(tmp_path: Path, via: str) -> None:
    missing = tmp_path / "nope.toml"
    env = {"RECRUIT_CONFIG": str(missing)} if via == "env" else {}
    with pytest.raises(ConfigError, match="config file not found") as info:
        load_settings(missing if via == "flag" else None, environ=env)
    assert str(missing) in str(info.value)


def test_dotenv_beside_the_config_is_read(study: Path) -> None:
    (study / ".env").write_text(
        f"REDCAP_API_TOKEN={TOKEN}\nRECRUIT_SMTP_PASSWORD='s3cret pass'\n", encoding="utf-8"
    )
    s = load_settings(study / "recruit.toml", environ={"HOME": "/h"})
    assert s.redcap.token.reveal() == TOKEN
    assert s.email.smtp.password.reveal() == "s3cret pass"
    assert s.email.graph.client_secret.reveal() == ""


def test_an_unreadable_dotenv_line_names_the_file_and_line_not_its_text(study: Path) -> None:
    (study / ".env").write_text(
        f"# the token\nREDCAP_API_TOKEN={TOKEN}\npassword is hunter2\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_settings(study / "recruit.toml", environ={"HOME": "/h"})
    message = str(info.value)
    assert f"{study / '.env'}:3" in message
    assert "hunter2" not in message and TOKEN not in message
    assert info.value.exit_code == 3


def test_config_flag_may_name_the_study_directory(study: Path) -> None:
    s = load_settings(study, environ=ENV)
    assert s.path == study / "recruit.toml"
    empty = study / "templates"
    empty.mkdir()
    with pytest.raises(ConfigError, match=r"is a directory with no recruit\.toml"):
        load_settings(empty, environ=ENV)


def test_the_real_environment_wins_over_dotenv(study: Path) -> None:
    (study / ".env").write_text("REDCAP_API_TOKEN=from-dotenv\n", encoding="utf-8")
    s = load_settings(study / "recruit.toml", environ={"REDCAP_API_TOKEN": "from-env"})
    assert s.redcap.token.reveal() == "from-env"


def test_dotenv_does_not_touch_os_environ(study: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delenv("RECRUIT_TEST_ONLY_VAR", raising=False)
    (study / ".env").write_text("RECRUIT_TEST_ONLY_VAR=1\n", encoding="utf-8")
    load_settings(study / "recruit.toml", environ=ENV)
    assert "RECRUIT_TEST_ONLY_VAR" not in os.environ


def test_token_env_names_the_variable(study: Path) -> None:
    text = GOOD.replace('token_env = "REDCAP_API_TOKEN"', 'token_env = "STUDY_A_TOKEN"')
    (study / "recruit.toml").write_text(text, encoding="utf-8")
    s = load_settings(study / "recruit.toml", environ={"STUDY_A_TOKEN": TOKEN, **ENV})
    assert s.redcap.token.reveal() == TOKEN


def test_secrets_are_redacted_everywhere(study: Path) -> None:
    env = {**ENV, "RECRUIT_SMTP_PASSWORD": "pw-XYZZY", "RECRUIT_GRAPH_CLIENT_SECRET": "cs-PLUGH"}
    s = load_settings(study / "recruit.toml", environ=env)
    shown = repr(s) + str(s) + repr(s.redcap) + str(s.email)
    for secret in (TOKEN, "pw-XYZZY", "cs-PLUGH"):
        assert secret not in shown
    assert s.email.graph.client_secret.reveal() == "cs-PLUGH"


def test_a_missing_token_is_not_a_load_error(study: Path) -> None:
    s = load_settings(study / "recruit.toml", environ={"HOME": "/h"})
    assert not s.redcap.token
    with pytest.raises(ConfigError) as info:
        require_token(s)
    assert str(info.value) == (
        "REDCap API token missing: set REDCAP_API_TOKEN (environment or .env beside recruit.toml)"
    )
    assert info.value.exit_code == ExitCode.CONFIG
    with pytest.raises(ConfigError, match="token missing"):
        RedcapClient.from_settings(s)


def test_the_retry_settings_reach_the_clients(study: Path) -> None:
    from recruit_cli.msgraph.client import BACKOFF as GRAPH_BACKOFF
    from recruit_cli.msgraph.client import backoff_for
    from recruit_cli.redcap.client import BACKOFF as REDCAP_BACKOFF

    s = load_settings(study / "recruit.toml", environ=ENV)
    # The defaults are the production back-off each client has without settings.
    assert RedcapClient.from_settings(s).backoff == REDCAP_BACKOFF
    assert backoff_for(s.email.graph) == GRAPH_BACKOFF
    text = (study / "recruit.toml").read_text()
    text = text.replace("[redcap]\n", "[redcap]\nretries = 0\nretry_max_wait = 2.5\n")
    (study / "recruit.toml").write_text(text)
    s = load_settings(study / "recruit.toml", environ=ENV)
    backoff = RedcapClient.from_settings(s).backoff
    assert (backoff.attempts, backoff.max_wait) == (1, 2.5)
    assert backoff.base == REDCAP_BACKOFF.base and backoff.jitter == REDCAP_BACKOFF.jitter


def test_client_from_settings(study: Path) -> None:
    s = load_settings(study / "recruit.toml", environ=ENV)
    client = RedcapClient.from_settings(s, backoff=Backoff(attempts=1))
    assert client.url == s.redcap.url and client.backoff.attempts == 1
    assert client.record_id_field == "record_id" and client.token_env == "REDCAP_API_TOKEN"
    assert require_token(s) == TOKEN


@pytest.mark.parametrize(
    ("environ", "in_file", "expected"),
    [
        (
            {"RECRUIT_STATE_DIR": "/var/lib/recruit", "XDG_STATE_HOME": "/x"},
            True,
            "/var/lib/recruit",
        ),
        ({"XDG_STATE_HOME": "/x"}, True, "<study>/state"),
        ({"XDG_STATE_HOME": "/x", "HOME": "/home/c"}, False, "/x/recruit"),
        ({"HOME": "/home/c"}, False, "/home/c/.local/state/recruit"),
        ({"XDG_STATE_HOME": "relative", "HOME": "/home/c"}, False, "/home/c/.local/state/recruit"),
    ],
)
def test_state_dir_precedence(
    study: Path, environ: dict[str, str], in_file: bool, expected: str
) -> None:
    if not in_file:
        text = GOOD.replace('state_dir = "state"\n', "")
        (study / "recruit.toml").write_text(text, encoding="utf-8")
    s = load_settings(study / "recruit.toml", environ=environ)
    assert s.state_dir == Path(expected.replace("<study>", str(study)))


def test_settings_from_mapping(tmp_path: Path) -> None:
    data = tomllib.loads(GOOD)
    s = settings_from_mapping(data, environ={"REDCAP_API_TOKEN": TOKEN, "HOME": "/h"})
    assert s.path is None and s.redcap.token.reveal() == TOKEN
    assert s.groups[1].name == "MDD"
    placed = settings_from_mapping(data, path=tmp_path / "recruit.toml", environ={})
    assert placed.email.outbox_dir == tmp_path / "outbox"
    assert placed.state_dir == tmp_path / "state"


def test_minimal_config_gets_every_default() -> None:
    data = {"study": {"name": "S"}, "redcap": {"url": "http://127.0.0.1:8080/api/"}}
    s = settings_from_mapping(data, environ={"HOME": "/h"})
    assert s.redcap.batch_size == 1000 and s.email.transport == "outbox"
    assert s.groups == () and s.screening.criteria == ()
    assert s.state_dir == Path("/h/.local/state/recruit")
