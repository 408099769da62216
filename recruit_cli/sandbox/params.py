"""Request parameters as REDCap reads them, and the REDCap-shaped error and response.

REDCap accepts arrays in two encodings (``fields[0]=a&fields[1]=b`` and ``fields=a,b``),
booleans as ``1``/``0``/``true``/``false`` in any case, and treats an empty string as a
parameter that was not given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

_INDEXED = re.compile(r"^([A-Za-z_]+)\[(\d*)\]$")
_TRUE = {"1", "true"}
_FALSE = {"0", "false"}


class ApiError(Exception):
    """A request REDCap would refuse: status plus REDCap's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def invalid(name: str) -> ApiError:
    return ApiError(400, f'The value of the parameter "{name}" is not valid')


@dataclass
class Params:
    """The decoded form: scalars by name, arrays gathered from either encoding."""

    values: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, content_type: str, body: bytes) -> Params:
        """Decode a form-encoded or multipart body.

        Raises:
            ApiError: the body cannot be decoded.
        """
        ctype = content_type.split(";", 1)[0].strip().lower()
        pairs: list[tuple[str, str]] = []
        if ctype == "multipart/form-data":
            pairs = _multipart(content_type, body)
        else:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ApiError(400, "The request body is not valid UTF-8") from exc
            for key, vals in parse_qs(text, keep_blank_values=True).items():
                pairs.extend((key, v) for v in vals)
        values: dict[str, list[str]] = {}
        for key, value in pairs:
            m = _INDEXED.match(key)
            name = f"{m.group(1)}[]" if m else key
            values.setdefault(name, []).append(value)
        return cls(values)

    def get(self, name: str) -> str:
        """The parameter's value; "" when absent or empty (REDCap: not given)."""
        vals = self.values.get(name)
        return vals[0] if vals else ""

    def has(self, name: str) -> bool:
        return name in self.values

    def lower(self, name: str) -> str:
        return self.get(name).strip().lower()

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean parameter.

        Raises:
            ApiError: a value that is not a boolean.
        """
        value = self.lower(name)
        if value == "":
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise invalid(name)

    def array(self, name: str) -> list[str]:
        """``name[0]=a&name[1]=b``, ``name[]=a`` or ``name=a,b``; blanks dropped."""
        items = list(self.values.get(f"{name}[]", []))
        for value in self.values.get(name, []):
            items.extend(value.split(","))
        return [i.strip() for i in items if i.strip()]


def _multipart(content_type: str, body: bytes) -> list[tuple[str, str]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = BytesParser(policy=HTTP).parsebytes(head + body)
    if not msg.is_multipart():
        raise ApiError(400, "The multipart request body could not be parsed")
    pairs = []
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        pairs.append((name, data.decode("utf-8", errors="replace")))
    return pairs


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}


def return_format(params: Params) -> str:
    """The format errors (and import results) come back in: returnFormat, else format, else
    xml, exactly as REDCap chooses it."""
    fmt = params.lower("returnFormat") or params.lower("format")
    return fmt if fmt in ("json", "csv", "xml") else "xml"


def error_response(status: int, message: str, fmt: str) -> Response:
    """REDCap's error shapes: ``{"error": ...}``, ``ERROR: ...`` or ``<hash><error>``."""
    if fmt == "json":
        body = json.dumps({"error": message}, ensure_ascii=False)
    elif fmt == "csv":
        body = f"ERROR: {message}"
    else:
        fmt = "xml"
        body = (
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            f"<hash>\n  <error>{escape(message)}</error>\n</hash>"
        )
    return Response(status, body.encode("utf-8"), CONTENT_TYPES[fmt])
