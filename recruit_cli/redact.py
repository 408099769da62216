"""What recruit takes out of text before it is shown or logged: credentials and addresses.

Text from outside (REDCap's error messages, SMTP replies, Microsoft Graph's errors) and the
URLs recruit is configured with can carry what must never reach a terminal, a log file, a
cron e-mail or ``--json``:

- ``safe_url``: a URL as it may be shown: no ``user:password@``, no query, no fragment
  (a query can carry a key as well as a password can);
- ``server_text``: a server's reply with the secrets recruit holds blanked in any letter
  case (a server may echo the token upper-cased), e-mail addresses and quoted local parts
  (``<jane.doe>``, ``"jane.doe"``) replaced by ``<address>``, and the addresses of the
  message at hand (and their local parts, however they are quoted) likewise.

Every transport and the REDCap client pass what a server said through ``server_text``; every
URL that is shown goes through ``safe_url``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

ADDRESS = "<address>"
SECRET = "***"

# A whole address: anything but spaces, brackets, quotes and separators around one "@".
_ADDRESS_RE = re.compile(r"[^\s<>()\[\]{},;:\"'@]+@[^\s<>()\[\]{},;:\"'@]+")
# SMTP quotes a path in angle brackets (``<jane.doe>``, ``<jane.doe@x.org>``, ``<>``).
_ANGLED_RE = re.compile(r"<[^<>\s]*>")
# A quoted word holding a character a field name or a number can't (a dot, a plus, ...):
# ``"jane.doe"`` goes, ``"fields"`` and ``'pipeline_group'`` (REDCap naming what is wrong)
# stay.
_QUOTED_RE = re.compile(r"([\"'])([^\s\"'<>]*[^\s\"'<>\w][^\s\"'<>]*)\1")
# A known address counts only as a whole word: no address character before it, and after
# it none but a dot that ends a sentence (or sendmail's "jane.doe... User unknown").
_WORD = r"A-Za-z0-9._%+\-"
_WORD_END = r"A-Za-z0-9_%+\-@"
# A URL's user:password@ where urlsplit can't read the URL (an unclosed IPv6 bracket).
_USERINFO_RE = re.compile(r"(//)[^/?#@]*@")


def safe_url(url: str) -> str:
    """``url`` without credentials, query or fragment: what may be shown or logged.

    ``https://user:pw@redcap.example.edu/api/?k=1`` -> ``https://redcap.example.edu/api/``.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not a URL urlsplit can read: cut what looks like credentials
        return _USERINFO_RE.sub(r"\1", url).split("?", 1)[0].split("#", 1)[0]
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret blanked, in whatever letter case it appears."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = re.sub(re.escape(secret), SECRET, text, flags=re.IGNORECASE)
    return text


def server_text(text: str, *, addresses: Iterable[str] = (), secrets: Iterable[str] = ()) -> str:
    """A server's reply, fit for a message or a log line (see the module docstring).

    Args:
        text: what the server said.
        addresses: the addresses the request was about (a message's recipients): each,
            and its local part, is blanked wherever it appears as a word, quoted or not
            (``jane.doe... User unknown``).
        secrets: values blanked in any letter case (the API token, a password).
    """
    text = scrub(text, secrets)
    text = _ADDRESS_RE.sub(ADDRESS, text)
    text = _ANGLED_RE.sub(ADDRESS, text)
    text = _QUOTED_RE.sub(ADDRESS, text)
    known: set[str] = set()
    for address in addresses:
        known.add(address)
        known.add(address.rpartition("@")[0])
    for value in sorted(known - {""}, key=len, reverse=True):
        pattern = rf"(?<![{_WORD}]){re.escape(value)}(?![{_WORD_END}]|\.[{_WORD_END}])"
        text = re.sub(pattern, ADDRESS, text, flags=re.IGNORECASE)
    return text
