"""HTTP routes of the fake identity platform + Graph server (state lives in ``fake_graph``)."""

from __future__ import annotations

import html
import json
import re
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

if TYPE_CHECKING:
    from recruit_cli.testing.fake_graph import FakeGraph, _Token

RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
SEND_RE = re.compile(r"^/v1\.0/(me|users/([^/]+))/sendMail$")
SENT_RE = re.compile(r"^/v1\.0/(me|users/([^/]+))/mailFolders/SentItems/messages$")
FILTER_RE = re.compile(
    r"^singleValueExtendedProperties/Any\(ep: ep/id eq '((?:[^']|'')*)' "
    r"and ep/value eq '((?:[^']|'')*)'\)$"
)


def _scope_names(scopes: frozenset[str]) -> set[str]:
    """``https://host/Mail.Send`` -> ``Mail.Send`` (the fake accepts any resource prefix)."""
    return {s.rsplit("/", 1)[-1] for s in scopes}


class FakeGraphHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Graph does
    server_version = "FakeGraph/1"
    disable_nagle_algorithm = True  # headers and body go in two writes: don't wait for ACKs

    @property
    def fake(self) -> FakeGraph:
        fake: FakeGraph = self.server.fake  # type: ignore[attr-defined]
        return fake

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # ---- plumbing -----------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self._body().decode("utf-8")).items()}

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8") if payload is not None else b""
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _oauth_error(self, status: int, error: str, code: int, text: str) -> None:
        self._send_json(
            status,
            {
                "error": error,
                "error_description": f"AADSTS{code}: {text}",
                "error_codes": [code],
            },
        )

    def _graph_error(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._send_json(status, {"error": {"code": code, "message": message}}, headers)

    # ---- dispatch -----------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if url.path.endswith("/v2.0/.well-known/openid-configuration"):
            self._openid_configuration(parts[0])
        elif url.path == "/common/discovery/instance":
            self._instance_discovery()
        elif url.path.endswith("/oauth2/v2.0/authorize"):
            self._authorize(query)
        elif match := SENT_RE.match(url.path):
            self._sent_items(match.group(2), query)
        else:
            self._graph_error(404, "ResourceNotFound", "Resource not found for the segment.")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path.endswith("/oauth2/v2.0/devicecode"):
            self._device_code()
        elif path.endswith("/oauth2/v2.0/token"):
            self._token()
        elif match := SEND_RE.match(path):
            self._send_mail(match.group(2))
        else:
            self._body()
            self._graph_error(404, "ResourceNotFound", "Resource not found for the segment.")

    # ---- identity -----------------------------------------------------------------------
    def _openid_configuration(self, tenant: str) -> None:
        base = f"{self.fake.authority_host}/{tenant}"
        self._send_json(
            200,
            {
                "issuer": f"{self.fake.authority_host}/{self.fake.tenant_id}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            },
        )

    def _instance_discovery(self) -> None:
        host = self.fake.authority_host.removeprefix("https://")
        self._send_json(
            200,
            {
                "tenant_discovery_endpoint": (
                    f"{self.fake.authority_host}/{self.fake.tenant_id}"
                    "/v2.0/.well-known/openid-configuration"
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
        code = self.fake.new_auth_code(scopes, query.get("nonce"))
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
        if form.get("client_id") != self.fake.client_id:
            self._oauth_error(
                400, "unauthorized_client", 700016, "Application not found in the directory."
            )
            return
        scopes = frozenset(form.get("scope", "").split()) - RESERVED_SCOPES
        self._send_json(200, self.fake.new_device_code(scopes))

    def _token(self) -> None:
        form = self._form()
        fake = self.fake
        if form.get("client_id") != fake.client_id:
            self._oauth_error(
                400, "unauthorized_client", 700016, "Application not found in the directory."
            )
            return
        grant = form.get("grant_type", "")
        fake.count(f"grant:{grant.rsplit(':', 1)[-1]}")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            outcome = fake.poll_device_code(form.get("device_code", ""))
            if isinstance(outcome, str):
                self._oauth_error(400, outcome, 70016, "The user has not yet authenticated.")
            else:
                self._send_json(200, fake.user_tokens(outcome))
        elif grant == "authorization_code":
            granted = fake.redeem_auth_code(form.get("code", ""))
            if granted is None:
                self._oauth_error(400, "invalid_grant", 70000, "The provided code is invalid.")
            else:
                self._send_json(200, fake.user_tokens(*granted))
        elif grant == "refresh_token":
            scopes = fake.redeem_refresh_token(form.get("refresh_token", ""))
            if scopes is None:
                self._oauth_error(
                    400,
                    "invalid_grant",
                    700082,
                    "The refresh token has expired due to inactivity.",
                )
            else:
                asked = frozenset(form.get("scope", "").split()) - RESERVED_SCOPES
                self._send_json(200, fake.user_tokens(asked or scopes))
        elif grant == "client_credentials":
            if form.get("client_secret") != fake.client_secret:
                self._oauth_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
            else:
                self._send_json(200, fake.app_token(frozenset(form.get("scope", "").split())))
        else:
            self._oauth_error(400, "unsupported_grant_type", 70003, "Unsupported grant type.")

    # ---- Graph --------------------------------------------------------------------------
    def _authorised(self) -> _Token | None:
        token = self.fake.check_token(self.headers.get("Authorization", ""))
        if token is None:
            self._graph_error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        return token

    def _mailbox(self, token: _Token, user: str | None, need: str) -> str | None:
        """The mailbox a request addresses, or None after answering with the error."""
        if user is None:
            if token.kind != "user":
                self._graph_error(
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
                return None
            if need not in _scope_names(token.scopes):
                self._graph_error(403, "ErrorAccessDenied", "Access is denied.")
                return None
            return token.subject
        mailbox = user.lower()
        if mailbox in {m.lower() for m in self.fake.missing_mailboxes}:
            self._graph_error(404, "ResourceNotFound", "Resource could not be discovered.")
            return None
        if mailbox in {m.lower() for m in self.fake.disabled_mailboxes}:
            self._graph_error(
                404,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
            return None
        own = token.kind == "user" and mailbox == token.subject.lower()
        if token.kind == "user" and not own and f"{need}.Shared" not in _scope_names(token.scopes):
            self._graph_error(403, "ErrorAccessDenied", "Access is denied.")
            return None
        if not own and mailbox in {m.lower() for m in self.fake.denied_mailboxes}:
            if token.kind == "user":
                self._graph_error(
                    403,
                    "ErrorSendAsDenied",
                    "The user account which was used to submit this request does not have the"
                    " right to send mail on behalf of the specified sending account.",
                )
            else:
                self._graph_error(403, "ErrorAccessDenied", "Access is denied.")
            return None
        return user

    def _fault(self, target: str) -> str | None:
        kind, retry_after = self.fake.next_fault(target)
        if kind == "429":
            self._graph_error(
                429,
                "TooManyRequests",
                "Application is over its MailboxConcurrency limit.",
                {"Retry-After": str(retry_after)},
            )
        elif kind == "503":
            self._graph_error(
                503,
                "ServiceUnavailable",
                "Service Unavailable",
                {"Retry-After": str(retry_after)},
            )
        return kind

    def _send_mail(self, user: str | None) -> None:
        raw = self._body()
        token = self._authorised()
        if token is None:
            return
        mailbox = self._mailbox(token, user, "Mail.Send")
        if mailbox is None:
            return
        try:
            message = json.loads(raw)["message"]
            recipients = [r["emailAddress"]["address"] for r in message["toRecipients"]]
        except (ValueError, KeyError, TypeError):
            self._graph_error(400, "ErrorInvalidRequest", "The request body is not valid.")
            return
        headers = message.get("internetMessageHeaders", [])
        if len(headers) > 5 or any(not h["name"].lower().startswith("x-") for h in headers):
            self._graph_error(
                400,
                "InvalidInternetMessageHeader",
                "The internet message header name should start with 'x-' or 'X-'.",
            )
            return
        for address in recipients:
            local, at, domain = address.rpartition("@")
            if not local or not at or domain.lower() == self.fake.invalid_domain:
                self._graph_error(
                    400,
                    "ErrorInvalidRecipients",
                    f"At least one recipient isn't valid., Recipient '{address}' isn't resolved.",
                )
                return
        fault = self._fault("send")
        if fault in ("429", "503"):
            return
        sender_user = token.subject if token.kind == "user" else None
        if json.loads(raw).get("saveToSentItems", True) is not False:
            self.fake.record(mailbox, sender_user, message)
        if fault == "drop":
            # The message went out; the answer never arrives. Close without a response.
            self.close_connection = True
            return
        self._send_json(202, None)

    def _sent_items(self, user: str | None, query: dict[str, str]) -> None:
        token = self._authorised()
        if token is None:
            return
        mailbox = self._mailbox(token, user, "Mail.Read")
        if mailbox is None:
            return
        match = FILTER_RE.match(query.get("$filter", ""))
        if match is None:
            self._graph_error(400, "BadRequest", "Invalid filter clause.")
            return
        if self._fault("sent_items") in ("429", "503"):
            return
        prop_id, value = (g.replace("''", "'") for g in match.groups())
        ids = self.fake.find_sent(mailbox, prop_id, value)
        self._send_json(200, {"value": [{"id": i} for i in ids]})
