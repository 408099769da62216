"""Health-check pings, healthchecks.io style: ``<url>/start``, then ``<url>/<exit status>``.

A ping is best effort: a monitoring outage must never fail or delay a recruitment run by
more than a few seconds, so errors are logged at debug level and swallowed.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

TIMEOUT = 5.0


def ping(base_url: str, suffix: str) -> None:
    """GET ``<base_url>/<suffix>``; do nothing when no URL is configured."""
    if not base_url:
        return
    import requests

    url = f"{base_url.rstrip('/')}/{suffix}"
    try:
        requests.get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        # The URL holds the check's secret UUID, so it is not logged.
        log.debug("health-check ping %s failed: %s", suffix, type(exc).__name__)
