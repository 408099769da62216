"""Strict reading of REDCap's answers: what a body must look like, and REDCap's error text.

REDCap answers errors as ``{"error": "..."}`` (JSON), ``<hash><error>...</error></hash>``
(XML) or plain text, depending on ``returnFormat`` and version. Misconfigured URLs answer
with an HTML page and status 200, which must never be mistaken for data.
"""

from __future__ import annotations

import json
import re
from typing import Any

from recruit_cli.errors import RedcapError
from recruit_cli.redact import server_text

MAX_ERROR_TEXT = 300
API_HINT = "is the URL the API endpoint (…/api/)?"
_XML_ERROR = re.compile(r"<error>(.*?)</error>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
# REDCap's import-validation errors are CSV lines "record","field","value","message"; the
# value can be a participant's answer, which must never reach a log or the terminal.
_VALIDATION_LINE = re.compile(r'"((?:[^"]|"")*)","((?:[^"]|"")*)","(?:[^"]|"")*","')


def looks_like_html(text: str) -> bool:
    """True for an HTML page (a login page, a proxy error page, a wrong URL)."""
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body")) or "<html" in head


def error_text(body: str, *, scrub: str = "") -> str:
    """REDCap's own message from an error body, flattened, redacted and truncated.

    Args:
        body: The response text.
        scrub: A string (the token) to blank out, in any letter case, should REDCap ever
            echo it. E-mail addresses REDCap quotes are blanked too (``redact.server_text``).
    """
    text = body.strip()
    message: str | None = None
    if text.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "error" in parsed:
            message = str(parsed["error"])
    if message is None:
        found = _XML_ERROR.search(text)
        if found:
            message = found.group(1)
        elif looks_like_html(text):
            message = "an HTML page"
        else:
            message = _TAGS.sub(" ", text)
    message = _VALIDATION_LINE.sub(r'"\1","\2","(value withheld)","', message)
    message = " ".join(message.split()) or "(empty answer)"
    message = server_text(message, secrets=(scrub,))
    if len(message) > MAX_ERROR_TEXT:
        message = message[: MAX_ERROR_TEXT - 1] + "…"
    return message


def parse_json(body: str, call: str, *, scrub: str = "") -> Any:
    """Decode a 200 answer that must be JSON; raise RedcapError for HTML, garbage, errors."""
    text = body.strip()
    if looks_like_html(text):
        raise RedcapError(f"REDCap answered {call} with HTML, not JSON: {API_HINT}", status=200)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise RedcapError(
            f"REDCap answered {call} with something that is not JSON ({_shape(text)}): {API_HINT}",
            status=200,
        ) from exc
    if isinstance(value, dict) and "error" in value:
        raise RedcapError(
            f"REDCap refused {call}: {error_text(text, scrub=scrub)}",
            status=200,
        )
    return value


def expect_rows(value: Any, call: str) -> list[dict[str, str]]:
    """A JSON array of flat objects; every value as a string ('' for null)."""
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise RedcapError(
            f"REDCap answered {call} with JSON that is not a list of rows", status=200
        )
    return [{str(k): as_text(v) for k, v in row.items()} for row in value]


def expect_object(value: Any, call: str) -> dict[str, str]:
    """A JSON object; every value as a string ('' for null)."""
    if not isinstance(value, dict):
        raise RedcapError(f"REDCap answered {call} with JSON that is not an object", status=200)
    return {str(k): as_text(v) for k, v in value.items()}


def expect_count(value: Any, call: str) -> int:
    """``{"count": N}`` or a bare N (imports and deletes answer one or the other)."""
    if isinstance(value, dict) and "count" in value:
        value = value["count"]
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise RedcapError(f"REDCap answered {call} without a count", status=200)


def as_text(value: Any) -> str:
    """REDCap values as strings: null -> '', numbers as written, booleans as 1/0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _shape(text: str) -> str:
    # Describe the body without quoting it: it could hold record data.
    if not text:
        return "an empty body"
    return f"{len(text)} characters starting with {text[:1]!r}"
