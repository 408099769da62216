"""The CLI skin: version, help, and the exit-code contract in --help."""

from __future__ import annotations

import subprocess
import sys

from recruit_cli import __version__


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
    for code in range(7):
        assert f"{code} " in out.stdout


def test_unknown_option_is_usage_error() -> None:
    out = recruit("--no-such-option")
    assert out.returncode == 2
