"""CLI start-up time: `recruit --help` must stay under 0.15 s, a command's `--help` under 0.3 s.

They stay fast because the CLI imports pandas, matplotlib, msal and requests only inside
the commands that need them. This prints the median of several runs of each command, and
which heavy modules a bare `--help` imported (there should be none).

Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 7
# `recruit --help` (issue 9) and `--version` load only the CLI; a command's --help also
# loads that command's module.
BUDGETS_S = {"--help": 0.15, "--version": 0.15}
COMMAND_BUDGET_S = 0.3
HEAVY = ("pandas", "matplotlib", "msal", "requests", "jinja2", "numpy")
RECRUIT = str(Path(sys.executable).with_name("recruit"))


def time_command(args: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([RECRUIT, *args], check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def heavy_imports(args: list[str]) -> list[str]:
    probe = (
        "import contextlib, io, sys\n"
        "from recruit_cli.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    run({args!r})\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return [m for m in last.split(",") if m]


def main() -> None:
    print(f"CLI start-up, median of {RUNS} runs")
    print(f"{'command':<28} {'seconds':>8} {'budget':>7}  {'within':<7} heavy modules imported")
    for args in (["--help"], ["status", "--help"], ["run", "--help"], ["--version"]):
        seconds = time_command(args)
        budget = BUDGETS_S.get(" ".join(args), COMMAND_BUDGET_S)
        ok = "yes" if seconds < budget else "NO"
        heavy = ", ".join(heavy_imports(args)) or "none"
        print(f"{'recruit ' + ' '.join(args):<28} {seconds:>8.3f} {budget:>7.2f}  {ok:<7} {heavy}")


if __name__ == "__main__":
    main()
