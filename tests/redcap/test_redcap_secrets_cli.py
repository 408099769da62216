"""Through the CLI, a secret never reaches stderr, stdout (``--json``) or ``--log-file``.

Two ways it used to: REDCap echoing the API token in another letter case (the scrub was
case-sensitive), and a ``user:password@`` in ``[redcap] url`` (the host in every message
was the URL's whole netloc). Both are driven by real commands against real servers on
loopback: a scripted REDCap, and a port where nothing listens.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from redcap_scripted import TOKEN, Answer, ScriptedServer

from recruit_cli.cli.main import run
from recruit_cli.ops.demo import demo_config_text
from recruit_cli.sandbox import Sandbox

COMMANDS = [
    ["status", "--json"],
    ["screen", "--json"],
    ["run", "--json"],
    ["doctor", "--json"],
]
USER, PASSWORD = "svc-recruit", "Pa55-w0rd-in-url"


def _study(tmp_path: Path, url: str) -> Path:
    """The demo configuration at ``url`` (no retries: every failure is final at once)."""
    line = 'token_env = "REDCAP_API_TOKEN"'
    text = demo_config_text(url).replace(line, f"{line}\nretries = 0\nretry_max_wait = 0", 1)
    config = tmp_path / "recruit.toml"
    config.write_text(text, encoding="utf-8")
    (tmp_path / ".env").write_text(f"REDCAP_API_TOKEN={TOKEN}\n", encoding="utf-8")
    return config


def _said(capsys: pytest.CaptureFixture[str], log: Path) -> str:
    out, err = capsys.readouterr()
    return "\n".join([out, err, log.read_text(encoding="utf-8") if log.exists() else ""])


@pytest.fixture(autouse=True)
def _no_token_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDCAP_API_TOKEN", raising=False)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_token_echoed_in_another_case_is_blanked(
    command: list[str],
    server: ScriptedServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    echoed = f"The token {TOKEN.lower()} (or {TOKEN.title()}) does not match a project"
    server.queue(Answer(400, json.dumps({"error": echoed})))
    config, log = _study(tmp_path, server.url), tmp_path / "recruit.log"

    code = run(["-c", str(config), "-vv", "--log-file", str(log), *command])

    said = _said(capsys, log)
    assert code != 0
    assert server.requests and all(r["token"] == TOKEN for r in server.requests)
    assert "does not match a project" in said  # REDCap's message is shown ...
    assert "***" in said  # ... with the token blanked
    assert TOKEN.lower() not in said.lower()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_url_credentials_are_never_shown(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on: the command can't connect
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = _study(tmp_path, f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/api/")
    log = tmp_path / "recruit.log"

    code = run(["-c", str(config), "-vv", "--log-file", str(log), *command])

    said = _said(capsys, log)
    assert code != 0
    assert f"127.0.0.1:{port}" in said  # where it failed is still said ...
    assert PASSWORD not in said and USER not in said  # ... but not with what


def test_doctor_names_a_reachable_redcap_without_its_credentials(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sandbox.url.replace("http://", f"http://{USER}:{PASSWORD}@", 1)
    config = _study(tmp_path, url)
    (tmp_path / ".env").write_text(f"REDCAP_API_TOKEN={sandbox.token}\n", encoding="utf-8")
    log = tmp_path / "recruit.log"

    run(["-c", str(config), "-vv", "--log-file", str(log), "doctor", "--json"])

    out = capsys.readouterr().out
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["REDCap reachable"]["detail"] == sandbox.url
    assert PASSWORD not in _said(capsys, log) + out and USER not in out
