"""Shared by the shape conformance tests: a data-dictionary row and the API call type."""

from __future__ import annotations

from collections.abc import Callable

import requests

from recruit_cli.redcap.meta import METADATA_COLUMNS

Api = Callable[..., requests.Response]


def meta(name: str, form: str, ftype: str, label: str = "", **extra: str) -> dict[str, str]:
    row = dict.fromkeys(METADATA_COLUMNS, "")
    row.update(field_name=name, form_name=form, field_type=ftype, field_label=label or name)
    row.update(extra)
    return row
