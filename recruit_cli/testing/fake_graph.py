"""A fake Microsoft identity platform + Microsoft Graph mail server, for tests and benchmarks.

It serves https on 127.0.0.1 (a throwaway trustme CA; MSAL refuses plain http authorities), so
the real ``msal`` library talks to it exactly as it talks to login.microsoftonline.com::

    with run_fake_graph() as fg:
        # settings: authority_host=fg.authority_host, endpoint=fg.endpoint,
        #           ca_bundle=fg.ca_bundle, client_id=fg.client_id, tenant_id=fg.tenant_id
        ...
        fg.sent          # every accepted sendMail, as dicts (see ``FakeGraph.record``)

Identity endpoints (``{host}/{tenant}/...``): ``v2.0/.well-known/openid-configuration``,
``oauth2/v2.0/devicecode``, ``oauth2/v2.0/authorize`` (redirects straight back with a code),
``oauth2/v2.0/token`` (grants: device_code, authorization_code, refresh_token,
client_credentials) and ``/common/discovery/instance``.

Graph endpoints (``{host}/v1.0/...``): ``POST me/sendMail``, ``POST users/{id}/sendMail``,
``GET me|users/{id}/mailFolders/SentItems/messages?$filter=singleValueExtendedProperties/Any(
ep: ep/id eq '<id>' and ep/value eq '<key>')``. The bearer token is checked on every call.

Knobs (attributes, change them at any time): ``auto_approve`` (device codes are approved
without a user; else call ``approve_device_codes()``), ``device_pending_polls`` (how many
``authorization_pending`` answers before success), ``device_interval``, ``token_lifetime``
(seconds; MSAL treats < 300 s as expired, so 60 makes every silent call refresh),
``refresh_token_invalid`` (every refresh answers ``invalid_grant`` AADSTS700082),
``disabled_mailboxes`` (404 MailboxNotEnabledForRESTAPI), ``missing_mailboxes`` (404
ResourceNotFound), ``denied_mailboxes`` (403 ErrorSendAsDenied for a delegated user,
ErrorAccessDenied for an app: an RBAC scope that leaves the mailbox out),
``invalid_domain`` (recipients there get 400 ErrorInvalidRecipients), ``copy_sent_as``
(a delegated send-as also lands in the shared mailbox's Sent Items, as with
``MessageCopyForSentAsEnabled``); ``revoke_access_tokens()`` makes Graph answer 401.

Faults (``faults=`` or ``set_faults(spec)``): a comma-separated list of items

- ``429@0.2`` / ``503@0.2`` / ``drop@0.2``: that fraction of requests, drawn from a seeded RNG;
- ``429#3`` / ``503#3`` / ``drop#3``: exactly the 3rd request (1-based; repeat the item for
  more, e.g. ``429#1,429#2``);
- ``drop`` answers nothing: the message is stored as sent (in ``.sent`` and Sent Items), then
  the connection is closed without a response, i.e. "202 then the connection dropped";
- an item prefixed ``sent_items:`` (e.g. ``sent_items:503@1``) applies to the Sent Items query
  instead of sendMail (``drop`` applies to sendMail only);
- ``retry_after=N``: the Retry-After seconds sent with 429/503 (default 1);
- ``seed=N``: the RNG seed (default 7).

Counting is per target (sendMail requests, Sent Items queries) and includes retries. The
server is thread-safe: one lock guards all state.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import ssl
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

FAULT_KINDS = ("429", "503", "drop")
TARGETS = ("send", "sent_items")


@dataclass(frozen=True)
class FaultSpec:
    """Parsed fault grammar (see the module docstring)."""

    fractions: dict[tuple[str, str], float] = field(default_factory=dict)  # (target, kind)
    nths: dict[tuple[str, int], str] = field(default_factory=dict)  # (target, n) -> kind
    retry_after: int = 1
    seed: int = 7

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        fractions: dict[tuple[str, str], float] = {}
        nths: dict[tuple[str, int], str] = {}
        retry_after, seed = 1, 7
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            if item.startswith("retry_after="):
                retry_after = int(item.partition("=")[2])
                continue
            if item.startswith("seed="):
                seed = int(item.partition("=")[2])
                continue
            target = "send"
            if item.startswith("sent_items:"):
                target, item = "sent_items", item.partition(":")[2]
            kind, sep, amount = item.partition("@") if "@" in item else item.partition("#")
            if kind not in FAULT_KINDS or not sep or not amount:
                raise ValueError(f"fake graph: bad fault item {raw.strip()!r}")
            if sep == "@":
                fractions[(target, kind)] = float(amount)
            else:
                nths[(target, int(amount))] = kind
        return cls(fractions, nths, retry_after, seed)


@dataclass
class _Token:
    kind: str  # "user" | "app"
    subject: str  # the user's UPN, or the client id for an app
    scopes: frozenset[str]
    expires: float


class FakeGraph:
    """State and knobs of one fake server. Created by ``run_fake_graph``."""

    def __init__(self, faults: str | None = None) -> None:
        self.lock = threading.Lock()
        self.authority_host = ""
        self.endpoint = ""
        self.ca_bundle = Path()
        self.client_id = str(uuid.uuid4())
        self.tenant_id = str(uuid.uuid4())
        self.client_secret = "fake-secret-" + secrets.token_hex(8)
        self.username = "lab.staff@example.org"
        self.user_oid = str(uuid.uuid4())
        # knobs
        self.auto_approve = True
        self.device_pending_polls = 1
        self.device_interval = 0
        self.token_lifetime = 3600
        self.refresh_token_invalid = False
        self.disabled_mailboxes: set[str] = set()
        self.missing_mailboxes: set[str] = set()
        self.denied_mailboxes: set[str] = set()
        self.invalid_domain = "invalid.example"
        self.copy_sent_as = False
        # state
        self.sent: list[dict[str, Any]] = []
        self.sent_items: dict[str, list[dict[str, Any]]] = {}
        # counts: "grant:<type>", "token:user|app", "request:send|sent_items", "sent"
        self.calls: Counter[str] = Counter()
        self._tokens: dict[str, _Token] = {}
        self._refresh_tokens: dict[str, frozenset[str]] = {}
        self._device_codes: dict[str, dict[str, Any]] = {}
        self._auth_codes: dict[str, tuple[frozenset[str], str | None]] = {}
        self._faults = FaultSpec()
        self._rng = random.Random(7)
        self._fault_counts: Counter[str] = Counter()
        self.set_faults(faults)

    # ---- faults -----------------------------------------------------------------------
    def set_faults(self, spec: str | None) -> None:
        """Replace the fault spec (grammar in the module docstring); resets the counters."""
        parsed = FaultSpec.parse(spec)
        with self.lock:
            self._faults = parsed
            self._rng = random.Random(parsed.seed)
            self._fault_counts.clear()

    def next_fault(self, target: str) -> tuple[str | None, int]:
        """Count one request to ``target``; return the fault to inject (or None), Retry-After."""
        with self.lock:
            self._fault_counts[target] += 1
            self.calls[f"request:{target}"] += 1
            n = self._fault_counts[target]
            kind = self._faults.nths.get((target, n))
            if kind is None:
                for k in FAULT_KINDS:
                    fraction = self._faults.fractions.get((target, k), 0.0)
                    if fraction and self._rng.random() < fraction:
                        kind = k
                        break
            if kind == "drop" and target != "send":
                kind = None
            return kind, self._faults.retry_after

    def count(self, name: str) -> None:
        """Count one event in ``calls`` (thread-safe)."""
        with self.lock:
            self.calls[name] += 1

    # ---- identity -----------------------------------------------------------------------
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
            self._tokens[access] = _Token(
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
            self._tokens[access] = _Token(
                "app", self.client_id, scopes, time.time() + self.token_lifetime
            )
            self.calls["token:app"] += 1
        return {"token_type": "Bearer", "expires_in": self.token_lifetime, "access_token": access}

    def check_token(self, header: str) -> _Token | None:
        scheme, _, value = header.partition(" ")
        with self.lock:
            token = self._tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or token.expires < time.time():
            return None
        return token

    def revoke_access_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    # ---- mail -------------------------------------------------------------------------
    def record(self, mailbox: str, sender_user: str | None, message: dict[str, Any]) -> None:
        """Store one accepted message in ``.sent`` and in the right Sent Items folders."""
        headers = {h["name"]: h["value"] for h in message.get("internetMessageHeaders", [])}
        props = {p["id"]: p["value"] for p in message.get("singleValueExtendedProperties", [])}
        key = next((v for k, v in props.items() if k.endswith("Name RecruitKey")), None)
        body = message.get("body", {})
        entry = {
            "id": secrets.token_hex(12),
            "mailbox": mailbox,
            "recipients": [r["emailAddress"]["address"] for r in message["toRecipients"]],
            "subject": message.get("subject", ""),
            "headers": headers,
            "key": key,
            "properties": props,
            "body": body.get("content", ""),
            "content_type": body.get("contentType", ""),
            "message_id": message.get("internetMessageId"),
            "attachments": [
                {
                    "name": a.get("name"),
                    "content_type": a.get("contentType"),
                    "data": base64.b64decode(a.get("contentBytes", "")),
                }
                for a in message.get("attachments", [])
            ],
        }
        folders = {(sender_user or mailbox).lower()}
        if sender_user and (self.copy_sent_as or sender_user.lower() == mailbox.lower()):
            folders.add(mailbox.lower())
        with self.lock:
            self.sent.append(entry)
            self.calls["sent"] += 1
            for folder in folders:
                self.sent_items.setdefault(folder, []).append(entry)

    def find_sent(self, mailbox: str, prop_id: str, value: str) -> list[str]:
        with self.lock:
            items = list(self.sent_items.get(mailbox.lower(), []))
        # As Graph documents it: the property's Name is matched case-sensitively (here the
        # whole id is), its string value case-insensitively.
        wanted = value.casefold()
        return [
            e["id"]
            for e in items
            if str(e["properties"].get(prop_id, "")).casefold() == wanted
            and prop_id in e["properties"]
        ]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_json(data: dict[str, Any]) -> str:
    return _b64(json.dumps(data).encode("utf-8"))


_JWT_HEADER = _b64_json({"alg": "none", "typ": "JWT"})


class _TLSServer(ThreadingHTTPServer):
    """Threaded https server: the TLS handshake happens in the request thread, not accept()."""

    daemon_threads = True
    allow_reuse_address = True
    fake: FakeGraph
    ssl_context: ssl.SSLContext

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        except (ssl.SSLError, ConnectionError):
            pass
        finally:
            tls.close()


@contextmanager
def run_fake_graph(faults: str | None = None) -> Iterator[FakeGraph]:
    """Run the fake identity + Graph server in a thread on a free loopback port (https)."""
    import trustme

    from recruit_cli.testing.fake_graph_handler import FakeGraphHandler

    fake = FakeGraph(faults)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    with tempfile.TemporaryDirectory(prefix="recruit-fake-graph-") as tmp:
        fake.ca_bundle = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(fake.ca_bundle))
        server = _TLSServer(("127.0.0.1", 0), FakeGraphHandler)
        server.fake = fake
        server.ssl_context = ctx
        port = server.server_address[1]
        fake.authority_host = f"https://127.0.0.1:{port}"
        fake.endpoint = f"https://127.0.0.1:{port}/v1.0"
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-graph",
            daemon=True,
        )
        thread.start()
        try:
            yield fake
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
