"""The commands, run in-process through the real entry point against the sandbox."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from screening_data import DEMO_CONFIG, GOOD, pipeline_state, write_config

from recruit_cli.cli.main import run
from recruit_cli.lock import lock_name, run_lock
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.sandbox.project import PROJECT_ID
from recruit_cli.screening.setup_fields import PIPELINE_FIELDS


@pytest.fixture
def cli_env(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    monkeypatch.delenv("RECRUIT_CONFIG", raising=False)
    return sb


def recruit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def seed(sb: Sandbox, *rows: dict[str, str]) -> None:
    with RedcapClient(sb.url, sb.token) as client:
        client.import_records([{**GOOD, **r} for r in rows])


def state(sb: Sandbox) -> dict[str, dict[str, str]]:
    with RedcapClient(sb.url, sb.token) as client:
        return pipeline_state(client)


def test_screen_assign_status_json(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(write_config(tmp_path, cli_env.url))
    seed(cli_env, {"record_id": "1"}, {"record_id": "2", "age": "x"}, {"record_id": "3"})
    seed(cli_env, {"record_id": "4", "qids_12": "3"})
    code, out, err = recruit(capsys, "--config", cfg, "screen", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "recruit.result/1"
    assert doc["counts"]["eligible"] == 2 and doc["counts"]["safety_review"] == 1
    assert "SAFETY: record 4 needs staff review" in doc["notices"]
    # the CLI's screen also alerted staff (outbox transport) and recorded it
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 1
    assert state(cli_env)["4"]["pipeline_safety_alert_timestamp"] != ""

    code, out, _ = recruit(capsys, "--config", cfg, "assign", "--json")
    assert code == 0 and json.loads(out)["counts"] == {"assigned": 2}

    code, out, _ = recruit(capsys, "--config", cfg, "status", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["schema"] == "recruit.status/1"
    assert doc["by_status"] == {
        "eligible_id_assigned": 2,
        "manual_review_required": 1,
        "safety_review": 1,
    }
    assert [e["record_id"] for e in doc["review_queue"]] == ["2"]
    assert doc["review_queue"][0]["codes"] == ["unevaluable_age"]
    assert doc["safety_queue"][0]["alerted"] is True
    assert doc["groups"][0]["next_id"] == 3002 and doc["groups"][0]["ids_used"] == 2

    code, out, _ = recruit(capsys, "--config", cfg, "status")
    assert code == 0 and "Groups" in out and "\x1b[" not in out
    assert "Manual review queue: 1" in out


def test_dry_run_writes_nothing(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(write_config(tmp_path, cli_env.url))
    seed(cli_env, {"record_id": "1"}, {"record_id": "2", "qids_12": "2"})
    code, out, _ = recruit(capsys, "--config", cfg, "screen", "--dry-run")
    assert code == 0 and "[dry run] screen: 1 eligible, 1 safety_review" in out
    assert all(r["pipeline_processing_status"] == "" for r in state(cli_env).values())
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").rglob("*.eml"))


def test_record_option_is_repeatable(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(write_config(tmp_path, cli_env.url))
    seed(cli_env, *({"record_id": str(i)} for i in range(1, 5)))
    code, _, _ = recruit(capsys, "--config", cfg, "screen", "--record", "1", "--record", "3")
    assert code == 0
    assert [k for k, r in state(cli_env).items() if r["pipeline_processing_status"]] == ["1", "3"]


def test_malformed_config_exits_3_naming_the_key(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = [dict(g) for g in DEMO_CONFIG["groups"]]
    groups[1]["first_id"] = "ten thousand"
    cfg = str(write_config(tmp_path, cli_env.url, groups=groups))
    code, _, err = recruit(capsys, "--config", cfg, "screen")
    assert code == 3
    assert "first_id" in err and "recruit.toml" in err


def test_bad_rule_exits_3_naming_the_key(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    safety = {"when": "[qids_12] >=> 2", "notify": ["a@example.org"]}
    cfg = str(write_config(tmp_path, cli_env.url, safety=safety))
    code, _, err = recruit(capsys, "--config", cfg, "screen")
    assert code == 3 and "safety.when" in err


def test_a_rule_naming_a_field_the_project_lacks_exits_3(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    criteria = [{"name": "age", "require": "[agee] >= 18", "reason": "18+"}]
    cfg = str(
        write_config(
            tmp_path, cli_env.url, screening={**DEMO_CONFIG["screening"], "criteria": criteria}
        )
    )
    code, _, err = recruit(capsys, "--config", cfg, "screen")
    assert code == 3
    assert "'agee'" in err and "recruit doctor" in err
    assert not any(r["pipeline_processing_status"] for r in state(cli_env).values())


def no_waits(url: str) -> dict[str, object]:
    """A [redcap] table that keeps every retry but none of the production waits."""
    return {**DEMO_CONFIG["redcap"], "url": url, "retries": 3, "retry_max_wait": 0}


def test_unreachable_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDCAP_API_TOKEN", "A" * 32)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/"
    cfg = str(write_config(tmp_path, url, redcap=no_waits(url)))
    code, _, err = recruit(capsys, "-v", "--config", cfg, "assign")
    assert code == 4, err
    assert err.count("could not connect; retrying in 0s") == 3  # [redcap] retries = 3
    assert "tried 4 times" in err


def test_unavailable_during_writes_exits_4_with_nothing_written(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(write_config(tmp_path, cli_env.url))
    seed(cli_env, *({"record_id": str(i)} for i in range(1, 5)))
    cli_env.set_faults("503@2,503@3,503@4,503@5,retry-after=0")  # every import attempt
    code, _, err = recruit(capsys, "--config", cfg, "screen")
    cli_env.set_faults("")
    assert code == 4, err
    assert all(r["pipeline_processing_status"] == "" for r in state(cli_env).values())


def test_lock_held_exits_0_with_a_notice(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(write_config(tmp_path, cli_env.url))
    seed(cli_env, {"record_id": "1"})
    with run_lock(tmp_path / "state", lock_name(cli_env.url, str(PROJECT_ID))):
        code, _, err = recruit(capsys, "--config", cfg, "screen")
    assert code == 0 and "another recruit run" in err
    assert state(cli_env)["1"]["pipeline_processing_status"] == ""


def test_doctor_ok_and_warns_without_unique_field(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(write_config(tmp_path, cli_env.url))
    code, out, _ = recruit(capsys, "--config", cfg, "doctor", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    states = {c["name"]: c["state"] for c in doc["checks"]}
    assert states["configuration loads"] == "ok" and states["rules parse"] == "ok"
    assert states["unique study ID"] == "warn"
    assert states["configured fields exist"] == "ok"
    assert states["pipeline fields exist"] == "ok"
    assert states["safety alerts"] == "ok"


def test_doctor_warns_when_safety_alerts_reach_nobody(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(write_config(tmp_path, cli_env.url, safety={"when": "[qids_12] >= 2"}))
    code, out, _ = recruit(capsys, "--config", cfg, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 0 and checks["safety alerts"]["state"] == "warn"
    assert "notify" in checks["safety alerts"]["detail"]


def test_doctor_finds_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    metadata = [dict(r) for r in DEMO_METADATA if r["field_name"] != "pipeline_group"]
    for row in metadata:
        if row["field_name"] == "pipeline_screened_timestamp":
            row["text_validation_type_or_show_slider_number"] = "datetime_seconds_ymd"
    screening = json.loads(json.dumps(DEMO_CONFIG["screening"]))
    screening["criteria"].append({"name": "x", "require": "[no_such_field] = '1'", "reason": "r"})
    screening["criteria"].append({"name": "y", "require": "[travel] = '2'", "reason": "r"})
    with run_sandbox(metadata=metadata, unique_field="assigned_study_id") as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        cfg = str(write_config(tmp_path, sb.url, screening=screening))
        code, out, _ = recruit(capsys, "--config", cfg, "doctor", "--json")
        text_code, text, _ = recruit(capsys, "--config", cfg, "doctor")
    assert text_code == 3 and "FAIL" in text
    assert "screening.criteria[5].require" in text.replace("\n", "")  # not eaten as markup
    doc = json.loads(out)
    checks = {c["name"]: c for c in doc["checks"]}
    assert code == 3
    assert "no_such_field" in checks["configured fields exist"]["detail"]
    assert "'2' is not a choice code of travel" in checks["choice codes exist"]["detail"]
    assert "pipeline_group" in checks["pipeline fields exist"]["detail"]
    assert "pipeline_screened_timestamp" in checks["pipeline field types"]["detail"]
    assert checks["unique study ID"]["state"] == "ok"


def test_doctor_names_a_rule_that_does_not_parse(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    screening = json.loads(json.dumps(DEMO_CONFIG["screening"]))
    screening["criteria"][1]["require"] = "[travel] = '1' and foo([age])"
    config = write_config(tmp_path, cli_env.url, screening=screening)
    code, out, err = recruit(capsys, "--config", str(config), "doctor", "--json")
    assert code == 3, err
    (row,) = json.loads(out)["checks"]  # the load stopped at the rule: nothing else to check
    assert (row["name"], row["state"]) == ("configuration loads", "fail")
    line = (
        config.read_text(encoding="utf-8")
        .splitlines()
        .index("require = \"[travel] = '1' and foo([age])\"")
    )
    assert row["detail"].startswith(
        f"{config}:{line + 1}: screening.criteria[1].require: the rule does not parse: "
        "unknown function 'foo' at position 19"
    )
    code, text, _ = recruit(capsys, "--config", str(config), "doctor")
    assert code == 3 and "configuration loads" in text and "FAIL" in text
    assert "screening.criteria[1].require" in text.replace("\n", "")


def test_doctor_unreachable_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDCAP_API_TOKEN", "A" * 32)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/"
    cfg = str(write_config(tmp_path, url, redcap=no_waits(url)))
    code, out, err = recruit(capsys, "-v", "--config", cfg, "doctor")
    assert code == 4 and "REDCap reachable" in out
    assert err.count("could not connect; retrying in 0s") == 3


def test_doctor_wrong_token_exits_3(
    cli_env: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDCAP_API_TOKEN", "B" * 32)
    cfg = str(write_config(tmp_path, cli_env.url))
    code, out, _ = recruit(capsys, "--config", cfg, "doctor")
    assert code == 3 and "token accepted" in out
    assert "B" * 32 not in out


def test_doctor_without_a_token_still_shows_the_local_checks(
    cli_env: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDCAP_API_TOKEN")
    cfg = str(write_config(tmp_path, cli_env.url))
    code, out, _ = recruit(capsys, "--config", cfg, "doctor", "--json")
    assert code == 3
    rows = {c["name"]: c for c in json.loads(out)["checks"]}
    assert rows["rules parse"]["state"] == "ok" and rows["e-mail templates"]["state"] == "ok"
    assert rows["token accepted"]["state"] == "fail"
    assert "REDCAP_API_TOKEN" in rows["token accepted"]["detail"]


def test_setup_fields_prints_and_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    survey = [dict(r) for r in DEMO_METADATA if r["form_name"] != "recruitment_pipeline"]
    survey[2]["branching_logic"] = "[agree_participate] = '1'"  # must survive the import
    survey[2]["field_annotation"] = "@HIDDEN-SURVEY"
    with run_sandbox(metadata=survey) as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        cfg = str(write_config(tmp_path, sb.url))
        code, out, _ = recruit(capsys, "--config", cfg, "setup", "fields")
        assert code == 0
        lines = out.strip().splitlines()
        assert lines[0].startswith("field_name,form_name,section_header,field_type")
        assert len(lines) == 1 + len(PIPELINE_FIELDS) and "assigned_study_id" in out
        assert "pipeline_email_intent,recruitment_pipeline,,text" in out

        code, out, _ = recruit(capsys, "--config", cfg, "setup", "fields", "--apply", "--dry-run")
        assert code == 0
        with RedcapClient(sb.url, sb.token) as client:
            assert len(client.export_metadata()) == len(survey)

        code, out, err = recruit(capsys, "--config", cfg, "setup", "fields", "--apply")
        assert code == 0, err
        with RedcapClient(sb.url, sb.token) as client:
            after = client._json({"content": "metadata", "format": "json"})
        by_name = {r["field_name"]: r for r in after}
        assert len(after) == len(survey) + len(PIPELINE_FIELDS)
        assert by_name[survey[2]["field_name"]]["branching_logic"] == "[agree_participate] = '1'"
        assert by_name[survey[2]["field_name"]]["field_annotation"] == "@HIDDEN-SURVEY"
        assert (
            by_name["assigned_study_id"]["text_validation_type_or_show_slider_number"] == "integer"
        )
        assert by_name["pipeline_safety_acknowledged"]["field_type"] == "yesno"
        assert by_name["pipeline_duplicate_ok"]["field_type"] == "yesno"

        code, out, _ = recruit(capsys, "--config", cfg, "-v", "setup", "fields", "--apply")
        assert code == 0  # nothing missing any more: nothing imported
        with RedcapClient(sb.url, sb.token) as client:
            assert len(client.export_metadata()) == len(survey) + len(PIPELINE_FIELDS)
