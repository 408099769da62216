"""The CLI skin: version, help, and the exit-code contract in --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from recruit_cli import __version__
from recruit_cli.cli.main import run
from recruit_cli.exit_codes import EXIT_CODE_TABLE


def recruit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recruit_cli", *args], capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    out = recruit("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"recruit {__version__}"


def test_help_lists_exit_codes() -> None:
    out = recruit("--help")
    assert out.returncode == 0
    shown = " ".join(out.stdout.split())  # the epilog is wrapped to the terminal
    for code, meaning in EXIT_CODE_TABLE:
        assert f"{code} {meaning}" in shown


def test_shell_completion_is_offered_and_completes_commands() -> None:
    out = recruit("--help")
    assert "--install-completion" in out.stdout and "--show-completion" in out.stdout
    # What bash runs on <Tab> after `recruit --install-completion`: the real entry point
    # with typer's completion variables, naming commands and sub-commands.
    for words, cword, expected in (
        ("recruit sta", "1", {"status"}),
        ("recruit auth ", "2", {"login", "status", "logout", "test"}),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "recruit_cli"],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **os.environ,
                "_RECRUIT_COMPLETE": "complete_bash",
                "COMP_WORDS": words,
                "COMP_CWORD": cword,
            },
        )
        assert done.returncode == 0, done.stderr
        assert set(done.stdout.split()) == expected


def test_unknown_option_is_usage_error() -> None:
    out = recruit("--no-such-option")
    assert out.returncode == 2


def test_an_unusable_log_file_is_a_usage_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = run(["--log-file", str(blocker / "sub" / "recruit.log"), "status"])
    assert code == 2
    assert "--log-file" in capsys.readouterr().err


def test_auth_on_a_configuration_that_does_not_use_graph_says_so(
    tmp_path: Path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    config = tmp_path / "recruit.toml"
    config.write_text(
        '[study]\nname = "S"\n[redcap]\nurl = "http://127.0.0.1:9/api/"\n'
        '[email]\ntransport = "outbox"\n',
        encoding="utf-8",
    )
    assert run(["-c", str(config), "auth", "status"]) == 3
    err = capsys.readouterr().err
    assert 'transport = "graph"' in err and "email.transport" in err
