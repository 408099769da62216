"""The weekly enrollment report: aggregation (pandas), charts (matplotlib), HTML/JSON/CSV.

``build_report`` fetches and computes the numbers, ``report_pass`` is the whole command
(write the file, e-mail it). Importing this package does not import pandas or matplotlib.
"""

from recruit_cli.report.run import build_report, report_file, report_pass

__all__ = ["build_report", "report_file", "report_pass"]
