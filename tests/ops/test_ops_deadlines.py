"""A slow REDCap or mail service can't hold `recruit run` (and its lock) past its bounds.

Each server here answers at once and then sends one byte every half second, for ever: no
read timeout ever fires. The run must still end, with exit 4 and a message naming the
setting that bounded it, and leave the lock free for the next cycle. The real CLI runs in a
subprocess (``timeout=`` is only a hang guard); nothing here measures time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hostile_servers import Drip, HostileRedcap, call, dripping_http, dripping_smtp
from ops_support import ping_server, write_study

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.microsoft import run_microsoft_sandbox

HANG_GUARD = 90  # seconds: far beyond every bound set below


def recruit(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
    return subprocess.run(
        [sys.executable, "-m", "recruit_cli", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**clean, **(env or {})},
    )


def redcap_keys(**keys: object) -> Callable[[str], str]:
    """An edit of the demo configuration adding keys to its [redcap] table."""
    lines = "".join(f"\n{k} = {v}" for k, v in keys.items())

    def edit(text: str) -> str:
        line = 'token_env = "REDCAP_API_TOKEN"'
        return text.replace(line, line + lines, 1)

    return edit


def statuses(sb: Sandbox) -> dict[str, str]:
    with RedcapClient(sb.url, sb.token, record_id_field="record_id") as client:
        rows = client.export_records(fields=["record_id", "pipeline_processing_status"])
    return {r["record_id"]: r["pipeline_processing_status"] for r in rows}


def test_a_dripping_redcap_ends_the_run_at_its_bound_and_the_next_cycle_runs(
    tmp_path: Path,
) -> None:
    with (
        run_sandbox(demo=12) as sb,
        HostileRedcap(sb.url) as proxy,
        ping_server() as (ping_url, pings),
    ):
        proxy.on(call("record", "export"), Drip())
        config = write_study(
            tmp_path,
            proxy.url,
            sb.token,
            extra=f'\n[ops]\nmax_run_minutes = 0.05\nhealthcheck_url = "{ping_url}"\n',
        )
        stuck = recruit(config, "run")
        assert stuck.returncode == 4, stuck.stderr
        assert (
            "(content=record action=export): not done when the run reached its time bound "
            "([ops] max_run_minutes = 0.05)" in stuck.stderr
        )
        assert "skipped: the run reached its time bound" in stuck.stderr
        assert set(statuses(sb).values()) == {""}  # nothing was written
        # The failure reached stderr (cron's MAILTO) and the monitor; the lock is free:
        # once REDCap answers again, the next cycle takes the lock and does its work.
        assert pings == ["/ping/check-uuid/start", "/ping/check-uuid/4"]
        proxy.rules.clear()
        after = recruit(config, "run")
        assert after.returncode == 0, after.stderr
        assert "another recruit run" not in after.stderr
        assert "eligible_invited" in statuses(sb).values()  # the whole pipeline ran
        assert pings[2:] == ["/ping/check-uuid/start", "/ping/check-uuid/0"]


def test_a_redcap_request_past_its_own_bound_is_retried_then_reported(tmp_path: Path) -> None:
    with run_sandbox(demo=5) as sb, HostileRedcap(sb.url) as proxy:
        proxy.on(call("record", "export"), Drip())
        edit = redcap_keys(max_request_seconds=1, retries=1, retry_max_wait=0)
        config = write_study(tmp_path, proxy.url, sb.token, edit=edit)
        done = recruit(config, "run")
    assert done.returncode == 4, done.stderr
    assert "no complete answer within [redcap] max_request_seconds = 1; tried 2 times" in (
        done.stderr
    )
    exports = [c for c in proxy.calls if call("record", "export")(c)]
    assert len(exports) == 2  # one retry, then the later steps are skipped


def test_a_dripping_smtp_server_ends_the_send_at_its_bound(tmp_path: Path) -> None:
    with run_sandbox(demo=30) as sb, dripping_smtp() as (port, commands):
        smtp = (
            f'[email.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            "max_send_seconds = 1\n\n[report]"
        )

        def to_smtp(text: str) -> str:
            text = text.replace('transport = "outbox"', 'transport = "smtp"')
            return text.replace("[report]", smtp)

        config = write_study(tmp_path, sb.url, sb.token, edit=to_smtp)
        done = recruit(config, "run")
        held = statuses(sb)
    assert done.returncode == 4, done.stderr
    assert "no answer within [email.smtp] max_send_seconds = 1" in done.stderr
    assert "was not sent" in done.stderr
    assert commands.count("MAIL") == 1  # the mail steps after the stuck one were skipped
    assert "eligible_id_assigned" in held.values()  # assign (REDCap only) still ran
    assert not {"eligible_invited", "ineligible_notified"} & set(held.values())


def test_a_dripping_graph_ends_the_send_at_its_bound(tmp_path: Path) -> None:
    with (
        run_sandbox(demo=30) as sb,
        run_microsoft_sandbox() as fake,
        dripping_http() as (endpoint, paths),
    ):
        graph = (
            "[email.graph]\n"
            'mode = "app"\n'
            'mailbox = "study-team@example.org"\n'
            f'client_id = "{fake.client_id}"\n'
            f'tenant_id = "{fake.tenant_id}"\n'
            f'authority_host = "{fake.authority_host}"\n'
            f'endpoint = "{endpoint}"\n'
            f'ca_bundle = "{fake.ca_bundle}"\n'
            "retries = 0\n"
            "max_request_seconds = 1\n\n[report]"
        )

        def to_graph(text: str) -> str:
            text = text.replace('transport = "outbox"', 'transport = "graph"')
            return text.replace("[report]", graph)

        config = write_study(tmp_path, sb.url, sb.token, edit=to_graph)
        done = recruit(config, "run", env={"RECRUIT_GRAPH_CLIENT_SECRET": fake.client_secret})
        held = statuses(sb)
    assert done.returncode == 4, done.stderr
    assert "delivery uncertain" in done.stderr
    assert "no whole answer within [email.graph] max_request_seconds = 1" in done.stderr
    assert len([p for p in paths if p.endswith("/sendMail")]) == 1
    assert not {"eligible_invited", "ineligible_notified"} & set(held.values())
