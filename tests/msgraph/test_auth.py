"""Microsoft sign-in with the real msal library against the fake identity server (https)."""

from __future__ import annotations

import html
import re
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from recruit_cli.errors import AuthError, ConfigError
from recruit_cli.exit_codes import ExitCode
from recruit_cli.msgraph.auth import MicrosoftAuth, scopes_for
from recruit_cli.sandbox.microsoft import MicrosoftSandbox
from recruit_cli.settings import GraphSettings, Secret, Settings

MakeSettings = Callable[..., Settings]


def test_device_code_login_then_silent_reuse_by_a_new_app(
    fake: MicrosoftSandbox, make_settings: MakeSettings
) -> None:
    fake.device_pending_polls = 2  # the person takes a moment to enter the code
    settings = make_settings()
    shown: list[str] = []
    status = MicrosoftAuth.from_settings(settings).login(notify=shown.append)

    assert status.signed_in and status.username == fake.username
    assert "enter the code" in shown[0]
    assert fake.calls["grant:device_code"] == 3  # two "authorization_pending", then tokens
    cache = settings.state_dir / "msal_token_cache.bin"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert fake.username in cache.read_text()

    # Another process (a cron run): a new MSAL app over the same cache file, no sign-in.
    token = MicrosoftAuth.from_settings(settings).access_token()
    assert fake.check_token(f"Bearer {token}") is not None
    assert fake.calls["token:user"] == 1  # served from the cache, not a new grant


def test_expired_access_token_is_refreshed_silently(
    fake: MicrosoftSandbox, signed_in: Callable[..., MicrosoftAuth]
) -> None:
    fake.token_lifetime = 60  # MSAL counts anything under 5 minutes as expired
    auth = signed_in()
    first = auth.access_token()
    second = MicrosoftAuth(auth.graph, auth.cache_path).access_token()

    assert fake.calls["grant:refresh_token"] == 2
    assert first != second
    assert fake.check_token(f"Bearer {second}") is not None


def test_revoked_refresh_token_needs_sign_in(
    fake: MicrosoftSandbox, signed_in: Callable[..., MicrosoftAuth]
) -> None:
    fake.token_lifetime = 60
    auth = signed_in()
    fake.refresh_token_invalid = True

    with pytest.raises(AuthError) as err:
        auth.access_token()

    assert "run `recruit auth login`" in str(err.value)
    assert "invalid_grant AADSTS700082" in str(err.value)
    assert err.value.exit_code == ExitCode.AUTH


def test_nobody_signed_in_needs_sign_in(make_settings: MakeSettings) -> None:
    auth = MicrosoftAuth.from_settings(make_settings())
    assert not auth.status().signed_in
    with pytest.raises(AuthError, match="recruit auth login"):
        auth.access_token()


def test_client_credentials(fake: MicrosoftSandbox, make_settings: MakeSettings) -> None:
    auth = MicrosoftAuth.from_settings(make_settings("app"))
    status = auth.login()
    token = auth.access_token()  # from the cache now

    assert status.signed_in and status.username is None and status.expires_at is not None
    assert fake.calls["token:app"] == 1
    assert fake.check_token(f"Bearer {token}") is not None


def test_wrong_client_secret_names_the_variable_not_the_secret(
    make_settings: MakeSettings,
) -> None:
    auth = MicrosoftAuth.from_settings(make_settings("app", client_secret=Secret("wrong-s3cret")))
    with pytest.raises(AuthError) as err:
        auth.access_token()
    assert "RECRUIT_GRAPH_CLIENT_SECRET" in str(err.value)
    assert "AADSTS7000215" in str(err.value)
    assert "wrong-s3cret" not in str(err.value)


def test_logout_forgets_the_account(
    fake: MicrosoftSandbox, signed_in: Callable[..., MicrosoftAuth]
) -> None:
    auth = signed_in()
    assert auth.logout() == 1
    fresh = MicrosoftAuth(auth.graph, auth.cache_path)
    assert not fresh.status().signed_in
    assert fake.username not in auth.cache_path.read_text()
    with pytest.raises(AuthError):
        fresh.access_token()


def test_a_new_login_replaces_the_previous_account(
    fake: MicrosoftSandbox, signed_in: Callable[..., MicrosoftAuth]
) -> None:
    auth = signed_in()
    fake.username, fake.user_oid = "other.staff@example.org", "0f0f0f0f-0000-4000-8000-000000000001"
    status = auth.login()
    assert status.username == "other.staff@example.org"
    assert "lab.staff@example.org" not in auth.cache_path.read_text()


def test_existing_cache_file_is_tightened_to_0600(make_settings: MakeSettings) -> None:
    settings = make_settings()
    cache = settings.state_dir / "msal_token_cache.bin"
    cache.parent.mkdir(parents=True)
    cache.write_text("")
    cache.chmod(0o644)
    MicrosoftAuth.from_settings(settings)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_stale_lock_file_from_a_killed_run_does_not_block(
    fake: MicrosoftSandbox, make_settings: MakeSettings
) -> None:
    settings = make_settings()
    lockfile = Path(str(settings.state_dir / "msal_token_cache.bin") + ".lockfile")
    lockfile.parent.mkdir(parents=True)
    lockfile.write_text("12345 recruit")  # left behind by kill -9: nobody holds its OS lock

    status = MicrosoftAuth.from_settings(settings).login()

    assert status.signed_in
    assert not lockfile.exists()


def test_browser_login_with_localhost_redirect(
    fake: MicrosoftSandbox, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    # No real browser: make webbrowser fail so msal hands the URL to our callback, which
    # plays the browser (follows the fake's redirect back to msal's localhost listener).
    monkeypatch.setenv("BROWSER", "false")
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    settings = make_settings()

    def browse(url: str) -> None:
        def run() -> None:  # what a browser does: load the page, submit its form
            page = requests.get(url, verify=str(fake.ca_bundle), timeout=10).text
            action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))  # type: ignore[union-attr]
            fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
            requests.post(action, data=fields, timeout=10)

        threading.Thread(target=run, daemon=True).start()

    status = MicrosoftAuth.from_settings(settings).login(
        browser=True, open_browser=browse, timeout=20
    )

    assert status.signed_in and status.username == fake.username
    assert fake.calls["grant:authorization_code"] == 1


def test_scopes_follow_the_configured_cloud() -> None:
    us = GraphSettings(mode="shared", endpoint="https://graph.microsoft.us/v1.0")
    assert scopes_for(us) == [
        "https://graph.microsoft.us/Mail.Send.Shared",
        "https://graph.microsoft.us/Mail.Read",
        "https://graph.microsoft.us/Mail.Read.Shared",
    ]
    app = GraphSettings(mode="app", endpoint="https://microsoftgraph.chinacloudapi.cn/v1.0")
    assert scopes_for(app) == ["https://microsoftgraph.chinacloudapi.cn/.default"]


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"client_id": ""}, "email.graph.client_id"),
        ({"mode": "shared", "mailbox": ""}, "email.graph.mailbox"),
        (
            {"mode": "app", "mailbox": "lab@example.org", "client_secret": Secret("")},
            "email.graph.client_secret_env",
        ),
        ({"mode": "robot"}, "email.graph.mode"),
        ({"mode": "app", "tenant_id": "organizations"}, "email.graph.tenant_id"),
    ],
)
def test_unusable_settings_name_the_key(
    make_settings: MakeSettings, changes: dict[str, object], key: str
) -> None:
    settings = make_settings(**changes)
    with pytest.raises(ConfigError) as err:
        MicrosoftAuth.from_settings(settings)
    assert err.value.key == key
