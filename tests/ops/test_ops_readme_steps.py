"""The README's first steps, followed literally (issue 14).

"Setting up a study" ran doctor, run --dry-run and --preview 12 before the section that
made them work, and record 12 of `--demo 50` was still pending. These tests take the
commands out of the README and run them, in order, against a sandbox like the one the
README starts (on a free port here, the only change).
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recruit_cli.cli.main import run
from recruit_cli.ops.demo import EXPLORE_PORT
from recruit_cli.sandbox import run_sandbox

README = Path(__file__).resolve().parents[2] / "README.md"


def _block(after: str) -> list[str]:
    """The lines of the first ```sh block after ``after`` in the README, comments cut."""
    text = README.read_text(encoding="utf-8")
    block = text.split(after, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_setting_up_a_study_works_on_the_sandbox_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _block("**1. On the sandbox**")
    serve = next(line for line in lines if line.startswith("recruit sandbox serve"))
    args = shlex.split(serve.rstrip("&"))
    demo = int(args[args.index("--demo") + 1])
    token = args[args.index("--token") + 1]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECRUIT_CONFIG", raising=False)
    monkeypatch.delenv("REDCAP_API_TOKEN", raising=False)
    week = datetime.now(UTC).strftime("%G-W%V")
    with run_sandbox(demo=demo, token=token) as sb:
        ran = []
        for line in lines:
            for command in line.split("&&"):
                words = shlex.split(command.replace('"$(date +%G-W%V)"', week))
                if words[:1] == ["cd"]:
                    monkeypatch.chdir(tmp_path / words[1])
                    # The one change: the README's sandbox listens on 8765, this one anywhere.
                    config = Path("recruit.toml")
                    text = config.read_text(encoding="utf-8")
                    assert f'url = "http://127.0.0.1:{EXPLORE_PORT}/api/"' in text
                    config.write_text(
                        text.replace(f"127.0.0.1:{EXPLORE_PORT}", f"127.0.0.1:{sb.port}")
                    )
                elif words[:1] == ["echo"]:
                    target = command.split(">", 1)[1].split("&&")[0].strip()
                    Path(target).write_text(words[1].split(">")[0] + "\n", encoding="utf-8")
                elif words[:1] == ["recruit"] and words[1] not in ("sandbox",):
                    code = run(words[1:])
                    out = capsys.readouterr()
                    assert code == 0, f"{command.strip()} exited {code}: {out.err}"
                    ran.append(words[1])
    assert ran[:1] == ["init"] and {"doctor", "run", "status", "invite", "report"} <= set(ran)
    preview = next(re.search(r"--preview (\S+)", line) for line in lines if "--preview" in line)
    assert preview is not None
    assert list((tmp_path / "study" / "outbox").glob(f"{preview.group(1)}_invite_1.eml"))


def test_the_quick_start_serves_the_demo_where_its_config_points(tmp_path: Path) -> None:
    lines = _block("To explore them:")
    serve = next(line for line in lines if line.startswith("recruit sandbox serve"))
    assert f"--port {EXPLORE_PORT}" in serve and "--db recruit-demo/sandbox.db" in serve
    assert run(["demo", "--dir", str(tmp_path / "recruit-demo"), "--records", "5"]) == 0
    config = (tmp_path / "recruit-demo" / "recruit.toml").read_text(encoding="utf-8")
    assert f'url = "http://127.0.0.1:{EXPLORE_PORT}/api/"' in config
