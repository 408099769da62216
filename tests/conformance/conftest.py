"""Helpers for the shape conformance tests: raw form-encoded API calls over loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from conformance_helpers import Api

from recruit_cli.sandbox import Sandbox


@pytest.fixture
def api() -> Api:
    """``api(sb, content=..., **params)``: one POST with the sandbox's token; a list or
    dict ``data`` is sent as JSON with format=json."""

    def call(sb: Sandbox, **params: Any) -> requests.Response:
        if isinstance(params.get("data"), list | dict):
            params["data"] = json.dumps(params["data"])
            params.setdefault("format", "json")
        return requests.post(sb.url, data={"token": sb.token, **params}, timeout=30)

    return call
