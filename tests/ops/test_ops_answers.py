"""REDCap answers that are not what was asked are refused, and nothing is written from them.

A proxy stands between recruit and a real sandbox and changes one kind of answer: an export
that never ends, rows repeated with other values, rows nobody asked for, a row without its
record id, a value that is not text, a body that is not rows. Each time recruit must stop
with exit 4, and REDCap (the sandbox) must receive no write.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile_servers import Endless, HostileRedcap, Rewrite, call
from ops_support import write_study

from recruit_cli.cli.main import run
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox, run_sandbox

HANG_GUARD = 120.0


def everything(sb: Sandbox) -> list[dict[str, str]]:
    with RedcapClient(sb.url, sb.token, record_id_field="record_id") as client:
        return client.export_records()


def peak_rss_kb(config: Path, *args: str) -> tuple[int, str, int]:
    """Run the CLI in a subprocess; its exit code, stderr and peak resident memory (KB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "recruit_cli", "-c", str(config), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        guard = threading.Timer(HANG_GUARD, process.kill)
        guard.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not others'
        finally:
            guard.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return process.returncode, err.read().decode(), usage.ru_maxrss


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KB: Linux")
def test_an_export_that_never_ends_is_refused_with_memory_bounded(tmp_path: Path) -> None:
    cap_mb = 2
    extra = {"max_response_mb": cap_mb}
    with run_sandbox(demo=10) as sb, HostileRedcap(sb.url) as proxy:

        def study(name: str) -> Path:
            directory = tmp_path / name
            directory.mkdir()
            return write_study(directory, proxy.url, sb.token, edit=redcap_keys(**extra))

        code, err, baseline = peak_rss_kb(study("calm"), "status")
        assert code == 0, err
        endless = proxy.on(call("record", "export"), Endless(limit_mb=256))
        assert isinstance(endless, Endless)
        code, err, peak = peak_rss_kb(study("endless"), "status")
    assert code == 4, err
    assert f"with more than {cap_mb} MB ([redcap] max_response_mb)" in err
    # Memory: what a calm run needs, plus at most the cap and a chunk (and some slack for
    # the allocator); an answer read whole would have taken hundreds of MB.
    assert peak - baseline < 32 * 1024, (peak, baseline)
    # The client hung up long before the server's 256 MB guard.
    assert endless.sent < 64 * 1024 * 1024


def redcap_keys(**keys: object) -> Callable[[str], str]:
    lines = "".join(f"\n{k} = {v}" for k, v in keys.items())

    def edit(text: str) -> str:
        line = 'token_env = "REDCAP_API_TOKEN"'
        return text.replace(line, line + lines, 1)

    return edit


def _first_other_field(row: dict[str, Any]) -> str:
    return next(k for k in row if k != "record_id")


def conflicting(rows: Any) -> Any:
    """The first record twice, the second time with another value."""
    if not rows:
        return rows
    twin = dict(rows[0])
    twin[_first_other_field(twin)] = "7"
    return [*rows, twin]


def without_record_id(rows: Any) -> Any:
    return [{k: v for k, v in row.items() if k != "record_id"} for row in rows]


def not_text(rows: Any) -> Any:
    return [{**row, _first_other_field(row): 7} for row in rows]


def not_rows(rows: Any) -> Any:
    return {"records": rows}


def unrequested(rows: Any) -> Any:
    """A row for record 999, which exists nowhere and nobody asked for."""
    phantom = {**(rows[0] if rows else {}), "record_id": "999"}
    return [*rows, phantom]


@pytest.mark.parametrize(
    ("args", "change", "said"),
    [
        (["run"], conflicting, "rows 1 and "),
        (["run"], without_record_id, "row 1 without its record id ('record_id')"),
        (["run"], not_text, "a number, not text"),
        (["run"], not_rows, "JSON that is not a list of rows (an object)"),
        (["screen", "--record", "1"], unrequested, "for a record that was not asked for"),
    ],
    ids=["conflicting rows", "no record id", "not text", "not rows", "rows not asked for"],
)
def test_an_export_that_is_not_what_was_asked_is_refused_and_nothing_is_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    change: Callable[[Any], Any],
    said: str,
) -> None:
    with run_sandbox(demo=20) as sb, HostileRedcap(sb.url) as proxy:
        before = everything(sb)
        assert any(row["record_id"] == "1" for row in before)
        proxy.on(call("record", "export"), Rewrite(change))
        config = write_study(tmp_path, proxy.url, sb.token)
        code = run(["-c", str(config), *args])
        after = everything(sb)
    err = capsys.readouterr().err
    assert code == 4, err
    assert said in err and "refused, nothing is written from it" in err
    assert proxy.writes() == []
    assert after == before
