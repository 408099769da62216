"""docs/systemd.md: every unit it shows is complete and passes `systemd-analyze verify`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "systemd.md"
UNIT = re.compile(r"^`/etc/systemd/system/([\w@.-]+)`\n```ini\n(.*?)^```", re.M | re.S)


def _units() -> dict[str, str]:
    return {name: body for name, body in UNIT.findall(DOC.read_text(encoding="utf-8"))}


def test_the_doc_shows_every_unit_it_names() -> None:
    units = _units()
    assert set(units) == {
        "recruit-run.service",
        "recruit-run.timer",
        "recruit-report.service",
        "recruit-report.timer",
        "recruit-alert@.service",
    }
    text = DOC.read_text(encoding="utf-8")
    for named in set(re.findall(r"recruit-[\w-]+@?\.(?:service|timer)", text)):
        assert named in units, f"{named} is named but not shown"
    assert "OnCalendar=*:0/5" in units["recruit-run.timer"]
    assert "OnCalendar=Mon *-*-* 08:00:00" in units["recruit-report.timer"]
    for service in ("recruit-run.service", "recruit-report.service"):
        unit_section = units[service].split("[Service]")[0]
        assert "OnFailure=recruit-alert@%n.service" in unit_section  # a [Unit] key
    # The run and the report queue on one flock file instead of skipping each other.
    locks = {
        re.search(r"ExecStart=/usr/bin/flock (\S+)", units[s]).group(1)  # type: ignore[union-attr]
        for s in ("recruit-run.service", "recruit-report.service")
    }
    assert len(locks) == 1


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    recruit = str(Path(sys.executable).with_name("recruit"))
    for name, body in _units().items():
        # verify checks that ExecStart's program exists: point it at this checkout's recruit.
        body = body.replace("/srv/recruit/.venv/bin/recruit", recruit)
        (tmp_path / name).write_text(body, encoding="utf-8")
    # The alert template is verified through the instance OnFailure= starts.
    shutil.copy(tmp_path / "recruit-alert@.service", tmp_path / "recruit-alert@x.service")
    names = [p.name for p in tmp_path.iterdir() if p.name != "recruit-alert@.service"]
    done = subprocess.run(
        ["systemd-analyze", "verify", *sorted(names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ignoring" not in done.stderr, done.stderr  # unknown keys, bad calendar specs
