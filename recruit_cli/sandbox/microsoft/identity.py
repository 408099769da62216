"""The identity platform's half of the stand-in: the app registration, codes and tokens.

Endpoints (``{authority_host}/{tenant}/...``): ``v2.0/.well-known/openid-configuration``,
``oauth2/v2.0/devicecode``, ``oauth2/v2.0/authorize`` (approves at once and hands the code
back), ``oauth2/v2.0/token`` (grants: device_code, authorization_code, refresh_token,
client_credentials) and ``/common/discovery/instance``. MSAL talks to them exactly as it
talks to login.microsoftonline.com.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from recruit_cli.sandbox.microsoft.handler import BaseHandler

# Scopes MSAL adds to every request; they are not resource permissions.
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})


@dataclass
class Token:
    """An access token the stand-in issued."""

    kind: str  # "user" | "app"
    subject: str  # the user's UPN, or the client id for an app
    scopes: frozenset[str]
    expires: float


class IdentityPlatform:
    """State of the identity platform (a part of ``MicrosoftSandbox``).

    Knobs (change them at any time): ``auto_approve`` (device codes are approved without a
    user; else call ``approve_device_codes()``), ``device_pending_polls`` (how many
    ``authorization_pending`` answers before success), ``device_interval``,
    ``token_lifetime`` (seconds; MSAL treats < 300 s as expired, so 60 makes every silent
    call refresh), ``refresh_token_invalid`` (every refresh answers ``invalid_grant``
    AADSTS700082); ``revoke_access_tokens()`` makes Graph answer 401.
    """

    # Set by MicrosoftSandbox before this part's __init__ runs.
    lock: threading.Lock
    calls: Counter[str]
    authority_host: str

    def __init__(self) -> None:
        self.client_id = str(uuid.uuid4())
        self.tenant_id = str(uuid.uuid4())
        self.client_secret = "sandbox-secret-" + secrets.token_hex(8)
        self.username = "lab.staff@example.org"
        self.user_oid = str(uuid.uuid4())
        self.auto_approve = True
        self.device_pending_polls = 1
        self.device_interval = 0
        self.token_lifetime = 3600
        self.refresh_token_invalid = False
        self._tokens: dict[str, Token] = {}
        self._refresh_tokens: dict[str, frozenset[str]] = {}
        self._device_codes: dict[str, dict[str, Any]] = {}
        self._auth_codes: dict[str, tuple[frozenset[str], str | None]] = {}

    def approve_device_codes(self) -> None:
        """Approve every pending device code, as if the user had entered it in a browser."""
        with self.lock:
            for flow in self._device_codes.values():
                flow["pending"] = 0

    def new_device_code(self, scopes: frozenset[str]) -> dict[str, Any]:
        code = secrets.token_urlsafe(24)
        user_code = secrets.token_hex(4).upper()
        with self.lock:
            self._device_codes[code] = {
                "scopes": scopes,
                "pending": self.device_pending_polls if self.auto_approve else 10**9,
            }
        return {
            "device_code": code,
            "user_code": user_code,
            "verification_uri": f"{self.authority_host}/devicelogin",
            "expires_in": 900,
            "interval": self.device_interval,
            "message": (
                f"To sign in, use a web browser to open the page {self.authority_host}/devicelogin"
                f" and enter the code {user_code} to authenticate."
            ),
        }

    def poll_device_code(self, code: str) -> frozenset[str] | str:
        """Scopes when approved, else an OAuth error code."""
        with self.lock:
            flow = self._device_codes.get(code)
            if flow is None:
                return "expired_token"
            if flow["pending"] > 0:
                flow["pending"] -= 1
                return "authorization_pending"
            del self._device_codes[code]
            scopes: frozenset[str] = flow["scopes"]
            return scopes

    def new_auth_code(self, scopes: frozenset[str], nonce: str | None) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self._auth_codes[code] = (scopes, nonce)
        return code

    def redeem_auth_code(self, code: str) -> tuple[frozenset[str], str | None] | None:
        with self.lock:
            return self._auth_codes.pop(code, None)

    def redeem_refresh_token(self, token: str) -> frozenset[str] | None:
        with self.lock:
            if self.refresh_token_invalid:
                return None
            return self._refresh_tokens.pop(token, None)  # rotated: each one works once

    def user_tokens(self, scopes: frozenset[str], nonce: str | None = None) -> dict[str, Any]:
        """A delegated token response: access, refresh and ID token, client_info."""
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.lock:
            self._tokens[access] = Token(
                "user", self.username, scopes, time.time() + self.token_lifetime
            )
            self._refresh_tokens[refresh] = scopes
            self.calls["token:user"] += 1
        now = int(time.time())
        claims = {
            "aud": self.client_id,
            "iss": f"{self.authority_host}/{self.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": "Lab Staff",
            "oid": self.user_oid,
            "preferred_username": self.username,
            "sub": self.user_oid,
            "tid": self.tenant_id,
            "ver": "2.0",
            **({"nonce": nonce} if nonce else {}),
        }
        client_info = {"uid": self.user_oid, "utid": self.tenant_id}
        return {
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes)),
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": f"{_JWT_HEADER}.{_b64_json(claims)}.",  # unsigned: MSAL doesn't verify
            "client_info": _b64_json(client_info),
        }

    def app_token(self, scopes: frozenset[str]) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        with self.lock:
            self._tokens[access] = Token(
                "app", self.client_id, scopes, time.time() + self.token_lifetime
            )
            self.calls["token:app"] += 1
        return {"token_type": "Bearer", "expires_in": self.token_lifetime, "access_token": access}

    def check_token(self, header: str) -> Token | None:
        """The token an ``Authorization`` header carries, if it is known and not expired."""
        scheme, _, value = header.partition(" ")
        with self.lock:
            token = self._tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or token.expires < time.time():
            return None
        return token

    def revoke_access_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_json(data: dict[str, Any]) -> str:
    return _b64(json.dumps(data).encode("utf-8"))


_JWT_HEADER = _b64_json({"alg": "none", "typ": "JWT"})


class IdentityRoutes(BaseHandler):
    """The identity platform's endpoints (dispatched by ``server.Handler``)."""

    def _openid_configuration(self, tenant: str) -> None:
        host = self.state.authority_host
        base = f"{host}/{tenant}"
        self._send_json(
            200,
            {
                "issuer": f"{host}/{self.state.tenant_id}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            },
        )

    def _instance_discovery(self) -> None:
        authority = self.state.authority_host
        host = authority.removeprefix("https://")
        self._send_json(
            200,
            {
                "tenant_discovery_endpoint": (
                    f"{authority}/{self.state.tenant_id}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                ],
            },
        )

    def _authorize(self, query: dict[str, str]) -> None:
        """The browser step of the auth-code flow: approve at once and hand the code back.

        MSAL asks for ``response_mode=form_post``: the page is the self-submitting form a
        browser would post to the localhost redirect (a test "browser" posts its fields).
        """
        scopes = frozenset(query.get("scope", "").split()) - RESERVED_SCOPES
        code = self.state.new_auth_code(scopes, query.get("nonce"))
        params = {"code": code, "state": query.get("state", "")}
        redirect = query.get("redirect_uri", "")
        if query.get("response_mode") == "form_post":
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                for k, v in params.items()
            )
            page = (
                f'<html><body onload="document.forms[0].submit()"><form method="post" '
                f'action="{html.escape(redirect)}">{fields}</form></body></html>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        self.send_response(302)
        self.send_header("Location", f"{redirect}?{urlencode(params)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _device_code(self) -> None:
        form = self._form()
        if form.get("client_id") != self.state.client_id:
            self._oauth_error(
                400, "unauthorized_client", 700016, "Application not found in the directory."
            )
            return
        scopes = frozenset(form.get("scope", "").split()) - RESERVED_SCOPES
        self._send_json(200, self.state.new_device_code(scopes))

    def _token(self) -> None:
        form = self._form()
        state = self.state
        if form.get("client_id") != state.client_id:
            self._oauth_error(
                400, "unauthorized_client", 700016, "Application not found in the directory."
            )
            return
        grant = form.get("grant_type", "")
        state.count(f"grant:{grant.rsplit(':', 1)[-1]}")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            outcome = state.poll_device_code(form.get("device_code", ""))
            if isinstance(outcome, str):
                self._oauth_error(400, outcome, 70016, "The user has not yet authenticated.")
            else:
                self._send_json(200, state.user_tokens(outcome))
        elif grant == "authorization_code":
            granted = state.redeem_auth_code(form.get("code", ""))
            if granted is None:
                self._oauth_error(400, "invalid_grant", 70000, "The provided code is invalid.")
            else:
                self._send_json(200, state.user_tokens(*granted))
        elif grant == "refresh_token":
            scopes = state.redeem_refresh_token(form.get("refresh_token", ""))
            if scopes is None:
                self._oauth_error(
                    400,
                    "invalid_grant",
                    700082,
                    "The refresh token has expired due to inactivity.",
                )
            else:
                asked = frozenset(form.get("scope", "").split()) - RESERVED_SCOPES
                self._send_json(200, state.user_tokens(asked or scopes))
        elif grant == "client_credentials":
            if form.get("client_secret") != state.client_secret:
                self._oauth_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
            else:
                self._send_json(200, state.app_token(frozenset(form.get("scope", "").split())))
        else:
            self._oauth_error(400, "unsupported_grant_type", 70003, "Unsupported grant type.")
