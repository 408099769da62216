"""The sandbox's one REDCap project: its settings, data dictionary and the operations the
API calls on them. Handlers in ``api.py`` translate parameters; this module knows REDCap.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from recruit_cli.sandbox.design import Design
from recruit_cli.sandbox.dictionary import Dictionary, DictionaryError
from recruit_cli.sandbox.import_plan import ImportOptions, ImportPlan, Shape, plan_import
from recruit_cli.sandbox.params import ApiError
from recruit_cli.sandbox.store import LogEntry, RowKey, Store

if TYPE_CHECKING:
    from recruit_cli.sandbox.survey import SurveyResponse

REDCAP_VERSION = "14.5.0"  # what content=version answers: a current LTS-like release
USERNAME = "sandbox_user"  # the user every token belongs to, as it appears in the log
RESPONDENT = "[survey respondent]"  # who REDCap logs a survey response as
PROJECT_ID = 1
_TS = "%Y-%m-%d %H:%M:%S"
MANAGE_ACTION = "Manage/Design "  # sic: REDCap's log export ends it with a space


def now(clock: tzinfo | None = None) -> str:
    """Server local time, the way REDCap stamps its log and records.

    ``clock`` is the server's time zone (None: this machine's), so that a sandbox can stand
    for a REDCap server in the study's time zone whatever the machine's clock says.
    """
    return datetime.now(clock).strftime(_TS)


def parse_time(value: str, name: str, *, end: bool = False) -> str:
    """``YYYY-MM-DD[ HH:MM[:SS]]`` -> a comparable ``YYYY-MM-DD HH:MM:SS``.

    Raises:
        ApiError: 400 naming the parameter.
    """
    for fmt, pad in (("%Y-%m-%d %H:%M:%S", ""), ("%Y-%m-%d %H:%M", ":59"), ("%Y-%m-%d", "")):
        try:
            parsed = datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            return parsed.strftime("%Y-%m-%d ") + ("23:59:59" if end else "00:00:00")
        text = parsed.strftime(_TS)
        return text[:-3] + pad if end and pad else text
    raise ApiError(400, f'The value of the parameter "{name}" is not valid')


class Project:
    """Settings persist in the database, so a restart with ``--db`` is the same project."""

    def __init__(
        self,
        store: Store,
        *,
        token: str | None,
        unique_field: str | None,
        metadata: Sequence[Mapping[str, object]] | None,
        default_metadata: Callable[[], Sequence[Mapping[str, object]]],
        clock: tzinfo | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.base_url = ""  # "http://host:port/": set by the server, for survey links
        with store.lock:
            if token is not None:
                store.set_setting("token", token)
            elif store.setting("token") is None:
                store.set_setting("token", secrets.token_hex(16).upper())
            if store.setting("creation_time") is None:
                store.set_setting("creation_time", now(self.clock))
            if metadata is not None or not store.metadata_rows():
                rows = metadata if metadata is not None else default_metadata()
                dictionary = Dictionary.from_rows(rows)
                store.replace_metadata(dictionary.rows(), None)
            if unique_field is not None:
                store.set_setting("unique_field", unique_field)
        self._dictionary = Dictionary.from_rows(store.metadata_rows())
        self._design = Design.from_json(store.setting("design"))
        field = self.unique_field
        if field and field not in self._dictionary.by_name:
            raise DictionaryError(f"The unique field {field!r} is not a field of the project")

    @property
    def token(self) -> str:
        return self.store.setting("token") or ""

    @property
    def unique_field(self) -> str:
        return self.store.setting("unique_field") or ""

    @property
    def dictionary(self) -> Dictionary:
        return self._dictionary

    @property
    def design(self) -> Design:
        return self._design

    @property
    def shape(self) -> Shape:
        return Shape(self._dictionary, self._design)

    def set_design(self, design: Design, details: str | None = None) -> None:
        """Replace the project's arms/events/mappings/repeating/surveys (and log it)."""
        with self.store.lock:
            self.store.set_setting("design", design.to_json())
            self._design = design
            if details:
                self.log_manage(details)

    # -- project-level calls ----------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """``content=project``: REDCap's keys, integers where REDCap gives integers."""
        return {
            "project_id": PROJECT_ID,
            "project_title": "recruit sandbox",
            "creation_time": self.store.setting("creation_time") or "",
            "production_time": "",
            "in_production": 0,
            "project_language": "English",
            "purpose": 0,
            "purpose_other": "",
            "project_notes": "A local REDCap-compatible sandbox (recruit sandbox serve)",
            "custom_record_label": "",
            "secondary_unique_field": self.unique_field,
            "is_longitudinal": int(self._design.longitudinal),
            "has_repeating_instruments_or_events": int(self._design.has_repeating),
            "surveys_enabled": int(bool(self._design.surveys)),
            "scheduling_enabled": 0,
            "record_autonumbering_enabled": 0,
            "randomization_enabled": 0,
            "ddp_enabled": 0,
            "project_irb_number": "",
            "project_grant_number": "",
            "project_pi_firstname": "",
            "project_pi_lastname": "",
            "project_pi_email": "",
            "display_today_now_button": 1,
            "missing_data_codes": "",
            "external_modules": "",
            "bypass_branching_erase_field_prompt": 0,
        }

    def next_record_name(self) -> str:
        numbers = [int(r) for r in self.store.record_ids() if r.isdigit()]
        return str(max(numbers, default=0) + 1)

    def import_metadata(self, rows: Sequence[Mapping[str, object]]) -> int:
        """Replace the data dictionary (a development-status project allows it)."""
        try:
            dictionary = Dictionary.from_rows(rows)
        except DictionaryError as exc:
            raise ApiError(400, str(exc)) from exc
        if self.unique_field and self.unique_field not in dictionary.by_name:
            raise ApiError(
                400, f"The secondary unique field ({self.unique_field}) cannot be removed"
            )
        entry = LogEntry(
            now(self.clock), USERNAME, MANAGE_ACTION, "Upload data dictionary (API)", "", "manage"
        )
        with self.store.lock:
            self.store.replace_metadata(dictionary.rows(), entry)
            self._dictionary = dictionary
        return len(dictionary.fields)

    # -- records --------------------------------------------------------------------------------

    def import_records(
        self,
        rows: Sequence[Mapping[str, str]],
        *,
        overwrite: bool,
        force_auto_number: bool,
        date_format: str,
        survey: SurveyResponse | None = None,
    ) -> ImportPlan:
        """Validate and write an import in one transaction; ``survey`` makes it a survey
        response instead (sandbox.survey): stamped, and logged as the respondent's."""
        with self.store.lock:
            # Read the dictionary under the lock: a concurrent metadata import can't slip in
            # between validating against it and writing.
            shape = self.shape
            d = shape.d
            ids = {r.get(d.record_id, "").strip() for r in rows}
            stamp = now(self.clock)
            existing = self.store.existing(ids) if not force_auto_number else set()
            stored = self.fetch_rows(existing) if existing else {}
            unique = self.store.values_of(self.unique_field) if self.unique_field else {}
            plan = plan_import(
                shape,
                rows,
                ImportOptions(
                    overwrite=overwrite,
                    force_auto_number=force_auto_number,
                    date_format=date_format,
                    unique_field=self.unique_field or None,
                    username=USERNAME if survey is None else RESPONDENT,
                    now=stamp,
                ),
                existing=existing,
                stored=stored,
                next_id=int(self.next_record_name()) if force_auto_number else 0,
                unique_values=unique,
            )
            if survey is not None:
                survey.stamp(plan.changes, stamp)
            self.store.apply(plan.changes, stamp)
        return plan

    def fetch_rows(self, records: set[str] | list[str] | None) -> dict[RowKey, dict[str, str]]:
        """Every stored row of these records (None: all), keyed by export column."""
        d = self.dictionary
        checkboxes = frozenset(f.name for f in d.fields if f.is_checkbox)
        return self.store.fetch(fields=None, records=records, checkboxes=checkboxes)

    def delete_records(
        self,
        ids: Sequence[str],
        *,
        arm: str = "",
        instrument: str = "",
        event: str = "",
        instance: str = "",
    ) -> int:
        """Delete whole records, or (given an arm, event, instrument or repeat instance)
        only that part of them, as REDCap's ``content=record&action=delete`` does."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            raise ApiError(400, "No records were provided to delete")
        if arm or instrument or event or instance:
            return self._delete_part(wanted, arm, instrument, event, instance)
        with self.store.lock:
            found = self.store.existing(wanted)
            missing = [r for r in wanted if r not in found]
            if missing:
                raise ApiError(
                    400,
                    "One or more of the records provided cannot be deleted because they do "
                    "not exist in the project. The following records do not exist: "
                    + ", ".join(missing),
                )
            stamp = now(self.clock)
            rid = self.dictionary.record_id
            log = [
                LogEntry(
                    stamp,
                    USERNAME,
                    f"Delete record (API) {r}",
                    f"{rid} = '{r}'",
                    r,
                    "record_delete",
                )
                for r in wanted
            ]
            self.store.delete(wanted, log)
        return len(wanted)

    def _delete_part(
        self, wanted: list[str], arm: str, instrument: str, event: str, instance: str
    ) -> int:
        d, design = self.dictionary, self.design
        events: list[str] | None = None
        if event:
            if design.event(event) is None:
                raise ApiError(400, f'The value of the parameter "event" is not valid: {event}')
            events = [event]
        elif arm:
            events = [e.unique_name for e in design.events if str(e.arm_num) == arm]
            if not events:
                raise ApiError(400, f'The value of the parameter "arm" is not valid: {arm}')
        elif instrument and design.longitudinal:
            raise ApiError(400, "The event parameter is required with instrument")
        fields: list[str] | None = None
        if instrument:
            if instrument not in d.forms:
                raise ApiError(400, 'The value of the parameter "instrument" is not valid')
            fields = [f.name for f in d.fields if f.form == instrument and f.name != d.record_id]
            fields += [f"{instrument}_complete", f"{instrument}_timestamp"]
        number = int(instance) if instance.isdigit() else None
        with self.store.lock:
            found = self.store.existing(wanted)
            missing = [r for r in wanted if r not in found]
            if missing:
                raise ApiError(
                    400,
                    "One or more of the records provided cannot be deleted because they do "
                    "not exist in the project. The following records do not exist: "
                    + ", ".join(missing),
                )
            stamp = now(self.clock)
            where = ", ".join(x for x in (event or arm, instrument, instance) if x)
            log = [
                LogEntry(
                    stamp, USERNAME, f"Delete record (API) {r}", f"({where})", r, "record_delete"
                )
                for r in wanted
            ]
            self.store.delete_part(wanted, events=events, fields=fields, instance=number, log=log)
        return len(wanted)

    def log_export_entry(self, fmt: str, raw_or_label: str) -> None:
        """A record export, logged the way REDCapR's recorded log shows it."""
        details = f"export_format: {fmt.upper()}, rawOrLabel: {raw_or_label}"
        self.store.add_log(
            [LogEntry(now(self.clock), USERNAME, "Data export (API)", details, "", "export")]
        )

    def log_manage(self, details: str) -> None:
        """A design-level call (e.g. ``Download data dictionary (API)``), logged as REDCap
        does: action ``Manage/Design`` (REDCap's log export gives it a trailing space, as
        PyCap's doctest records), the call in ``details``."""
        self.store.add_log(
            [LogEntry(now(self.clock), USERNAME, MANAGE_ACTION, details, "", "manage")]
        )
