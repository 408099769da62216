"""Everything recruit creates is its owner's alone: directories 0700, files 0600.

Under a umask of 000 (the widest a careless service account can have), so that no mode
below comes from the umask: the demo (sandbox database, config, .env, outbox, report,
state and its lock) with ``--log-file``, the Microsoft token cache, and `recruit init`'s
``.env.example``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from recruit_cli.cli.main import run
from recruit_cli.msgraph.auth import open_token_cache


@pytest.fixture
def wide_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in root.rglob("*")}


def test_the_demo_and_its_log_are_private(
    wide_umask: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    demo, logs = tmp_path / "demo", tmp_path / "logs"
    args = ["--log-file", str(logs / "recruit.log"), "demo", "--dir", str(demo)]
    assert run([*args, "--records", "30"]) == 0

    made = _modes(demo)
    for name in ("sandbox.db", "recruit.toml", ".env", "state", "outbox", "reports"):
        assert name in made, name
    assert any(name.startswith("outbox/") for name in made)
    assert any(name.startswith("reports/") for name in made)
    assert any(name.endswith(".lock") for name in made)
    wrong = {
        name: f"{mode:04o}"
        for name, mode in {**made, ".": stat.S_IMODE(demo.stat().st_mode)}.items()
        if mode != (0o700 if (demo / name).is_dir() else 0o600)
    }
    assert wrong == {}
    assert _modes(logs) == {"recruit.log": 0o600}
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700


def test_the_token_cache_and_its_directories(wide_umask: None, tmp_path: Path) -> None:
    open_token_cache(tmp_path / "a" / "b" / "cache.bin")
    assert _modes(tmp_path) == {"a": 0o700, "a/b": 0o700, "a/b/cache.bin": 0o600}


def test_init_writes_a_private_env_example(wide_umask: None, tmp_path: Path) -> None:
    assert run(["init", str(tmp_path / "study")]) == 0
    example = tmp_path / "study" / ".env.example"
    assert stat.S_IMODE(example.stat().st_mode) == 0o600
