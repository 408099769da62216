"""Health-check pings, healthchecks.io style: ``<url>/start``, then ``<url>/<exit status>``.

A ping is best effort: a monitoring outage must never fail or delay a recruitment run by
more than a few seconds, so errors are swallowed. They are logged at INFO (the --log-file
audit trail, not stderr: under cron every line on stderr is an e-mail), so a mistyped URL
can be found there; the monitor itself notices the missing pings.
"""

from __future__ import annotations

from recruit_cli.logs import get_logger

log = get_logger("ops.healthcheck")

TIMEOUT = 5.0  # seconds for the whole ping
MAX_ANSWER = 64 * 1024  # healthchecks answers "OK"


def ping(base_url: str, suffix: str) -> None:
    """GET ``<base_url>/<suffix>``; do nothing when no URL is configured."""
    if not base_url:
        return
    import requests

    from recruit_cli.bounded_http import TooLarge, TooSlow, fetch

    url = f"{base_url.rstrip('/')}/{suffix}"
    try:
        # Bounded as a whole, not only per read: a monitor that drips its answer must not
        # hold the run (and its lock) either.
        response = fetch(
            lambda: requests.get(url, timeout=TIMEOUT, stream=True),
            seconds=TIMEOUT,
            max_bytes=MAX_ANSWER,
        )
    except (requests.RequestException, TooSlow, TooLarge) as exc:
        # The URL holds the check's secret UUID, so it is not logged.
        log.info("health-check ping %s failed: %s", suffix, type(exc).__name__)
        return
    if not response.ok:  # e.g. 404: no check with that UUID
        log.info("health-check ping %s answered HTTP %d", suffix, response.status_code)
