"""crontab.example: the schedule it promises, and its lines run as cron would run them.

The lines are executed with /bin/sh and the crontab's own variables, with the /srv/recruit
paths pointed at a temporary study on the sandbox: quiet on success, the log file written,
the health-check pings sent, a cycle skipped while another holds the lock.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ops_support import ping_server, write_study

from recruit_cli.sandbox import run_sandbox

CRONTAB = Path(__file__).resolve().parents[2] / "crontab.example"
VENV_RECRUIT = "/srv/recruit/.venv/bin/recruit"

pytestmark = pytest.mark.skipif(
    shutil.which("flock") is None or not Path("/bin/sh").exists(), reason="needs flock and sh"
)


def _parse() -> tuple[dict[str, str], list[str], list[str]]:
    """(variables, active schedule lines, commented-out schedule lines)."""
    variables: dict[str, str] = {}
    active: list[str] = []
    commented: list[str] = []
    for raw in CRONTAB.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line.lstrip("#").strip()
            if body[:1] in "*0123456789" and len(body.split()) > 6:
                commented.append(body)
            continue
        name, eq, value = line.partition("=")
        if eq and " " not in name:
            variables[name] = value
        else:
            active.append(line)
    return variables, active, commented


def _command(line: str) -> tuple[str, str]:
    fields = line.split(None, 5)
    return " ".join(fields[:5]), fields[5]


def test_the_schedule_is_run_every_5_minutes_and_the_report_on_monday_at_8() -> None:
    variables, active, _ = _parse()
    assert {"SHELL", "MAILTO", "RECRUIT_CONFIG", "RECRUIT_STATE_DIR"} <= set(variables)
    schedule = dict(_command(line) for line in active)
    assert set(schedule) == {"*/5 * * * *", "0 8 * * 1"}
    run_cmd, report_cmd = shlex.split(schedule["*/5 * * * *"]), shlex.split(schedule["0 8 * * 1"])
    assert run_cmd[-1] == "run" and report_cmd[-2:] == ["report", ">/dev/null"]
    for cmd in (run_cmd, report_cmd):
        assert cmd[0] == "flock" and VENV_RECRUIT in cmd and "--log-file" in cmd
    # One flock file for both: the run skips a busy cycle (-n); the report waits its turn,
    # so a run starting at 08:00 too can't make it skip the week.
    assert run_cmd[1] == "-n" and report_cmd[1] == run_cmd[2]
    assert "-n" not in report_cmd[: report_cmd.index(VENV_RECRUIT)]


def _localise(text: str, tmp: Path, ping_url: str = "") -> str:
    recruit = str(Path(sys.executable).with_name("recruit"))
    text = text.replace(VENV_RECRUIT, recruit).replace("/srv/recruit/state", str(tmp / "state"))
    text = text.replace("/srv/recruit/logs", str(tmp / "logs"))
    text = text.replace("/srv/recruit/study/recruit.toml", str(tmp / "recruit.toml"))
    return text.replace("https://hc-ping.com/UUID", ping_url)


def _cron(line: str, tmp: Path, ping_url: str = "") -> subprocess.CompletedProcess[str]:
    variables, _, _ = _parse()
    env = {k: _localise(v, tmp) for k, v in variables.items()}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env["HOME"] = str(tmp)
    (tmp / "state").mkdir(exist_ok=True)
    _, command = _command(_localise(line, tmp, ping_url))
    return subprocess.run(
        ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_run_line_is_quiet_on_success_logs_and_pings(tmp_path: Path) -> None:
    _, active, _ = _parse()
    run_line = next(line for line in active if line.endswith(" run"))
    with (
        run_sandbox(demo=30, unique_field="assigned_study_id") as sb,  # record 26: safety
        ping_server() as (url, pings),
    ):
        write_study(tmp_path, sb.url, sb.token, extra=f'\n[ops]\nhealthcheck_url = "{url}"\n')
        first = _cron(run_line, tmp_path)
        assert first.returncode == 0 and first.stdout == ""  # stderr: safety flags only
        # One shape for every stderr line, safety flags and log lines alike (issue 14).
        lines = first.stderr.splitlines()
        assert lines and all(line.startswith("recruit: ") for line in lines)
        assert any(line.startswith("recruit: SAFETY: record ") for line in lines)
        second = _cron(run_line, tmp_path)
        assert (second.returncode, second.stdout, second.stderr) == (0, "", "")  # no cron mail
        assert pings == ["/ping/check-uuid/start", "/ping/check-uuid/0"] * 2
        log = (tmp_path / "logs" / "recruit.log").read_text(encoding="utf-8")
        assert log.count("run: done, exit 0") == 2
        assert list((tmp_path / "outbox").glob("*_invite_*.eml"))

        # While the lock is held (a cycle still sending), the next one does nothing at all.
        before = {p.name for p in (tmp_path / "outbox").iterdir()}
        with open(tmp_path / "state" / "cron.flock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            skipped = _cron(run_line, tmp_path)
        assert (skipped.stdout, skipped.stderr) == ("", "")
        assert len(pings) == 4 and {p.name for p in (tmp_path / "outbox").iterdir()} == before


def test_the_report_line_writes_the_report(tmp_path: Path) -> None:
    _, active, _ = _parse()
    report_line = next(line for line in active if " report" in line)
    with run_sandbox(demo=20) as sb:
        write_study(tmp_path, sb.url, sb.token)
        done = _cron(report_line, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert list((tmp_path / "reports").glob("enrollment-*.html"))


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_shell_ping_variant_pings_start_and_the_exit_status(tmp_path: Path) -> None:
    _, _, commented = _parse()
    (variant,) = [line for line in commented if "hc-ping.com/UUID/start" in line]
    with run_sandbox(demo=5) as sb, ping_server() as (url, pings):
        write_study(tmp_path, sb.url, sb.token)
        assert _cron(variant, tmp_path, url).returncode == 0
        (tmp_path / ".env").write_text("REDCAP_API_TOKEN=" + "0" * 32 + "\n")  # refused: 3
        _cron(variant, tmp_path, url)
        # A skipped cycle (lock busy) pings nothing: neither started nor failed.
        with open(tmp_path / "state" / "cron.flock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            assert _cron(variant, tmp_path, url).returncode == 0
    assert pings == [
        "/ping/check-uuid/start",
        "/ping/check-uuid/0",
        "/ping/check-uuid/start",
        "/ping/check-uuid/3",
    ]
