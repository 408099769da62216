"""The outbox transport: one RFC 5322 ``.eml`` file per message, in a directory.

The demo and anyone trying templates use it: nothing leaves the machine. A file is written
to a temporary name and renamed into place, so a crash never leaves half a message, and
``was_sent(key)`` is simply whether the file exists.
"""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import suppress
from pathlib import Path

from recruit_cli.errors import MailError
from recruit_cli.faultpoints import crash_point
from recruit_cli.logs import get_logger
from recruit_cli.mail.message import OutgoingMessage, SendReceipt
from recruit_cli.mail.mime import to_bytes
from recruit_cli.private import private_dir

log = get_logger("mail.outbox")

_SAFE = re.compile(r"[A-Za-z0-9.-]")
_MAX_NAME = 200


def eml_name(key: str) -> str:
    """The file name for ``key``: ``"11:safety_alert:1"`` -> ``"11_safety_alert_1.eml"``.

    The name must be readable (staff open these files) and injective (``was_sent`` is
    "the file exists", so two keys must never share a file). Every key recruit makes has
    three parts, ``<record>:<kind>:<version>``; the colons between them become ``_``, and
    only the middle part (the kind, e.g. ``safety_alert``) keeps its own ``_``. Anywhere
    else ``_`` is written ``%5F``, as is any character outside ``[A-Za-z0-9.-]``
    (``%XX``), so the unescaped underscores locate the parts: a three-part name has two
    or more, the first and the last of them the separators. A key of more than three parts
    (a test copy's ``<key>:test-<time>``) writes its colons after the second as ``%3A``,
    so its name has exactly two, like a three-part key whose kind has none.

    Raises:
        MailError: the key is empty or too long for a file name.
    """
    parts = key.split(":")
    if len(parts) > 3:
        parts = [*parts[:2], "%3A".join(_escape(p, keep="") for p in parts[2:])]
        encoded = [_escape(parts[0], keep="", first=True), _escape(parts[1], keep=""), parts[2]]
    else:
        encoded = [
            _escape(p, keep="_" if (len(parts) == 3 and i == 1) else "", first=i == 0)
            for i, p in enumerate(parts)
        ]
    return _checked("_".join(encoded))


def legacy_eml_name(key: str) -> str:
    """The name earlier versions gave ``key`` (every ``_`` as ``%5F``), so that a message
    they wrote still counts as sent: ``"11:safety_alert:1"`` -> ``"11_safety%5Falert_1.eml"``.
    """
    parts = key.split(":")
    return _checked("_".join(_escape(p, keep="", first=i == 0) for i, p in enumerate(parts)))


def _escape(part: str, *, keep: str, first: bool = False) -> str:
    out = []
    for i, ch in enumerate(part):
        if (_SAFE.match(ch) or ch in keep) and not (first and i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(out)


def _checked(name: str) -> str:
    if not name or len(name) > _MAX_NAME:
        raise MailError("the message key cannot be used as an outbox file name")
    return name + ".eml"


class OutboxTransport:
    """Writes each message as ``<dir>/<key>.eml`` (see ``eml_name``)."""

    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Write the message atomically; an existing file for the same key is replaced.

        Raises:
            MailError: the directory cannot be written.
        """
        data = to_bytes(message)
        path = self.directory / eml_name(message.key)
        try:
            # The files hold participants' addresses: only the owner may read them (the
            # directory and its missing parents 0700; mkstemp makes the file 0600).
            private_dir(self.directory)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".partial", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                crash_point("outbox.before_rename")
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(self.directory)
        except OSError as exc:
            raise MailError(
                f"cannot write to the outbox {self.directory}: {exc.strerror or exc}"
            ) from exc
        log.info("wrote %s (record %s)", path.name, message.record_id or "-")
        return SendReceipt(key=message.key, transport=self.name, detail=str(path))

    def was_sent(self, key: str) -> bool:
        """Whether the ``.eml`` file for ``key`` exists (under its name, or the older one)."""
        return any((self.directory / name(key)).exists() for name in (eml_name, legacy_eml_name))

    def close(self) -> None:
        """Nothing to close."""


def _fsync_dir(directory: Path) -> None:
    # Make the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
