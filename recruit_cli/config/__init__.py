"""Load ``recruit.toml`` into the frozen Settings tree: file + environment + ``.env``, validated.

Lookup: ``--config PATH`` > ``$RECRUIT_CONFIG`` > ``./recruit.toml``. Every problem is a
``ConfigError`` (exit 3) naming the file, the dotted key and, where it can be found, the line.
Secrets never come from the file: the REDCap token, the SMTP password and the Graph client
secret are read from the environment variables the file names, or from a ``.env`` beside
the config (the real environment wins). A missing token is not a load error, because
commands that don't talk to REDCap must still work; ``require_token`` raises when needed.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recruit_cli.config.convert import Context, build, keys_of
from recruit_cli.config.environment import (
    CONFIG_ENV,
    STATE_DIR_ENV,
    fill_secrets,
    merged_environment,
    resolve_paths,
    state_dir,
)
from recruit_cli.config.lines import LineIndex
from recruit_cli.config.validate import validate
from recruit_cli.errors import ConfigError
from recruit_cli.settings import Settings

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_NAME",
    "STATE_DIR_ENV",
    "find_config",
    "keys_of",
    "load_settings",
    "require_token",
    "settings_from_mapping",
]

DEFAULT_NAME = "recruit.toml"
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def find_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """The config file to use: ``path`` > ``$RECRUIT_CONFIG`` > ``./recruit.toml``.

    Raises:
        ConfigError: the named file does not exist, or none was found.
    """
    env = os.environ if environ is None else environ
    if path is not None:
        if path.is_dir() and (path / "recruit.toml").is_file():
            path = path / "recruit.toml"  # --config STUDY_DIR: the file recruit init made
        if not path.is_file():
            what = "is a directory with no recruit.toml" if path.is_dir() else "not found"
            raise ConfigError(f"config file {what} (from --config)", path=path)
        return path
    from_env = env.get(CONFIG_ENV, "").strip()
    if from_env:
        candidate = Path(from_env).expanduser()
        if not candidate.is_file():
            raise ConfigError(f"config file not found (from ${CONFIG_ENV})", path=candidate)
        return candidate
    local = Path(DEFAULT_NAME)
    if local.is_file():
        return local
    raise ConfigError(
        "no configuration: pass --config, set RECRUIT_CONFIG, or create ./recruit.toml "
        "(recruit init)"
    )


def load_settings(path: Path | None, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Find, read, parse and validate the configuration.

    Args:
        path: The ``--config`` value, or None to look up $RECRUIT_CONFIG then ./recruit.toml.
        environ: Stands in for ``os.environ`` (tests); the real environment when None.

    Raises:
        ConfigError: anything wrong with the file or its values (exit 3).
    """
    found = find_config(path, environ)
    try:
        text = found.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config file: {type(exc).__name__}", path=found) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        position = _TOML_POSITION.search(str(exc))
        line = int(position.group(1)) if position else None
        raise ConfigError(f"not valid TOML: {exc}", path=found, line=line) from exc
    return _build(data, path=found, text=text, environ=environ)


def settings_from_mapping(
    data: Mapping[str, Any],
    *,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build and validate Settings from a dict shaped like a parsed recruit.toml.

    Args:
        data: The parsed TOML (tables as dicts, arrays of tables as lists of dicts).
        path: The file it came from, for messages, relative paths and the ``.env`` beside
            it; when it exists its text is scanned to put line numbers in errors.
        environ: Stands in for ``os.environ`` (tests); the real environment when None.
    """
    text = ""
    if path is not None and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""  # line numbers are best effort
    return _build(data, path=path, text=text, environ=environ)


def require_token(settings: Settings) -> str:
    """The REDCap API token, or a ConfigError saying where to put it (exit 3)."""
    token = settings.redcap.token.reveal()
    if not token:
        variable = settings.redcap.token_env
        raise ConfigError(
            f"REDCap API token missing: set {variable} "
            f"(environment or .env beside {settings.path.name if settings.path else DEFAULT_NAME})"
        )
    return token


def _build(
    data: Mapping[str, Any], *, path: Path | None, text: str, environ: Mapping[str, str] | None
) -> Settings:
    ctx = Context(path=path, lines=LineIndex(text))
    settings = build(Settings, data, ctx, path=path)
    base = path.absolute().parent if path is not None else None
    if base is not None:
        settings = resolve_paths(settings, base)
    env = merged_environment(path, environ)
    settings = fill_secrets(settings, env)
    settings = dataclasses.replace(
        settings, state_dir=state_dir(settings, env, in_file="state_dir" in data, base=base)
    )
    validate(settings, ctx)
    return settings
