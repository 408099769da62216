"""REDCap's flat XML: ``<records><item><name>value</name>...</item></records>``.

Only the design-level lists use it here (a ``repeatingFormsEvents`` export and import, which
PyCap's longitudinal test round-trips in xml); record data in XML is not served. The parser
refuses a document type declaration, so no entity can expand.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from recruit_cli.sandbox.params import ApiError


def _cdata(value: object) -> str:
    text = "" if value is None else str(value)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def to_xml(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> bytes:
    items = "".join(
        "<item>" + "".join(f"<{c}>{_cdata(row.get(c, ''))}</{c}>" for c in columns) + "</item>"
        for row in rows
    )
    return f'<?xml version="1.0" encoding="UTF-8" ?>\n<records>\n{items}\n</records>\n'.encode()


def parse_xml(data: str) -> list[dict[str, str]]:
    """``<records><item>...</item></records>`` -> rows of strings.

    Raises:
        ApiError: not that shape, or a DOCTYPE (entities are never expanded).
    """
    if "<!DOCTYPE" in data.upper():
        raise ApiError(400, "The XML data must not have a document type declaration")
    try:
        root = ET.fromstring(data.strip())
    except ET.ParseError as exc:
        raise ApiError(400, f"The XML data could not be parsed: {exc}") from exc
    return [{child.tag: (child.text or "") for child in item} for item in root]
