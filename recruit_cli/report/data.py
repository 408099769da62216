"""Fetch what the report needs from REDCap into one PHI-free pandas DataFrame.

Two API calls at most: one record export of only the pipeline fields the report reads, and,
when no survey-timestamp field is configured, one log export (``record_add``) for the time
each record was created. The record id is used only to join those two and is dropped before
the frame leaves this module: the frame has no ids, e-mails, names or answers.

Timestamps become UTC ``datetime64`` columns. A value with an offset is read as written; a
value without one (REDCap's own log times, survey timestamps, ``date_ymd`` booking dates) is
read on the study's wall clock. A value that does not parse counts in ``SourceData.quality``
and is treated as missing; it never stops the report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from recruit_cli.errors import RedcapError
from recruit_cli.logs import get_logger

if TYPE_CHECKING:
    import pandas as pd

    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.settings import Settings

log = get_logger("report.data")

# Logical name -> FieldMap attribute, for the timestamp columns of the frame.
TIME_COLUMNS = (
    "submitted_at",
    "screened_at",
    "invited_at",
    "notified_at",
    "safety_alerted_at",
    "booked_at",
)
LOG_REFUSED = "log_export_refused"  # quality key: no submission times from the log
_REPEAT = "redcap_repeat_instrument"
_OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
# "Create record 12", "Create record (import) 20", "Create record (API)7",
# "Create survey response 3", "Created Record 5": REDCap's wording varies by version/source.
_CREATED = re.compile(
    r"^\s*creat\w*\s+(?:record|survey\s+response|response)(?:\s*\([^)]*\))*\s*(\S+)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SourceData:
    """The report's input: one row per record, no identifiers.

    Columns: ``status`` (str, blank -> "pending"), ``reasons`` (str), ``group`` (str),
    ``has_study_id`` (bool), ``safety_ack`` (bool), and the UTC datetime columns in
    ``TIME_COLUMNS`` (NaT when blank, unparsable or not configured).
    """

    frame: pd.DataFrame
    quality: tuple[
        tuple[str, int], ...
    ]  # (problem key, records), e.g. ("unparsable_invited_at", 2)
    submitted_source: str  # "field <name>" or "REDCap log (record creation)"
    has_booked: bool  # a booked_at field is configured


def fetch(settings: Settings, client: RedcapClient) -> SourceData:
    """Export the needed fields (and the creation log when needed) and build the frame."""
    f = settings.fields
    wanted = [
        f.record_id,
        f.status,
        f.reasons,
        f.group,
        f.study_id,
        f.screened_at,
        f.invited_at,
        f.notified_at,
        f.safety_alerted_at,
        f.safety_ack,
    ]
    wanted += [name for name in (f.submitted_at, f.booked_at) if name]
    rows = client.export_records(fields=list(dict.fromkeys(wanted)))
    log_rows: list[dict[str, str]] | None = None
    if not f.submitted_at or (rows and f.submitted_at not in rows[0]):
        try:
            log_rows = client.export_logging(log_type="record_add")
        except RedcapError as exc:
            # Many projects do not give the API user the Logging right. Everything but the
            # submission times can still be reported, so the weekly report is still made,
            # and says plainly why submissions are missing (REDCap's own text is logged).
            log.warning("report: REDCap refused the log export, no submission times: %s", exc)
            source = build_source(settings, rows, None)
            return replace(
                source,
                quality=(
                    (LOG_REFUSED, len(source.frame)),
                    *(q for q in source.quality if q[0] != "no_submission_time"),
                ),
                submitted_source="REDCap log, which REDCap refused to export",
            )
    return build_source(settings, rows, log_rows)


def build_source(
    settings: Settings,
    rows: Sequence[Mapping[str, str]],
    log_rows: Sequence[Mapping[str, str]] | None = None,
) -> SourceData:
    """Build the frame from exported rows (pure: tests call it with hand-made rows).

    Args:
        settings: the study settings (field names, timezone).
        rows: REDCap's flat record export.
        log_rows: REDCap's ``record_add`` log export, used for submission times when the
            configured ``submitted_at`` field is absent (or none is configured).
    """
    import pandas as pd

    f = settings.fields
    tz = settings.study.timezone
    columns = {
        "record_id": f.record_id,
        "status": f.status,
        "reasons": f.reasons,
        "group": f.group,
        "study_id": f.study_id,
        "safety_ack": f.safety_ack,
        "screened_at": f.screened_at,
        "invited_at": f.invited_at,
        "notified_at": f.notified_at,
        "safety_alerted_at": f.safety_alerted_at,
    }
    # With no rows at all there is nothing to miss: take the configured field as present.
    field_submitted = bool(f.submitted_at) and (not rows or f.submitted_at in rows[0])
    if field_submitted and f.submitted_at:
        columns["submitted_at"] = f.submitted_at
    if f.booked_at:
        columns["booked_at"] = f.booked_at
    names = [*columns.values(), _REPEAT]
    raw = pd.DataFrame.from_records(list(rows), columns=_present(rows, names))
    raw = _one_row_per_record(raw, f.record_id)
    text = pd.DataFrame(
        {
            logical: _text(raw, name, len(raw))
            for logical, name in columns.items()
            if logical not in TIME_COLUMNS
        }
    )
    frame = pd.DataFrame(index=raw.index)
    frame["status"] = text["status"].str.lower().replace("", "pending")
    frame["reasons"] = text["reasons"]
    frame["group"] = text["group"]
    frame["has_study_id"] = text["study_id"] != ""
    frame["safety_ack"] = text["safety_ack"] == "1"
    quality: list[tuple[str, int]] = []
    for logical in TIME_COLUMNS:
        if logical in columns:
            parsed, bad = parse_times(_text(raw, columns[logical], len(raw)), tz)
            if bad:
                quality.append((f"unparsable_{logical}", bad))
            frame[logical] = parsed
        else:
            frame[logical] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    if field_submitted:
        source = f"field {f.submitted_at}"
    else:
        source = "REDCap log (record creation)"
        created, bad = _creation_times(log_rows or (), tz)
        if bad:
            quality.append(("unparsable_log_timestamp", bad))
        ids = text["record_id"]
        aligned = created.reindex(ids.to_numpy()) if len(created) else None
        frame["submitted_at"] = (
            pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
            if aligned is None
            else pd.Series(aligned.to_numpy(), index=frame.index).astype("datetime64[us, UTC]")
        )
        if f.submitted_at and len(frame):
            quality.append((f"submitted_field_missing:{f.submitted_at}", len(frame)))
    missing = int(frame["submitted_at"].isna().sum())
    if missing:
        quality.append(("no_submission_time", missing))
    return SourceData(
        frame=frame.reset_index(drop=True),
        quality=tuple(quality),
        submitted_source=source,
        has_booked=bool(f.booked_at),
    )


def parse_times(values: pd.Series, timezone: str) -> tuple[pd.Series, int]:
    """Parse ISO-8601 text into UTC timestamps; returns (series, unparsable count).

    Values with an offset are taken as written; values without one are on the study's wall
    clock (ambiguous or skipped DST times become missing). Blank is missing, not bad.
    """
    import pandas as pd

    text = values.fillna("").astype(str).str.strip()
    blank = text == ""
    aware = ~blank & text.str.contains(_OFFSET, regex=True)
    naive = ~blank & ~aware
    parts = [pd.Series(pd.NaT, index=text.index[blank], dtype="datetime64[us, UTC]")]
    if aware.any():
        parts.append(
            _as_us(pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce"))
        )
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        parts.append(
            _as_us(
                local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(
                    "UTC"
                )
            )
        )
    result = pd.concat([p for p in parts if len(p)]) if any(len(p) for p in parts) else parts[0]
    result = result.reindex(text.index)
    bad = int((~blank & result.isna()).sum())
    return result, bad


def _as_us(series: pd.Series) -> pd.Series:
    # One resolution everywhere so concatenation never falls back to object dtype.
    return series.astype("datetime64[us, UTC]")


def _creation_times(log_rows: Sequence[Mapping[str, str]], timezone: str) -> tuple[pd.Series, int]:
    """Record id -> earliest creation time (a Series), from REDCap's ``record_add`` log."""
    import pandas as pd

    if not log_rows:
        return pd.Series([], dtype="datetime64[us, UTC]"), 0
    logs = pd.DataFrame.from_records(
        list(log_rows), columns=_present(log_rows, ("timestamp", "action", "record"))
    )
    record = _text(logs, "record", len(logs))
    from_action = _text(logs, "action", len(logs)).str.extract(_CREATED, expand=False).fillna("")
    logs = pd.DataFrame(
        {
            "record": record.where(record != "", from_action),
            "timestamp": _text(logs, "timestamp", len(logs)),
        }
    )
    logs = logs[logs["record"] != ""]
    times, bad = parse_times(logs["timestamp"], timezone)
    return times.groupby(logs["record"]).min().dropna(), bad


def _present(rows: Sequence[Mapping[str, str]], names: Any) -> list[str]:
    first = rows[0] if rows else {}
    return [n for n in dict.fromkeys(names) if n in first] if rows else []


def _text(frame: pd.DataFrame, column: str, length: int) -> pd.Series:
    import pandas as pd

    if column in frame.columns:
        return frame[column].fillna("").astype(str).str.strip()
    return pd.Series([""] * length, index=frame.index, dtype=str)


def _one_row_per_record(raw: pd.DataFrame, record_id: str) -> pd.DataFrame:
    """Longitudinal exports have one row per event: merge them, first non-blank value wins.

    Rows of repeating instruments are dropped: the pipeline fields are never on one.
    """
    if _REPEAT in raw.columns:
        raw = raw[raw[_REPEAT].fillna("").astype(str).str.strip() == ""].drop(columns=_REPEAT)
    if record_id not in raw.columns or not raw[record_id].duplicated().any():
        return raw.reset_index(drop=True)
    merged = raw.replace("", None).groupby(record_id, sort=True, as_index=False).first()
    return merged.fillna("").reset_index(drop=True)
