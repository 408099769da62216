"""`recruit doctor` warns about files others can read or change; the lock refuses a link.

Each case is made by hand in a study directory (as a careless `chmod -R 777` or an
attacker with write access to the state directory would leave it) and read back through
`recruit doctor --json` against the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from recruit_cli.cli.main import run
from recruit_cli.config import load_settings
from recruit_cli.lock import lock_name
from recruit_cli.ops.demo import demo_config_text
from recruit_cli.sandbox import run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.sandbox.project import PROJECT_ID


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A study directory on the demo configuration; state/ and outbox/ exist, all private."""
    monkeypatch.delenv("REDCAP_API_TOKEN", raising=False)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    with run_sandbox(metadata=DEMO_METADATA, unique_field="assigned_study_id") as sb:
        config = tmp_path / "recruit.toml"
        config.write_text(demo_config_text(sb.url), encoding="utf-8")
        env = tmp_path / ".env"
        env.write_text(f"REDCAP_API_TOKEN={sb.token}\n", encoding="utf-8")
        env.chmod(0o600)
        for name in ("state", "outbox"):
            (tmp_path / name).mkdir(mode=0o700)
        yield config


def _doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[str, str]]:
    run(["-c", str(config), "doctor", "--json"])
    doc = json.loads(capsys.readouterr().out)
    return {c["name"]: (c["state"], c["detail"]) for c in doc["checks"]}


def _wide_env(study: Path) -> None:
    (study.parent / ".env").chmod(0o644)


def _wide_state(study: Path) -> None:
    (study.parent / "state").chmod(0o777)


def _wide_outbox(study: Path) -> None:
    (study.parent / "outbox").chmod(0o777)


def _lock_file(study: Path) -> Path:
    """The study's lock file: named after its REDCap project (recruit_cli.lock.lock_name)."""
    url = load_settings(study, environ={}).redcap.url
    return study.parent / "state" / f"{lock_name(url, str(PROJECT_ID))}.lock"


def _url_with_password(study: Path) -> None:
    text = study.read_text(encoding="utf-8")
    study.write_text(text.replace("http://127.0.0.1", "http://lab:hunter2@127.0.0.1"))


def _linked_lock(study: Path) -> None:
    _lock_file(study).symlink_to(study.parent / "elsewhere")


CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    ".env readable by others": (_wide_env, ".env file", "chmod 600"),
    "state directory writable by others": (_wide_state, "state directory", "chmod 700"),
    "outbox writable by others": (_wide_outbox, "outbox directory", "chmod 700"),
    "lock file a symbolic link": (_linked_lock, "lock file", "symbolic link"),
    "a password in the REDCap URL": (_url_with_password, "REDCap URL", "holds a password"),
}


def test_a_private_study_has_no_warning(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _doctor(study, capsys)
    for name in (".env file", "state directory", "outbox directory"):
        assert rows[name][0] == "ok", rows[name]
    assert "lock file" not in rows and "REDCap URL" not in rows


@pytest.mark.parametrize("case", sorted(CASES))
def test_doctor_warns(case: str, study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, row, advice = CASES[case]
    make(study)
    rows = _doctor(study, capsys)
    state, detail = rows[row]
    assert state == "warn" and advice in detail
    assert "hunter2" not in json.dumps(rows)  # the password itself is never shown
    others = [name for name, (s, _) in rows.items() if s == "warn" and name != row]
    assert others == []


def test_the_lock_refuses_a_symbolic_link(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = study.parent / "elsewhere"
    _linked_lock(study)
    assert run(["-c", str(study), "run"]) == 3
    err = capsys.readouterr().err
    assert _lock_file(study).name in err and "symbolic link" in err
    assert not target.exists()  # nothing was created or written through the link
