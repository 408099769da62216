"""What comes from outside the file: secrets, the state directory, and relative paths.

Secrets are read from the environment variables the config names (``token_env``,
``password_env``, ``client_secret_env``), falling back to a ``.env`` file beside the config.
The real environment wins over ``.env``; ``os.environ`` is never modified.
"""

from __future__ import annotations

import dataclasses
import io
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from recruit_cli.config.convert import secret_env_field
from recruit_cli.errors import ConfigError
from recruit_cli.settings import Secret, Settings

D = TypeVar("D")

STATE_DIR_ENV = "RECRUIT_STATE_DIR"
CONFIG_ENV = "RECRUIT_CONFIG"


def merged_environment(
    config_path: Path | None, environ: Mapping[str, str] | None
) -> dict[str, str]:
    """``.env`` beside the config, overlaid by the real environment (which wins)."""
    real = dict(os.environ if environ is None else environ)
    if config_path is None:
        return real
    dotenv_file = config_path.absolute().parent / ".env"
    if not dotenv_file.is_file():
        return real
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    text = dotenv_file.read_text(encoding="utf-8", errors="replace")
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            # python-dotenv would only log a warning without the file, and the secret on
            # that line would silently be missing. The line itself is never echoed.
            raise ConfigError(
                "this line cannot be read (expected NAME=value)",
                path=dotenv_file,
                line=binding.original.line,
            )
    from_file = {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}
    return {**from_file, **real}


def fill_secrets(obj: D, env: Mapping[str, str]) -> D:
    """Set every ``Secret`` field from the variable its ``<name>_env`` sibling names."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return obj
    hints = typing.get_type_hints(type(obj))
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if hints[f.name] is Secret:
            variable = getattr(obj, secret_env_field(f.name), "")
            secret = env.get(variable, "").strip() if variable else ""
            changes[f.name] = Secret(secret)
        elif dataclasses.is_dataclass(value):
            changes[f.name] = fill_secrets(value, env)
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            changes[f.name] = tuple(fill_secrets(item, env) for item in value)
    return dataclasses.replace(obj, **changes) if changes else obj


def resolve_paths(obj: D, base: Path) -> D:
    """Make every relative ``Path`` field relative to ``base`` (the config's directory)."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return obj
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, Path):
            if f.name != "path" and not value.is_absolute():
                changes[f.name] = base / value
        elif dataclasses.is_dataclass(value):
            changes[f.name] = resolve_paths(value, base)
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            changes[f.name] = tuple(resolve_paths(item, base) for item in value)
    return dataclasses.replace(obj, **changes) if changes else obj


def state_dir(
    settings: Settings, env: Mapping[str, str], *, in_file: bool, base: Path | None
) -> Path:
    """$RECRUIT_STATE_DIR > ``state_dir`` in the file > $XDG_STATE_HOME/recruit >
    ~/.local/state/recruit."""
    override = env.get(STATE_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    if in_file:
        path = settings.state_dir
        return path if path.is_absolute() or base is None else base / path
    xdg = env.get("XDG_STATE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative values
        return Path(xdg) / "recruit"
    home = env.get("HOME", "").strip()
    return (Path(home) if home else Path.home()) / ".local" / "state" / "recruit"
