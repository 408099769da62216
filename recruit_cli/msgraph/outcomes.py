"""What the `recruit auth` commands return besides the sign-in status (``SignInStatus``).

Each is a ``results.Details``: typed here, drawn by ``cli.render``, merged into the JSON
envelope's ``data`` under the keys ``to_dict`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TokenCheck:
    """`recruit auth test`: a token came without interaction; and the test message's fate."""

    token: str = "acquired silently"
    test_message: str | None = None  # the transport's receipt, when --to asked for one

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"token": self.token}
        if self.test_message is not None:
            out["test message"] = self.test_message
        return out


@dataclass(frozen=True)
class SignOut:
    """`recruit auth logout`: how many accounts left which token cache."""

    accounts_removed: int
    cache_path: Path

    def to_dict(self) -> dict[str, Any]:
        return {"accounts_removed": self.accounts_removed, "cache_path": str(self.cache_path)}
