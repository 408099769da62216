"""What every API handler module shares: the outcome type and REDCap's answer shapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from recruit_cli.sandbox import export
from recruit_cli.sandbox.params import CONTENT_TYPES, ApiError, Params, Response, invalid
from recruit_cli.sandbox.project import Project


@dataclass(frozen=True)
class Outcome:
    response: Response
    committed_write: bool = False  # a write was applied: drop-after-commit may strike


Handler = Callable[[Project, Params], Outcome]


def data_format(params: Params) -> str:
    """The format of exported data: json or csv (REDCap's default, xml, is not served)."""
    fmt = params.lower("format") or "xml"
    if fmt in ("json", "csv"):
        return fmt
    if fmt in ("xml", "odm"):
        raise ApiError(400, f"The sandbox does not export format={fmt}: use json or csv")
    raise invalid("format")


def ok(data: Any, fmt: str, columns: Sequence[str] | None = None) -> Outcome:
    if fmt == "json":
        return Outcome(Response(200, export.to_json(data), CONTENT_TYPES["json"]))
    rows = data if isinstance(data, list) else [data]
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    return Outcome(Response(200, export.to_csv(rows, cols), CONTENT_TYPES["csv"]))


def text(value: str, *, committed: bool = False) -> Outcome:
    return Outcome(Response(200, value.encode("utf-8"), CONTENT_TYPES["text"]), committed)


def check_names(param: str, given: Sequence[str], valid: set[str]) -> None:
    bad = [n for n in given if n not in valid]
    if bad:
        listed = ", ".join(f"'{n}'" for n in bad)
        raise ApiError(
            400, f'The following values in the parameter "{param}" are not valid: {listed}'
        )
