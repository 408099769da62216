"""`recruit auth login|status|logout|test` through the real entry point, against the fake."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from recruit_cli.cli.main import run
from recruit_cli.sandbox.microsoft import MicrosoftSandbox


@pytest.fixture
def config(fake: MicrosoftSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    monkeypatch.setenv("RECRUIT_GRAPH_CLIENT_SECRET", fake.client_secret)
    return write_config(fake, tmp_path, "delegated")


def write_config(fake: MicrosoftSandbox, directory: Path, mode: str) -> Path:
    mailbox = "" if mode == "delegated" else 'mailbox = "lab@example.org"'
    path = directory / "recruit.toml"
    path.write_text(
        f"""\
state_dir = "state"

[study]
name = "Test study"

[redcap]
url = "https://redcap.example.org/api/"

[email]
transport = "graph"
sender = "lab@example.org"

[email.graph]
mode = "{mode}"
client_id = "{fake.client_id}"
tenant_id = "{fake.tenant_id}"
authority_host = "{fake.authority_host}"
endpoint = "{fake.endpoint}"
ca_bundle = "{fake.ca_bundle}"
{mailbox}
""",
        encoding="utf-8",
    )
    return path


def recruit(config: Path, *args: str) -> int:
    return run(["--config", str(config), *args])


def test_login_status_test_logout(
    fake: MicrosoftSandbox, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert recruit(config, "auth", "login") == 0
    out = capsys.readouterr()
    assert "enter the code" in out.err  # device-code instructions go to stderr
    assert "enter the code" not in out.out
    assert f"signed in: yes as {fake.username}" in out.out
    cache = config.parent / "state" / "msal_token_cache.bin"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600

    assert recruit(config, "auth", "status", "--json") == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert data["signed_in"] is True and data["username"] == fake.username
    assert data["cache_path"] == str(cache) and data["expires_at"]

    assert recruit(config, "auth", "test", "--to", "staff@example.org") == 0
    assert "test message: accepted (202)" in capsys.readouterr().out
    assert [m["recipients"] for m in fake.sent] == [["staff@example.org"]]

    assert recruit(config, "auth", "logout") == 0
    assert "1 account(s) removed" in capsys.readouterr().out
    assert recruit(config, "auth", "status") == 6
    assert "signed in: no" in capsys.readouterr().out


def test_expired_sign_in_exits_6_with_the_fix(
    fake: MicrosoftSandbox, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.token_lifetime = 60
    assert recruit(config, "auth", "login") == 0
    fake.refresh_token_invalid = True
    capsys.readouterr()

    assert recruit(config, "auth", "test") == 6
    err = capsys.readouterr().err
    assert "Microsoft sign-in needed: run `recruit auth login`" in err
    assert "AADSTS700082" in err


def test_app_mode_login_checks_client_credentials(
    fake: MicrosoftSandbox, tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_config = write_config(fake, tmp_path, "app")
    assert recruit(app_config, "auth", "login", "--json") == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert data["mode"] == "app" and data["signed_in"] is True
    assert fake.calls["token:app"] == 1
    assert (
        fake.client_secret not in (app_config.parent / "state" / "msal_token_cache.bin").read_text()
    )


def test_send_as_denied_exits_3_with_a_hint(
    fake: MicrosoftSandbox, tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = write_config(fake, tmp_path, "shared")
    fake.denied_mailboxes.add("lab@example.org")
    assert recruit(shared, "auth", "login") == 0
    capsys.readouterr()

    assert recruit(shared, "auth", "test", "--to", "staff@example.org") == 3
    err = capsys.readouterr().err
    assert "ErrorSendAsDenied" in err and "Send As" in err
    assert "staff@example.org" not in err


def test_test_refuses_a_bad_address(
    fake: MicrosoftSandbox, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert recruit(config, "auth", "login") == 0
    assert recruit(config, "auth", "test", "--to", "not an address") == 2
    assert "--to: not an e-mail address" in capsys.readouterr().err
    # The same definition as everywhere (recruit_cli.address): nothing reaches Graph.
    assert recruit(config, "auth", "test", "--to", "jo..e@example.org") == 2
    err = capsys.readouterr().err
    assert "--to: not an e-mail address (the part before the @ is not valid)" in err
    assert "jo..e" not in err and fake.sent == []
