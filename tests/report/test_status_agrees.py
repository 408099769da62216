"""`recruit status` and the report count study IDs the same way, under the same name.

Issue 14: status said "IDs used: 158", the report "ID assigned: 156" (and called it
enrolled), because records moved to review keep their ID. Both now say "study IDs issued"
for records holding one, whatever their status; the report's flow keeps its eligible-with-
ID line under another name, and nothing is called enrollment (recruit does not know who
consented).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from recruit_cli.cli.environment import Environment
from recruit_cli.cli.render import render_status
from recruit_cli.config import load_settings
from recruit_cli.ops.demo import demo_config_text
from recruit_cli.ops.status import status_report
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.report.render import render
from recruit_cli.report.run import build_report
from recruit_cli.sandbox import Sandbox

NOW = datetime.now(UTC)
STAMP = NOW.isoformat(timespec="seconds")


def _record(rid: str, status: str, study_id: str = "", group: str = "") -> dict[str, str]:
    return {
        "record_id": rid,
        "pipeline_processing_status": status,
        "assigned_study_id": study_id,
        "pipeline_group": group,
        "pipeline_screened_timestamp": STAMP,
    }


def test_status_and_report_agree_on_study_ids_issued(sandbox: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "recruit.toml"
    config.write_text(demo_config_text(sandbox.url), encoding="utf-8")
    settings = load_settings(config, environ={"REDCAP_API_TOKEN": sandbox.token})
    with RedcapClient(sandbox.url, sandbox.token) as client:
        client.import_records(
            [
                _record("1", "eligible_invited", "3000", "HC"),
                _record("2", "eligible_id_assigned", "3001", "HC"),
                # Moved to review after its invitation (do-not-contact): it keeps its ID.
                _record("3", "manual_review_required", "3002", "HC"),
                _record("4", "eligible"),
            ]
        )
        status = status_report(settings, client)
        data = build_report(settings, client, since=NOW.date(), until=NOW.date(), now=NOW)

    hc_status = next(g for g in status.groups if g.name == "HC")
    hc_target = next(t for t in data.targets if t.group == "HC")
    assert hc_status.ids_used == hc_target.issued == 3
    assert hc_status.target == hc_target.target == 60
    # The flow's line is the eligible part, and says so.
    with_id = data.flow_line("id_assigned", "HC")
    assert with_id is not None and with_id.cumulative == 2
    assert with_id.label == "With study ID: Healthy control"

    out = io.StringIO()
    render_status(Environment(stdout=out), status)
    table = out.getvalue()
    assert "study IDs issued" in table and "IDs used" not in table
    html = render(data, "html").decode()
    doc = json.loads(render(data, "json"))
    assert "Study IDs issued against target" in html
    assert [t["ids_issued"] for t in doc["targets"] if t["group"] == "HC"] == [3]
    for text in (table, html, json.dumps(doc)):
        assert "nrolled" not in text  # "Enrolled" / "enrolled": not what recruit knows
