"""One HTTP exchange, bounded in time and size: the REDCap and Graph clients' only way to read.

requests reads a whole body into memory and its ``timeout`` bounds only the wait for each
next byte. An answer that never ends would grow without limit, and one that drips a byte
every few seconds would never time out. ``fetch`` runs the request streamed and reads the
body chunk by chunk, refusing it once it is larger than ``max_bytes`` (memory stays below
``max_bytes`` plus one chunk), all within ``seconds`` of wall-clock time
(``recruit_cli.deadline.call_within``: headers and connecting included).

Each client maps ``TooSlow`` and ``TooLarge`` to its own errors, naming its settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from recruit_cli.deadline import Expired, call_within

if TYPE_CHECKING:
    import requests

CHUNK = 64 * 1024
MB = 1024 * 1024


class TooSlow(Exception):
    """The exchange did not finish within its seconds (internal to the clients)."""


class TooLarge(Exception):
    """The answer was larger than the cap (internal to the clients).

    ``status`` is the HTTP status the server gave before the body (a 202 is still a 202).
    """

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}: answer over the size cap")
        self.status = status


class _Abandoned(Exception):
    """The caller stopped waiting: the worker drops the answer."""


def max_bytes(megabytes: float) -> int:
    """A ``max_response_mb`` setting in bytes."""
    return int(megabytes * MB)


def fetch(
    send: Callable[[], requests.Response], *, seconds: float, max_bytes: int
) -> requests.Response:
    """Call ``send`` (a request made with ``stream=True``) and read all of its body.

    Returns the response with its body read, so ``.content``, ``.text`` and ``.json()``
    work as usual. ``send``'s own exceptions (connection errors, read timeouts) are raised
    as they are.

    Raises:
        TooSlow: ``seconds`` passed before the last byte arrived.
        TooLarge: the body (as declared, or as read so far) is over ``max_bytes``.
    """
    stop = threading.Event()
    try:
        return call_within(
            seconds, lambda: _read(send, max_bytes, stop), on_expiry=stop.set, name="recruit-http"
        )
    except Expired as exc:
        raise TooSlow() from exc


def _read(
    send: Callable[[], requests.Response], limit: int, stop: threading.Event
) -> requests.Response:
    response = send()
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(response.status_code)
        chunks: list[bytes] = []
        size = 0
        while True:
            if stop.is_set():
                raise _Abandoned()
            # read1: whatever has arrived (at most CHUNK), so a dripping server is noticed
            # between bytes; read() would wait for CHUNK bytes first.
            chunk = _read1(response)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise TooLarge(response.status_code)
            chunks.append(chunk)
    except BaseException:
        response.close()  # drop the connection: the rest of the answer is not wanted
        raise
    # What requests itself stores once it has read a body: .content/.text/.json() use it,
    # and close() then hands the connection back to the pool for the next request.
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]  # requests sets it too
    response.close()
    return response


def _read1(response: requests.Response) -> bytes:
    """One read of the body, with urllib3's errors turned into requests' (as
    ``Response.iter_content`` does), so callers handle one family of exceptions."""
    import requests
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

    try:
        return response.raw.read1(CHUNK, decode_content=True)
    except ProtocolError as exc:  # the connection dropped, or the body was cut short
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except ReadTimeoutError as exc:  # no byte for `timeout` seconds
        raise requests.exceptions.ReadTimeout(exc) from exc
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc
