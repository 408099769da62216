"""`recruit run` when steps fail: the later steps run where that is safe, the worst code wins.

Each case is a real failure against real servers on loopback: a group whose ID range runs
out (assign: 5), a study template that doesn't render (invite: 3), an SMTP server that isn't
there (4), Microsoft sign-in never done (fake Graph: 6), an SMTP login without its password
(the transport can't be set up: 3).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ops_support import ping_server, write_study

from recruit_cli.cli.main import run
from recruit_cli.config import load_settings
from recruit_cli.exit_codes import ExitCode
from recruit_cli.mail.message import OutgoingMessage, SendReceipt
from recruit_cli.ops.run import DRY_RUN_NOTICE, run_cycle
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.sandbox.microsoft import MicrosoftSandbox, run_microsoft_sandbox

Edit = Callable[[str], str]


@pytest.fixture(scope="module")
def fake() -> Iterator[MicrosoftSandbox]:
    with run_microsoft_sandbox() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_smtp_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECRUIT_SMTP_PASSWORD", raising=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def partial(text: str) -> str:
    """Marks the case as needing the group dropdown (PROJECT_EDITS; this edit is a no-op)."""
    return text


def claims_refused(text: str) -> str:
    """Marks the case as needing the validated claim (PROJECT_EDITS; this edit is a no-op)."""
    return text


# Changes to the project's data dictionary, keyed by the marker that asks for them:
# - partial: a lab that made the group field a dropdown and forgot MDD: REDCap refuses to
#   store the screening outcome of every MDD record (screen: 5); the rest of the run goes on;
# - claims_refused: a lab that gave the e-mail claim field an integer validation: REDCap
#   refuses every claim (a 400 that names no missing field), so each mail step stops before
#   sending: exit 7, "REDCap said no", never 1 (which cron reads as a bug in recruit).
PROJECT_EDITS: dict[Edit, tuple[str, dict[str, str]]] = {
    partial: (
        "pipeline_group",
        {"field_type": "dropdown", "select_choices_or_calculations": "HC, Healthy control"},
    ),
    claims_refused: (
        "pipeline_email_claim",
        {"text_validation_type_or_show_slider_number": "integer"},
    ),
}


def _project(edits: list[Edit]) -> list[dict[str, str]]:
    changes = dict(PROJECT_EDITS[e] for e in edits if e in PROJECT_EDITS)
    return [{**row, **changes.get(row["field_name"], {})} for row in DEMO_METADATA]


def bad_invite_template(text: str) -> str:
    return text.replace("per_minute = 0", 'per_minute = 0\ntemplates_dir = "tpl"')


def smtp_down(text: str) -> str:
    return text.replace('transport = "outbox"', 'transport = "smtp"').replace(
        "[report]",
        f'[email.smtp]\nhost = "127.0.0.1"\nport = {_free_port()}\nsecurity = "none"\n\n[report]',
    )


def smtp_without_password(text: str) -> str:
    return text.replace('transport = "outbox"', 'transport = "smtp"').replace(
        "[report]", '[email.smtp]\nhost = "127.0.0.1"\nusername = "lab"\n\n[report]'
    )


def graph_never_signed_in(fake: MicrosoftSandbox) -> Edit:
    def edit(text: str) -> str:
        return text.replace('transport = "outbox"', 'transport = "graph"').replace(
            "[report]",
            "[email.graph]\n"
            'mode = "delegated"\n'
            f'client_id = "{fake.client_id}"\n'
            f'tenant_id = "{fake.tenant_id}"\n'
            f'authority_host = "{fake.authority_host}"\n'
            f'endpoint = "{fake.endpoint}"\n'
            f'ca_bundle = "{fake.ca_bundle}"\n\n[report]',
        )

    return edit


def _study(tmp_path: Path, sb: Sandbox, edits: list[Edit], extra: str = "") -> Path:
    def edit(text: str) -> str:
        for e in edits:
            text = e(text)
        return text

    (tmp_path / "tpl").mkdir(exist_ok=True)
    (tmp_path / "tpl" / "invite.subject.j2").write_text("{{ study_name }")  # a syntax error
    return write_study(tmp_path, sb.url, sb.token, edit=edit, extra=extra)


def _statuses(sb: Sandbox) -> dict[str, str]:
    with RedcapClient(sb.url, sb.token) as client:
        return {r["record_id"]: r["pipeline_processing_status"] for r in client.export_records()}


# (edits, run's exit code, each step's exit code, or None where the step is skipped)
CASES = {
    "partial": ([partial], 5, [5, 0, 0, 0, 0]),
    "template": ([bad_invite_template], 3, [0, 0, 0, 3, 0]),
    "partial + mail down": ([partial, smtp_down], 4, [5, 4, 0, None, None]),
    "transport not set up": ([smtp_without_password], 3, [0, 3, 0, None, None]),
    "sign-in needed + partial": ([partial], 6, [5, 6, 0, None, None]),
    "claims refused + partial": ([claims_refused, partial], 7, [5, 7, 0, 7, 7]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_failing_step_is_reported_and_the_worst_code_wins(
    case: str, tmp_path: Path, fake: MicrosoftSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    edits, expected, step_codes = CASES[case]
    if case.startswith("sign-in"):
        edits = [*edits, graph_never_signed_in(fake)]
    with (
        run_sandbox(demo=60, unique_field="assigned_study_id") as sb,
        ping_server() as (url, pings),
    ):
        if any(e in PROJECT_EDITS for e in edits):
            with RedcapClient(sb.url, sb.token) as client:
                client.import_metadata(_project(edits))
        config = _study(tmp_path, sb, edits, extra=f'\n[ops]\nhealthcheck_url = "{url}"\n')
        assert run(["-c", str(config), "run", "--json"]) == expected
        statuses = _statuses(sb)
    payload = json.loads(capsys.readouterr().out)
    steps = payload["data"]["steps"]
    assert [s["step"] for s in steps] == ["screen", "alert", "assign", "invite", "notify"]
    assert [None if s["skipped"] else s["exit_code"] for s in steps] == step_codes
    assert payload["exit_code"] == expected
    assert pings == ["/ping/check-uuid/start", f"/ping/check-uuid/{expected}"]

    # Screening and ID assignment only need REDCap: they happened whatever mail did.
    assert "eligible_id_assigned" in statuses.values() or "eligible_invited" in statuses.values()
    sent_invites = list((tmp_path / "outbox").glob("*_invite_*.eml"))
    if step_codes[3] == 0:  # invite ran cleanly: everyone with an ID was invited
        assert "eligible_id_assigned" not in statuses.values() and sent_invites
    else:  # nobody is marked invited, and no invitation exists anywhere
        assert "eligible_invited" not in statuses.values() and not sent_invites
        assert not fake.sent
    # notify runs after a failed invite (it needs neither the invitation template nor IDs)
    assert ("ineligible_notified" in statuses.values()) == (step_codes[4] == 0)


def test_a_bug_in_a_step_ends_the_run_and_still_pings_exit_1(tmp_path: Path) -> None:
    class Broken:
        """A transport with a bug: not a RecruitError, so nothing is known to be safe."""

        name = "outbox"

        def send(self, message: OutgoingMessage) -> SendReceipt:
            raise RuntimeError("a bug")

        def was_sent(self, key: str) -> bool | None:
            return False

        def close(self) -> None:
            pass

    with run_sandbox(demo=30) as sb, ping_server() as (url, pings):
        config = write_study(
            tmp_path, sb.url, sb.token, extra=f'\n[ops]\nhealthcheck_url = "{url}"\n'
        )
        settings = load_settings(config, environ={"REDCAP_API_TOKEN": sb.token})
        with pytest.raises(RuntimeError, match="a bug"):
            run_cycle(settings, transport_factory=lambda s: Broken())
        statuses = _statuses(sb)
    assert pings == ["/ping/check-uuid/start", "/ping/check-uuid/1"]
    assert "eligible_invited" not in statuses.values()


def test_ctrl_c_ends_the_run_with_130_and_pings_it(tmp_path: Path) -> None:
    """SIGINT while the run waits on REDCap: the process exits 130 and the monitor is told."""
    # Every REDCap answer is 5 s late: the project info (read before the lock and the start
    # ping) takes that long, and the run is then at its start ping or its first request
    # when the signal comes (the sandbox's handler threads are daemons: none of the wait
    # of that request is waited for).
    with run_sandbox(demo=5, faults="delay=5") as sb, ping_server() as (url, pings):
        config = write_study(
            tmp_path, sb.url, sb.token, extra=f'\n[ops]\nhealthcheck_url = "{url}"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "recruit_cli", "-c", str(config), "run"],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            # The start ping comes once the lock is held; from then on a Ctrl-C (even one
            # that lands during that ping) ends the run with exit 130 and a /130 ping.
            for _ in range(1200):
                if pings or process.poll() is not None:
                    break
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == ExitCode.INTERRUPTED == 130, err
    assert "recruit: interrupted" in err
    assert pings == ["/ping/check-uuid/start", "/ping/check-uuid/130"]


def test_the_log_file_has_one_line_per_step_and_stderr_says_each_failure_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logs" / "recruit.log"
    with run_sandbox(demo=60, unique_field="assigned_study_id") as sb:
        config = _study(tmp_path, sb, [bad_invite_template])
        assert run(["-c", str(config), "--log-file", str(log), "run"]) == 3
    err = capsys.readouterr().err
    text = log.read_text(encoding="utf-8")
    for line in ("run: start", "run: screen exit 0", "run: invite exit 3", "run: notify exit 0"):
        assert line in text
    assert "run: done, exit 3" in text
    assert "invite.subject.j2" in text  # why invite stopped, in the audit trail too
    assert err.count("invite.subject.j2") == 1
    assert "@example.org" not in text + err  # record ids only, never addresses


def test_dry_run_says_later_steps_see_redcap_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_sandbox(demo=20) as sb, ping_server() as (url, pings):
        config = write_study(
            tmp_path, sb.url, sb.token, extra=f'\n[ops]\nhealthcheck_url = "{url}"\n'
        )
        assert run(["-c", str(config), "run", "--dry-run", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert DRY_RUN_NOTICE in payload["notices"]
    assert pings == []  # a dry run is not the scheduled job


def test_redcap_refusing_one_steps_request_leaves_the_others_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A criterion naming a field the project lacks stops screening only: people screened
    before the typo still get their IDs and e-mails (each pass asks for its own fields)."""
    with run_sandbox(demo=60, unique_field="assigned_study_id") as sb:
        config = write_study(tmp_path, sb.url, sb.token)
        assert run(["-c", str(config), "screen"]) == 0
        config.write_text(config.read_text().replace("[travel] = '1'", "[travvel] = '1'"))
        assert run(["-c", str(config), "run", "--json"]) == 3
        statuses = _statuses(sb)
    steps = json.loads(capsys.readouterr().out)["data"]["steps"]
    assert [(s["exit_code"], s["skipped"]) for s in steps] == [(3, False)] + [(0, False)] * 4
    assert "travvel" in steps[0]["error"]
    assert "eligible_invited" in statuses.values() and "ineligible_notified" in statuses.values()


def test_a_wrong_redcap_path_is_a_configuration_error_and_no_step_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # [redcap] url with the wrong path: the server is there, but answers 404 (issue 14).
    with run_sandbox(demo=5) as sb:
        wrong = sb.url.replace("/api/", "/redcap/")
        config = write_study(tmp_path, wrong, sb.token)
        assert run(["-c", str(config), "run", "--json"]) == ExitCode.CONFIG
        # The run stops at the project info, its first call: no step is tried.
        envelope = json.loads(capsys.readouterr().out)
        assert envelope["error"]["type"] == "RedcapNotFound"
        assert "[redcap] url" in envelope["error"]["message"]
        assert "data" not in envelope

        assert run(["-c", str(config), "doctor", "--json"]) == ExitCode.CONFIG
        checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
        assert checks["REDCap reachable"]["state"] == "fail"
        assert "HTTP 404" in checks["REDCap reachable"]["detail"]
        assert "[redcap] url" in checks["REDCap reachable"]["detail"]
        assert "token accepted" not in checks  # the token was never the problem

        assert run(["-c", str(config), "status"]) == ExitCode.CONFIG
        assert "check [redcap] url" in capsys.readouterr().err
