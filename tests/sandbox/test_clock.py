"""The sandbox's clock: REDCap stamps its log in the server's own time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from recruit_cli.errors import UsageError
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import run_sandbox


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14, UTC-11
def test_log_times_are_on_the_configured_clock(zone: str) -> None:
    with run_sandbox(timezone=zone) as sb, RedcapClient(sb.url, sb.token) as client:
        client.import_records([{"record_id": "1", "age": "30"}])
        [entry] = [e for e in client.export_logging() if "record" in e["action"].lower()]
    stamped = datetime.strptime(entry["timestamp"], "%Y-%m-%d %H:%M")
    here = datetime.now(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)
    assert abs(stamped - here) <= timedelta(minutes=2)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(UsageError, match="Mars/Base"), run_sandbox(timezone="Mars/Base"):
        pass
