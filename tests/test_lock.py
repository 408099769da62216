"""The lock is keyed by the REDCap project, not the state directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from recruit_cli.errors import LockHeld
from recruit_cli.lock import lock_name, run_lock


def test_spellings_of_one_project_share_a_name_and_credentials_never_show() -> None:
    plain = lock_name("https://redcap.example.edu/api/", "42")
    assert plain.startswith("recruit-42-")
    for same in (
        "https://REDCap.Example.edu/api",
        "https://redcap.example.edu:443/api/",
        "https://lab:s3cret@redcap.example.edu/api/",
        " https://redcap.example.edu/api/?x=1 ",
    ):
        assert lock_name(same, "42") == plain, same
    assert "s3cret" not in lock_name("https://lab:s3cret@redcap.example.edu/api/", "42")


def test_other_projects_have_other_names() -> None:
    one = lock_name("https://redcap.example.edu/api/", "42")
    assert lock_name("https://redcap.example.edu/api/", "43") != one
    assert lock_name("https://redcap.other.edu/api/", "42") != one
    assert lock_name("http://redcap.example.edu/api/", "42") != one
    assert lock_name("https://redcap.example.edu:8443/api/", "42") != one
    assert lock_name("https://redcap.example.edu/api/", "../../x\n").startswith("recruit-x-")


def test_one_project_excludes_itself_and_not_another(tmp_path: Path) -> None:
    a = lock_name("https://redcap.example.edu/api/", "1")
    b = lock_name("https://redcap.example.edu/api/", "2")
    with run_lock(tmp_path, a):
        with run_lock(tmp_path, b):
            pass
        with pytest.raises(LockHeld), run_lock(tmp_path, a):
            pass
