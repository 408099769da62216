"""recruit: research-participant recruitment for studies that keep their data in REDCap."""

__version__ = "0.1.0"
