"""SQLite storage, entity-attribute-value like REDCap's own ``redcap_data`` table.

One row per (record, event, instance, field, value): a checkbox has one row per ticked
option, blanks are not stored. ``event`` is the unique event name ("" in a classic project)
and ``instance`` the repeat instance (1 for a row that does not repeat), as REDCap's own
table keys them. ``records`` keeps when each record was created and last changed (for
``dateRangeBegin``/``dateRangeEnd``); ``log`` is the audit trail ``content=log`` exports.

One connection serves every thread, behind one lock: SQLite has a single writer anyway, and
holding the lock across "validate against current state, then write" is what makes a
concurrent import all-or-nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from recruit_cli.chunks import chunks
from recruit_cli.logic.lexer import checkbox_key
from recruit_cli.private import open_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metadata (position INTEGER PRIMARY KEY, row_json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    record TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS data (
    record TEXT NOT NULL,
    event TEXT NOT NULL DEFAULT '',
    instance INTEGER NOT NULL DEFAULT 1,
    field_name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (record, event, instance, field_name, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    details TEXT NOT NULL,
    record TEXT NOT NULL,
    kind TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_ts ON log (ts);
CREATE INDEX IF NOT EXISTS records_updated ON records (updated_at);
"""

_ROW = "record = ? AND event = ? AND instance = ?"
_CHUNK = 500  # SQLite's bound-parameter limit is far above this; keeps statements small
# The export column of a stored checkbox code ("-1" -> "cb____1"); the same few pairs recur.
_column_of = lru_cache(maxsize=4096)(checkbox_key)


@dataclass(frozen=True)
class LogEntry:
    ts: str  # "YYYY-MM-DD HH:MM:SS", server local time, as REDCap keeps it
    username: str
    action: str
    details: str
    record: str
    kind: str  # record_add | record_edit | record_delete | manage | export


RowKey = tuple[str, str, int]  # (record, event, instance)


@dataclass
class Changes:
    """Everything one import writes, applied in one transaction."""

    set_values: list[tuple[str, str, int, str, str]]  # (*row, field, value): replaces it
    clear_values: list[tuple[str, str, int, str]]  # (*row, field)
    check: list[tuple[str, str, int, str, str]]  # (*row, checkbox field, code)
    uncheck: list[tuple[str, str, int, str, str]]
    new_records: list[tuple[str, str]]  # (record, created_at)
    touched: list[str]  # every record written
    log: list[LogEntry]

    @classmethod
    def empty(cls) -> Changes:
        return cls([], [], [], [], [], [], [])


class Store:
    """The sandbox's database. Every method takes the lock; callers may hold it longer."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lock = threading.RLock()
        if path is not None:
            # 0600 like every file recruit makes (SQLite gives its -wal and -shm files the
            # database's mode); an existing database keeps its own.
            os.close(open_private(path))
        self._conn = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        with self.lock:
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
            self._conn.executescript(SCHEMA)

    def _migrate(self) -> None:
        """A database written before events and instances: its rows move to event "" and
        instance 1, which is what they were."""
        columns = [r[1] for r in self._conn.execute("PRAGMA table_info(data)")]
        if columns and "event" not in columns:
            self._conn.executescript(
                "ALTER TABLE data RENAME TO data_v1;"
                + SCHEMA
                + "INSERT INTO data (record, field_name, value) "
                "SELECT record, field_name, value FROM data_v1; DROP TABLE data_v1;"
            )

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- settings and metadata ----------------------------------------------------------

    def setting(self, key: str) -> str | None:
        with self.lock:
            row = self._conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def metadata_rows(self) -> list[dict[str, str]]:
        with self.lock:
            rows = self._conn.execute("SELECT row_json FROM metadata ORDER BY position").fetchall()
        return [json.loads(r[0]) for r in rows]

    def replace_metadata(self, rows: Sequence[dict[str, str]], log: LogEntry | None) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM metadata")
            conn.executemany(
                "INSERT INTO metadata (position, row_json) VALUES (?, ?)",
                [(i, json.dumps(r)) for i, r in enumerate(rows)],
            )
            if log is not None:
                self._insert_log(conn, [log])

    # -- records ---------------------------------------------------------------------------

    def record_count(self) -> int:
        with self.lock:
            return int(self._conn.execute("SELECT count(*) FROM records").fetchone()[0])

    def record_ids(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self._conn.execute("SELECT record FROM records")]

    def existing(self, ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        ids = list(ids)
        with self.lock:
            for chunk in chunks(ids, _CHUNK):
                marks = ",".join("?" * len(chunk))
                found.update(
                    r[0]
                    for r in self._conn.execute(
                        f"SELECT record FROM records WHERE record IN ({marks})", chunk
                    )
                )
        return found

    def changed_between(self, begin: str | None, end: str | None) -> set[str]:
        sql = "SELECT record FROM records WHERE 1=1"
        args: list[str] = []
        if begin:
            sql += " AND updated_at >= ?"
            args.append(begin)
        if end:
            sql += " AND updated_at <= ?"
            args.append(end)
        with self.lock:
            return {r[0] for r in self._conn.execute(sql, args)}

    def values_of(self, field: str) -> dict[str, str]:
        """record -> stored value of one (non-checkbox) field (its first row's)."""
        with self.lock:
            rows = self._conn.execute(
                "SELECT record, value FROM data WHERE field_name = ? "
                "ORDER BY event DESC, instance DESC",
                (field,),
            ).fetchall()
        return {r: v for r, v in rows}

    def fetch(
        self,
        *,
        fields: Iterable[str] | None,
        records: Iterable[str] | None,
        checkboxes: frozenset[str],
    ) -> dict[RowKey, dict[str, str]]:
        """Stored values keyed by (record, event, instance), then by export column.

        A checkbox's stored codes come back as ``field___code: "1"``; unticked options and
        blanks are absent (the caller fills them in).
        """
        where, args = [], []
        if fields is not None:
            names = list(fields)
            where.append(f"field_name IN ({','.join('?' * len(names))})")
            args.extend(names)
        out: dict[RowKey, dict[str, str]] = {}
        with self.lock:
            if records is None:
                batches: list[list[str] | None] = [None]
            else:
                wanted = list(records)
                batches = [list(c) for c in chunks(wanted, _CHUNK)]
            for batch in batches:
                clauses, params = list(where), list(args)
                if batch is not None:
                    clauses.append(f"record IN ({','.join('?' * len(batch))})")
                    params.extend(batch)
                sql = "SELECT record, event, instance, field_name, value FROM data"
                if clauses:
                    sql += " WHERE " + " AND ".join(clauses)
                for record, event, instance, name, value in self._conn.execute(sql, params):
                    key = (record, event, instance)
                    row = out.get(key)
                    if row is None:
                        row = out[key] = {}
                    if name in checkboxes:
                        row[_column_of(name, value)] = "1"
                    else:
                        row[name] = value
        return out

    def fetch_eav(self, records: Iterable[str] | None) -> list[tuple[str, str, int, str, str]]:
        """(record, event, instance, field, value) rows."""
        cols = "SELECT record, event, instance, field_name, value FROM data"
        with self.lock:
            if records is None:
                return list(self._conn.execute(cols))
            wanted = list(records)
            rows: list[tuple[str, str, int, str, str]] = []
            for chunk in chunks(wanted, _CHUNK):
                rows.extend(
                    self._conn.execute(
                        f"{cols} WHERE record IN ({','.join('?' * len(chunk))})", chunk
                    )
                )
            return rows

    def apply(self, changes: Changes, now: str) -> None:
        """Write one import; the caller holds the lock across validation and this call."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO records (record, created_at, updated_at) VALUES (?, ?, ?)",
                [(r, created, created) for r, created in changes.new_records],
            )
            conn.executemany(
                "UPDATE records SET updated_at = max(updated_at, ?) WHERE record = ?",
                [(now, r) for r in changes.touched],
            )
            replaced = [(r, e, i, f) for r, e, i, f, _ in changes.set_values]
            conn.executemany(
                f"DELETE FROM data WHERE {_ROW} AND field_name = ?",
                replaced + changes.clear_values,
            )
            insert = "INTO data (record, event, instance, field_name, value) VALUES (?,?,?,?,?)"
            conn.executemany(f"INSERT {insert}", changes.set_values)
            conn.executemany(f"INSERT OR IGNORE {insert}", changes.check)
            conn.executemany(
                f"DELETE FROM data WHERE {_ROW} AND field_name = ? AND value = ?", changes.uncheck
            )
            self._insert_log(conn, changes.log)

    def delete(self, ids: Sequence[str], log: Sequence[LogEntry]) -> None:
        with self.transaction() as conn:
            conn.executemany("DELETE FROM data WHERE record = ?", [(r,) for r in ids])
            conn.executemany("DELETE FROM records WHERE record = ?", [(r,) for r in ids])
            self._insert_log(conn, log)

    def delete_part(
        self,
        ids: Sequence[str],
        *,
        events: Sequence[str] | None,
        fields: Sequence[str] | None,
        instance: int | None,
        log: Sequence[LogEntry],
    ) -> None:
        """Delete some of the records' data: in these events, of these fields, of one
        instance (None: any). A record left with no data at all is deleted."""
        sql = "DELETE FROM data WHERE record = ?"
        extra: list[object] = []
        if events is not None:
            sql += f" AND event IN ({','.join('?' * len(events))})"
            extra.extend(events)
        if fields is not None:
            sql += f" AND field_name IN ({','.join('?' * len(fields))})"
            extra.extend(fields)
        if instance is not None:
            sql += " AND instance = ?"
            extra.append(instance)
        with self.transaction() as conn:
            for r in ids:
                conn.execute(sql, [r, *extra])
            conn.execute("DELETE FROM records WHERE record NOT IN (SELECT record FROM data)")
            self._insert_log(conn, log)

    def rename_events(self, renames: Mapping[str, str]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE data SET event = ? WHERE event = ?", [(n, o) for o, n in renames.items()]
            )

    def drop_events(self, events: Sequence[str]) -> None:
        """Data of deleted events goes with them, as in REDCap."""
        with self.transaction() as conn:
            conn.executemany("DELETE FROM data WHERE event = ?", [(e,) for e in events])
            conn.execute("DELETE FROM records WHERE record NOT IN (SELECT record FROM data)")

    # -- log ------------------------------------------------------------------------------------

    def add_log(self, entries: Sequence[LogEntry]) -> None:
        with self.transaction() as conn:
            self._insert_log(conn, entries)

    @staticmethod
    def _insert_log(conn: sqlite3.Connection, entries: Sequence[LogEntry]) -> None:
        conn.executemany(
            "INSERT INTO log (ts, username, action, details, record, kind) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(e.ts, e.username, e.action, e.details, e.record, e.kind) for e in entries],
        )

    def log_rows(
        self,
        *,
        kinds: Sequence[str] | None,
        record: str | None,
        user: str | None,
        begin: str | None,
        end: str | None,
    ) -> list[LogEntry]:
        """Log entries, newest first."""
        sql = "SELECT ts, username, action, details, record, kind FROM log WHERE 1=1"
        args: list[str] = []
        if kinds is not None:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        for column, op, value in (
            ("record", "=", record),
            ("username", "=", user),
            ("ts", ">=", begin),
            ("ts", "<=", end),
        ):
            if value:
                sql += f" AND {column} {op} ?"
                args.append(value)
        sql += " ORDER BY ts DESC, id DESC"
        with self.lock:
            return [LogEntry(*row) for row in self._conn.execute(sql, args)]
