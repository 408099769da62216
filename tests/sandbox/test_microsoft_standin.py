"""The sandbox's Microsoft stand-in is product code, loaded only when a stand-in starts.

What it serves is exercised through the real msal and the Graph transport in tests/msgraph
and tests/outreach; this file checks where it sits in the package.
"""

from __future__ import annotations

import subprocess
import sys


def test_help_and_the_redcap_sandbox_do_not_load_it() -> None:
    # trustme (and the cryptography it pulls in) must cost nothing to a run that never
    # starts the stand-in: cron's `recruit run`, `recruit --help`, `recruit sandbox serve`.
    code = (
        "import sys\n"
        "import recruit_cli.sandbox\n"
        "from recruit_cli.cli.main import run\n"
        "assert run(['--help']) == 0 and run(['sandbox', 'serve', '--help']) == 0\n"
        "loaded = [m for m in ('recruit_cli.sandbox.microsoft', 'trustme') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
