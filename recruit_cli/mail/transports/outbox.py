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
    """The file name for ``key``: ``"12:invite:1"`` -> ``"12_invite_1.eml"``.

    ``:`` becomes ``_``; any other character outside ``[A-Za-z0-9.-]`` (``_`` included) is
    written as ``%XX``, so two different keys never share a file.

    Raises:
        MailError: the key is empty or too long for a file name.
    """
    out = []
    for i, ch in enumerate(key):
        if ch == ":":
            out.append("_")
        elif _SAFE.match(ch) and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8"))
    name = "".join(out)
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
        """Whether the ``.eml`` file for ``key`` exists."""
        return (self.directory / eml_name(key)).exists()

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
