"""The REDCap API client (``client.RedcapClient``) and typed data-dictionary rows."""

from __future__ import annotations

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.redcap.meta import FieldMeta, parse_choices

__all__ = ["FieldMeta", "RedcapClient", "parse_choices"]
