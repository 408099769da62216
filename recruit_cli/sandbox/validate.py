"""Value validation on import, as REDCap applies it to each field of the data dictionary.

Each failure becomes one REDCap-style CSV line ``"record","field","value","message"``.
These lines carry the value because REDCap's do; the sandbox never logs them.
"""

from __future__ import annotations

import re
from datetime import datetime

from recruit_cli.address import problem as address_problem
from recruit_cli.sandbox.dictionary import COMPLETE_CHOICES, Field

FORMAT_MESSAGE = (
    "The value you provided could not be validated because it does not follow the expected "
    "format. Please try again."
)

_INTEGER = re.compile(r"^[-+]?\d+$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)$")
_NUMBER_DP = re.compile(r"^number_(\d)dp$")
_PHONE = re.compile(r"^[\d\s()+.\-]{7,}$")
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_ALPHA = re.compile(r"^[A-Za-z]+$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# validation type -> the stored (Y-M-D) strptime format
_DATE_KINDS = {
    "date_ymd": "%Y-%m-%d",
    "date_mdy": "%Y-%m-%d",
    "date_dmy": "%Y-%m-%d",
    "datetime_ymd": "%Y-%m-%d %H:%M",
    "datetime_mdy": "%Y-%m-%d %H:%M",
    "datetime_dmy": "%Y-%m-%d %H:%M",
    "datetime_seconds_ymd": "%Y-%m-%d %H:%M:%S",
    "datetime_seconds_mdy": "%Y-%m-%d %H:%M:%S",
    "datetime_seconds_dmy": "%Y-%m-%d %H:%M:%S",
}
_INPUT_DATE = re.compile(r"^(\d{1,4})[-/](\d{1,2})[-/](\d{1,4})(.*)$")


def csv_line(record: str, field: str, value: str, message: str) -> str:
    """One REDCap error line, each cell double-quoted as REDCap does."""
    cells = (record, field, value, message)
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def normalize_date(value: str, validation: str, date_format: str) -> str:
    """Reorder an MDY/DMY input date to REDCap's stored Y-M-D; other values pass through."""
    if validation not in _DATE_KINDS or date_format == "YMD":
        return value
    m = _INPUT_DATE.match(value)
    if not m:
        return value
    a, b, c, rest = m.groups()
    if len(c) != 4:
        return value
    month, day = (a, b) if date_format == "MDY" else (b, a)
    return f"{c}-{int(month):02d}-{int(day):02d}{rest}"


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _format_ok(validation: str, value: str) -> bool:
    if validation == "integer":
        return bool(_INTEGER.match(value))
    if validation == "number":
        return bool(_NUMBER.match(value))
    dp = _NUMBER_DP.match(validation)
    if dp:
        return bool(re.match(rf"^[-+]?\d+\.\d{{{dp.group(1)}}}$", value))
    if validation in _DATE_KINDS:
        try:
            datetime.strptime(value, _DATE_KINDS[validation])
        except ValueError:
            return False
        return True
    if validation == "email":
        # recruit's own definition (recruit_cli.address), answered with REDCap's message. A
        # real REDCap's pattern is close but may take a few addresses recruit refuses (say a
        # non-ASCII local part); like it, no room for surrounding spaces.
        return value == value.strip() and address_problem(value) is None
    if validation == "phone":
        return bool(_PHONE.match(value))
    if validation == "zipcode":
        return bool(_ZIP.match(value))
    if validation == "alpha_only":
        return bool(_ALPHA.match(value))
    if validation == "time":
        return bool(_TIME.match(value))
    return True  # a validation type the sandbox does not know: accepted, as free text


def _bound(bound: str, validation: str) -> str | float | None:
    if not bound or bound in ("today", "now"):
        return None
    if validation in _DATE_KINDS:
        return bound
    return _number(bound)


def _in_range(f: Field, value: str) -> bool:
    numeric = f.validation in ("integer", "number") or bool(_NUMBER_DP.match(f.validation))
    if not numeric and f.validation not in _DATE_KINDS:
        return True
    v: str | float | None = value if f.validation in _DATE_KINDS else _number(value)
    if v is None:
        return True
    lo, hi = _bound(f.vmin, f.validation), _bound(f.vmax, f.validation)
    # Bounds and the value share a type: both str (dates) or both float (numbers).
    if lo is not None and v < lo:  # type: ignore[operator]
        return False
    return not (hi is not None and v > hi)  # type: ignore[operator]


def check_value(f: Field, value: str) -> str | None:
    """The REDCap message for a value that fails its field's validation, else None.

    ``value`` is the non-blank value destined for ``f`` (for a checkbox, the 0/1 of one
    option: checked by the caller).
    """
    if f.field_type in ("radio", "dropdown", "yesno", "truefalse"):
        if value not in f.choices:
            return f"The value is not a valid category for {f.name}"
        return None
    if f.field_type == "slider":
        n = _number(value)
        if n is None or not 0 <= n <= 100:
            return FORMAT_MESSAGE
        return None
    if f.field_type != "text" or not f.validation:
        return None
    if not _format_ok(f.validation, value):
        return FORMAT_MESSAGE
    # Min/max are soft in REDCap: an import keeps an out-of-range value (the data-entry form
    # only warns), unless the field carries the @FORCE-MINMAX action tag.
    if "@FORCE-MINMAX" in f.row.get("field_annotation", "").upper() and not _in_range(f, value):
        lo = f.vmin or "no limit"
        hi = f.vmax or "no limit"
        return f"The value you provided is outside the allowed range ({lo} - {hi})."
    return None


def check_complete(value: str) -> str | None:
    if value not in COMPLETE_CHOICES:
        return FORMAT_MESSAGE
    return None


def check_checkbox(value: str) -> str | None:
    if value not in ("0", "1"):
        return "The value is not a valid category for this checkbox option (0 or 1)"
    return None
