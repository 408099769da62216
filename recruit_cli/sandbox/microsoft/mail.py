"""Graph mail's half of the stand-in: mailboxes, sendMail and the Sent Items search.

Endpoints (``{endpoint}`` is ``{host}/v1.0``): ``POST me/sendMail``,
``POST users/{id}/sendMail``, ``GET me|users/{id}/mailFolders/SentItems/messages?$filter=
singleValueExtendedProperties/Any(ep: ep/id eq '<id>' and ep/value eq '<key>')``. The bearer
token is checked on every call, against the scopes (delegated) or the app's rights.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from recruit_cli.sandbox.microsoft.handler import BaseHandler

if TYPE_CHECKING:
    from recruit_cli.sandbox.microsoft.identity import Token

SEND_RE = re.compile(r"^/v1\.0/(me|users/([^/]+))/sendMail$")
SENT_RE = re.compile(r"^/v1\.0/(me|users/([^/]+))/mailFolders/SentItems/messages$")
FILTER_RE = re.compile(
    r"^singleValueExtendedProperties/Any\(ep: ep/id eq '((?:[^']|'')*)' "
    r"and ep/value eq '((?:[^']|'')*)'\)$"
)


class Mailboxes:
    """State of Exchange Online as Graph shows it (a part of ``MicrosoftSandbox``).

    Every accepted message is in ``sent`` (dicts: mailbox, recipients, subject, headers, key,
    properties, body, content_type, message_id, attachments) and in the Sent Items of the
    mailboxes it was sent from (``sent_items``, by lower-cased address).

    Knobs (change them at any time): ``disabled_mailboxes`` (404
    MailboxNotEnabledForRESTAPI), ``missing_mailboxes`` (404 ResourceNotFound),
    ``denied_mailboxes`` (403 ErrorSendAsDenied for a delegated user, ErrorAccessDenied for
    an app: an RBAC scope that leaves the mailbox out), ``invalid_domain`` (recipients
    there get 400 ErrorInvalidRecipients), ``copy_sent_as`` (a delegated send-as also lands
    in the shared mailbox's Sent Items, as with ``MessageCopyForSentAsEnabled``).
    """

    # Set by MicrosoftSandbox before this part's __init__ runs.
    lock: threading.Lock
    calls: Counter[str]

    def __init__(self) -> None:
        self.disabled_mailboxes: set[str] = set()
        self.missing_mailboxes: set[str] = set()
        self.denied_mailboxes: set[str] = set()
        self.invalid_domain = "invalid.example"
        self.copy_sent_as = False
        self.sent: list[dict[str, Any]] = []
        self.sent_items: dict[str, list[dict[str, Any]]] = {}

    def record(self, mailbox: str, sender_user: str | None, message: dict[str, Any]) -> None:
        """Store one accepted message in ``sent`` and in the right Sent Items folders."""
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
        """Ids of the messages in ``mailbox``'s Sent Items whose property has ``value``."""
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


def _scope_names(scopes: frozenset[str]) -> set[str]:
    """``https://host/Mail.Send`` -> ``Mail.Send`` (any resource prefix is accepted)."""
    return {s.rsplit("/", 1)[-1] for s in scopes}


class MailRoutes(BaseHandler):
    """Graph's mail endpoints (dispatched by ``server.Handler``)."""

    def _authorised(self) -> Token | None:
        token = self.state.check_token(self.headers.get("Authorization", ""))
        if token is None:
            self._graph_error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        return token

    def _mailbox(self, token: Token, user: str | None, need: str) -> str | None:
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
        if mailbox in {m.lower() for m in self.state.missing_mailboxes}:
            self._graph_error(404, "ResourceNotFound", "Resource could not be discovered.")
            return None
        if mailbox in {m.lower() for m in self.state.disabled_mailboxes}:
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
        if not own and mailbox in {m.lower() for m in self.state.denied_mailboxes}:
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
        """Draw the fault for this request; a 429/503 is answered here."""
        kind, retry_after = self.state.next_fault(target)
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
            if not local or not at or domain.lower() == self.state.invalid_domain:
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
            self.state.record(mailbox, sender_user, message)
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
        ids = self.state.find_sent(mailbox, prop_id, value)
        self._send_json(200, {"value": [{"id": i} for i in ids]})
