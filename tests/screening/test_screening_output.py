"""How the commands talk to operators: quiet under cron, logs, colour, help start-up."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from screening_data import GOOD, write_config

from recruit_cli.cli.main import run
from recruit_cli.cli.render import Environment, render_pass
from recruit_cli.logs import setup_logging
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult, RecordAction
from recruit_cli.sandbox import Sandbox


class Terminal(io.StringIO):
    """A buffer that says it is a terminal, as a coordinator's shell would."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def cli_env(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    monkeypatch.delenv("RECRUIT_CONFIG", raising=False)
    return sb


def seed(sb: Sandbox, *rows: dict[str, str]) -> None:
    with RedcapClient(sb.url, sb.token) as client:
        client.import_records([{**GOOD, **r} for r in rows])


def test_help_is_light() -> None:
    # `recruit --help` and `recruit status --help` must stay fast: no pandas, matplotlib, msal
    # (or requests / jinja2) imported just to print help.
    code = (
        "import sys\n"
        "from recruit_cli.cli.main import run\n"
        "assert run(['--help']) == 0 and run(['status', '--help']) == 0\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'msal', 'requests', 'jinja2')\n"
        "         if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "args", [["status", "--config", "x.toml"], ["screen", "-v"], ["assign", "--log-file", "x"]]
)
def test_global_options_only_before_the_command(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(args) == 2
    err = capsys.readouterr().err
    assert args[1] in err and "go before the command" in err  # typer's error, then our hint
    assert run(["status", "--bogus"]) == 2
    assert "go before the command" not in capsys.readouterr().err


def test_quiet_under_cron_and_log_file_is_the_audit_trail(
    cli_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(write_config(tmp_path, cli_env.url))
    seed(cli_env, {"record_id": "1"}, {"record_id": "2", "age": "12"})
    log = tmp_path / "logs" / "recruit.log"
    try:
        assert run(["--config", cfg, "--log-file", str(log), "screen"]) == 0
        assert run(["--config", cfg, "--log-file", str(log), "assign"]) == 0
        out = capsys.readouterr()
        assert out.out == "" and out.err == ""  # cron mails only when something is wrong
    finally:
        setup_logging(0, None)  # close the file handler
    text = log.read_text(encoding="utf-8")
    assert "screen: record 1 -> eligible" in text
    assert "screen: record 2 -> ineligible" in text
    assert "assign: record 1 assigned HC 3000" in text
    assert GOOD["participant_email"] not in text and "Must be" not in text  # no PHI, no reasons


def test_no_colour_off_tty_and_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    result = PassResult(
        command="screen",
        dry_run=True,
        actions=(RecordAction("7", "review", "unevaluable_age: [age] is blank", ok=False),),
    )
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = Terminal()
    render_pass(Environment(stdout=tty, stderr=io.StringIO()), result)
    assert "\x1b[" in tty.getvalue()  # a terminal gets colour...
    monkeypatch.setenv("NO_COLOR", "1")
    no_color = Terminal()
    render_pass(Environment(stdout=no_color, stderr=io.StringIO()), result)
    monkeypatch.delenv("NO_COLOR")
    pipe = io.StringIO()
    render_pass(Environment(stdout=pipe, stderr=io.StringIO()), result)
    for text in (no_color.getvalue(), pipe.getvalue()):  # ...unless NO_COLOR; a pipe never
        assert "\x1b[" not in text
        # rich must not eat "[age]" or "[dry run]" as markup
        assert "[dry run] screen" in text and "[age] is blank" in text
