"""Microsoft sign-in for the Graph transport: MSAL applications, the token cache, the flows.

Delegated and shared-mailbox modes use a ``PublicClientApplication`` (device code on a
headless server, or ``--browser`` for the auth-code flow with a localhost redirect); app-only
mode uses a ``ConfidentialClientApplication`` with client credentials. Every command shares one
token cache file: msal-extensions' ``PersistedTokenCache`` (cross-process locking through
portalocker, whose OS lock dies with a killed process), created with mode 0600.

Tokens and the client secret are never logged or put in a message; AAD error descriptions are
not shown either (they can name the user): the error code and AADSTS number are.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from recruit_cli.errors import AuthError, ConfigError, MailUnavailable
from recruit_cli.logs import get_logger
from recruit_cli.private import open_private, private_dir
from recruit_cli.redact import safe_url, server_text

if TYPE_CHECKING:
    import requests

    from recruit_cli.settings import GraphSettings, Settings

log = get_logger("msgraph.auth")

SIGN_IN_NEEDED = "Microsoft sign-in needed: run `recruit auth login`"
CACHE_FILE_NAME = "msal_token_cache.bin"
MODES = ("delegated", "shared", "app")
# Delegated permissions per mode. Mail.Read(.Shared) lets the next pass look for an uncertain
# message in Sent Items (the exactly-once reconciliation); without it was_sent() says "can't
# tell" and such records go to review instead.
DELEGATED_SCOPES = {
    "delegated": ("Mail.Send", "Mail.Read"),
    "shared": ("Mail.Send.Shared", "Mail.Read", "Mail.Read.Shared"),
}
# AADSTS codes that mean "the refresh token is no good: a person must sign in again".
_SIGN_IN_CODES = frozenset({50058, 50076, 50078, 50079, 50173, 65001, 70043, 700082, 700084})
_SIGN_IN_ERRORS = frozenset(
    {"invalid_grant", "interaction_required", "login_required", "consent_required"}
)


@dataclass(frozen=True)
class SignInStatus:
    """Who is signed in (the staff username is fine to show), where the cache is, expiry."""

    mode: str
    signed_in: bool
    username: str | None
    cache_path: Path
    authority: str
    expires_at: datetime | None = None  # of the cached access token, if any

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "signed_in": self.signed_in,
            "username": self.username,
            "cache_path": str(self.cache_path),
            "authority": self.authority,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


def graph_resource(endpoint: str) -> str:
    """``https://graph.microsoft.us/v1.0`` -> ``https://graph.microsoft.us`` (scope prefix)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def scopes_for(graph: GraphSettings) -> list[str]:
    """The scopes to ask for, qualified with the configured cloud's Graph resource."""
    resource = graph_resource(graph.endpoint)
    if graph.mode == "app":
        return [f"{resource}/.default"]
    return [f"{resource}/{name}" for name in DELEGATED_SCOPES[graph.mode]]


def token_cache_path(settings: Settings) -> Path:
    return settings.email.graph.token_cache or settings.state_dir / CACHE_FILE_NAME


def open_token_cache(path: Path) -> Any:
    """The shared ``PersistedTokenCache`` at ``path``; the file exists with mode 0600 after."""
    from msal_extensions import FilePersistence, PersistedTokenCache

    # Create it ourselves so that it is never, even briefly, readable by others (umask
    # cannot widen 0600), never through a symbolic link, in a directory made 0700; and
    # tighten a file an older version or a person left wider. (msal-extensions' own lock
    # file beside it lives only while the cache is written and holds a process id.)
    try:
        private_dir(path.parent)
        os.close(open_private(path))
    except OSError as exc:
        raise ConfigError(f"cannot open the token cache: {exc.strerror}", path=path) from exc
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return PersistedTokenCache(FilePersistence(str(path)))


def make_http_session(graph: GraphSettings) -> requests.Session:
    """A session for MSAL and Graph: the configured CA bundle and a default timeout."""
    import requests

    timeout = graph.timeout

    class _Session(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs.setdefault("timeout", timeout)
            # requests lets $REQUESTS_CA_BUNDLE override session.verify; the configured
            # ca_bundle must win (a per-request verify does).
            kwargs.setdefault("verify", self.verify)
            return super().request(*args, **kwargs)

    session = _Session()
    if graph.ca_bundle is not None:
        session.verify = str(graph.ca_bundle)
    return session


def check_graph_settings(graph: GraphSettings, *, path: Path | None = None) -> None:
    """Raise ConfigError naming the key when the Graph settings can't work."""
    if graph.mode not in MODES:
        raise ConfigError(f"must be one of {', '.join(MODES)}", path=path, key="email.graph.mode")
    if not graph.client_id:
        raise ConfigError(
            "is required (the app registration's Application (client) ID)",
            path=path,
            key="email.graph.client_id",
        )
    if graph.mode in ("shared", "app") and not graph.mailbox:
        raise ConfigError(
            f"is required in {graph.mode} mode (the mailbox to send as)",
            path=path,
            key="email.graph.mailbox",
        )
    if graph.mode == "app" and graph.tenant_id.lower() in ("organizations", "common", "consumers"):
        raise ConfigError(
            "app mode needs the tenant's ID or domain (client credentials have no user to pick"
            f" a tenant), not {graph.tenant_id!r}",
            path=path,
            key="email.graph.tenant_id",
        )
    if graph.mode == "app" and not graph.client_secret:
        raise ConfigError(
            f"app mode needs the client secret in ${graph.client_secret_env}",
            path=path,
            key="email.graph.client_secret_env",
        )


def _raise_for(result: dict[str, Any], graph: GraphSettings) -> NoReturn:
    """Turn an MSAL error result into our error; never shows error_description (may name
    the user) nor anything secret."""
    error = server_text(str(result.get("error") or "unknown_error"))
    codes = {int(c) for c in result.get("error_codes") or () if str(c).isdigit()}
    what = error + "".join(f" AADSTS{c}" for c in sorted(codes))
    if error == "invalid_client":
        raise AuthError(
            f"Microsoft refused the app's credentials ({what}): check [email.graph] client_id"
            f" and the client secret in ${graph.client_secret_env}"
        )
    if error in _SIGN_IN_ERRORS or codes & _SIGN_IN_CODES:
        raise AuthError(f"{SIGN_IN_NEEDED} ({what})")
    if error in ("temporarily_unavailable", "server_error"):
        raise MailUnavailable(f"Microsoft sign-in is unavailable ({what}); try again later")
    raise AuthError(f"Microsoft sign-in failed ({what})")


class MicrosoftAuth:
    """Gets Graph access tokens for the configured mode, from the shared cache when it can.

    Args:
        graph: the ``[email.graph]`` settings.
        cache_path: the token cache file (see ``token_cache_path``).
        session: the HTTP session MSAL uses (tests: one trusting the fake's CA).
        config_path: the config file, for error messages.
    """

    def __init__(
        self,
        graph: GraphSettings,
        cache_path: Path,
        *,
        session: requests.Session | None = None,
        config_path: Path | None = None,
    ) -> None:
        check_graph_settings(graph, path=config_path)
        self.graph = graph
        self.cache_path = cache_path
        self.scopes = scopes_for(graph)
        self.authority = f"{graph.authority_host.rstrip('/')}/{graph.tenant_id}"
        self.session = session if session is not None else make_http_session(graph)
        self._cache = open_token_cache(cache_path)
        self._msal_app: Any = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, session: requests.Session | None = None
    ) -> MicrosoftAuth:
        return cls(
            settings.email.graph,
            token_cache_path(settings),
            session=session,
            config_path=settings.path,
        )

    @property
    def mode(self) -> str:
        return self.graph.mode

    def _app(self) -> Any:
        """The MSAL application, built on first use (building it fetches the OIDC metadata)."""
        if self._msal_app is not None:
            return self._msal_app
        import msal
        import requests

        common: dict[str, Any] = {
            "authority": self.authority,
            "token_cache": self._cache,
            "http_client": self.session,
            # Our authority is known to us (a national cloud, or the fake in tests): don't
            # ask login.microsoftonline.com to validate it.
            "instance_discovery": False,
        }
        try:
            if self.mode == "app":
                self._msal_app = msal.ConfidentialClientApplication(
                    self.graph.client_id,
                    client_credential=self.graph.client_secret.reveal(),
                    **common,
                )
            else:
                self._msal_app = msal.PublicClientApplication(self.graph.client_id, **common)
        except requests.RequestException as exc:
            raise MailUnavailable(
                f"Microsoft sign-in at {safe_url(self.graph.authority_host)} could not be reached"
                f" ({type(exc).__name__})"
            ) from exc
        except ValueError as exc:
            raise ConfigError(
                f"no Microsoft authority at {safe_url(self.authority)}: check authority_host"
                " and tenant_id",
                key="email.graph",
            ) from exc
        return self._msal_app

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import requests

        try:
            return fn(*args, **kwargs)
        except requests.RequestException as exc:
            raise MailUnavailable(
                f"Microsoft sign-in at {safe_url(self.graph.authority_host)} could not be reached"
                f" ({type(exc).__name__})"
            ) from exc

    # ---- tokens -------------------------------------------------------------------------
    def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token, silently (cache, else refresh token / client credentials).

        ``force_refresh`` skips the cached access token (Graph refused it).

        Raises:
            AuthError: sign-in is needed (no account, or the refresh token is expired or
                revoked), or Microsoft refused the app's credentials.
            MailUnavailable: the identity platform can't be reached.
        """
        app = self._app()
        if self.mode == "app":
            if force_refresh:  # client credentials have no refresh token: drop the cached one
                self._forget_app_tokens()
            result = self._call(app.acquire_token_for_client, self.scopes)
        else:
            accounts = self._call(app.get_accounts)
            if not accounts:
                raise AuthError(SIGN_IN_NEEDED)
            result = self._call(
                app.acquire_token_silent_with_error,
                self.scopes,
                account=accounts[0],
                force_refresh=force_refresh,
            )
            if result is None:
                raise AuthError(SIGN_IN_NEEDED)
        if "access_token" not in result:
            _raise_for(result, self.graph)
        token: str = result["access_token"]
        return token

    def _forget_app_tokens(self) -> None:
        """Remove this app's cached client-credentials access tokens (not users' tokens)."""
        from msal import TokenCache

        tokens = self._entries(
            TokenCache.CredentialType.ACCESS_TOKEN, client_id=self.graph.client_id
        )
        for token in tokens:
            if not token.get("home_account_id"):
                self._cache.remove_at(token)

    def login(
        self,
        *,
        browser: bool = False,
        notify: Callable[[str], None] = lambda _: None,
        open_browser: Callable[[str], None] | None = None,
        timeout: int | None = None,
    ) -> SignInStatus:
        """Sign in and store the tokens in the cache (app mode: check the client credentials).

        Args:
            browser: use the auth-code flow with a localhost redirect instead of a device code.
            notify: shows the device-code instructions to the person (the CLI: stderr).
            open_browser: called with the sign-in URL instead of opening a browser (tests, or
                a server where the person opens the URL elsewhere).
            timeout: seconds to wait for the browser flow.
        """
        app = self._app()
        if self.mode == "app":
            self.access_token()
            return self.status()
        if browser:
            from msal.oauth2cli.oauth2 import BrowserInteractionTimeoutError

            try:
                result = self._call(
                    app.acquire_token_interactive,
                    self.scopes,
                    prompt="select_account",
                    timeout=timeout,
                    auth_uri_callback=open_browser,
                )
            except BrowserInteractionTimeoutError as exc:
                raise AuthError(
                    "Microsoft sign-in was not completed in the browser in time"
                ) from exc
        else:
            flow = self._call(app.initiate_device_flow, scopes=self.scopes)
            if "user_code" not in flow:
                _raise_for(flow, self.graph)
            notify(str(flow["message"]))
            result = self._call(app.acquire_token_by_device_flow, flow)
        if "access_token" not in result:
            _raise_for(result, self.graph)
        # One signed-in person per cache: a new login replaces whoever was there.
        home = (result.get("id_token_claims") or {}).get("oid")
        for account in self._call(app.get_accounts):
            if home is None or not str(account.get("home_account_id", "")).startswith(home):
                app.remove_account(account)
        log.info("signed in to Microsoft (%s mode)", self.mode)
        return self.status()

    # ---- the cache, without network ---------------------------------------------------------
    def _entries(self, kind: str, **query: Any) -> list[dict[str, Any]]:
        return list(self._cache.search(kind, query=query or None))

    def status(self) -> SignInStatus:
        """What the cache holds. Reads the cache only: no network call."""
        from msal import TokenCache

        types = TokenCache.CredentialType
        environment = urlsplit(self.graph.authority_host).hostname or ""
        username: str | None = None
        signed_in = False
        tokens = self._entries(types.ACCESS_TOKEN, client_id=self.graph.client_id)
        if self.mode == "app":
            signed_in = bool(self.graph.client_secret)
            tokens = [t for t in tokens if not t.get("home_account_id")]
        else:
            accounts = self._entries(types.ACCOUNT, environment=environment)
            if accounts:
                account = accounts[0]
                username = account.get("username")
                home = account.get("home_account_id")
                refresh = self._entries(
                    types.REFRESH_TOKEN, home_account_id=home, environment=environment
                )
                signed_in = bool(refresh)
                tokens = [t for t in tokens if t.get("home_account_id") == home]
            else:
                tokens = []
        expiry = max((int(t["expires_on"]) for t in tokens), default=None)
        return SignInStatus(
            mode=self.mode,
            signed_in=signed_in,
            username=username,
            cache_path=self.cache_path,
            authority=safe_url(self.authority),
            expires_at=datetime.fromtimestamp(expiry, UTC) if expiry else None,
        )

    def logout(self) -> int:
        """Forget every account (and this app's tokens) in the cache. Returns accounts removed.

        Works offline: it edits the cache, it does not revoke anything at Microsoft.
        """
        from msal import TokenCache

        types = TokenCache.CredentialType
        accounts = self._entries(types.ACCOUNT)
        for rt in self._entries(types.REFRESH_TOKEN):
            self._cache.remove_rt(rt)
        for at in self._entries(types.ACCESS_TOKEN, client_id=self.graph.client_id):
            self._cache.remove_at(at)
        for idt in self._entries(types.ID_TOKEN):
            self._cache.remove_idt(idt)
        for account in accounts:
            self._cache.remove_account(account)
        log.info("signed out of Microsoft: %d account(s) removed", len(accounts))
        return len(accounts)
