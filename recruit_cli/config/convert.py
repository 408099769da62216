"""Parsed TOML -> the frozen Settings tree, driven by the dataclasses' type hints.

Nothing here knows a particular key: a new Settings field (str, int, float, bool, Path,
``Logic``, ``X | None``, ``tuple[X, ...]``, a nested dataclass, or a tuple of dataclasses
for ``[[arrays]]``) is loaded, type-checked and reported on without new loader code.
A ``Logic`` field is a rule: its string is parsed here, once, so a rule that doesn't parse
fails the load with its key and line; an optional rule (``Logic | None``) left blank is
no rule.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, Union

from recruit_cli.config.lines import KeyPath, LineIndex, dotted
from recruit_cli.errors import ConfigError, LogicError
from recruit_cli.logic import Logic, parse
from recruit_cli.settings import Group, Secret, Settings

D = TypeVar("D")

# Keys that look like credentials: refused wherever they appear, with a pointer to the env.
SECRET_KEY = re.compile(r"(^|_)(token|password|passwd|secret|api_?key)$")
# A field that is not read from the file at all (set by the loader).
NOT_CONFIGURABLE: dict[type, frozenset[str]] = {Settings: frozenset({"path"})}
# Required fields that fall back to another key of the same table when missing.
DERIVED_DEFAULTS: dict[tuple[type, str], str] = {(Group, "label"): "name"}


@dataclass(frozen=True)
class Context:
    """Where the data came from, to make errors name file, key and line."""

    path: Path | None = None
    lines: LineIndex = dataclasses.field(default_factory=LineIndex)

    def error(self, message: str, at: KeyPath) -> ConfigError:
        return ConfigError(
            message, path=self.path, key=dotted(at) or None, line=self.lines.find(at)
        )


def secret_env_field(name: str) -> str:
    """The sibling key naming a secret's environment variable: ``token`` -> ``token_env``."""
    return f"{name}_env"


def build(cls: type[D], data: Any, ctx: Context, at: KeyPath = (), **given: Any) -> D:
    """Make ``cls`` from a parsed TOML table; ``given`` supplies non-file fields."""
    if not isinstance(data, Mapping):
        raise ctx.error(f"expected {describe(cls, at)}, got {toml_type(data)}", at)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    settable = set(fields) - NOT_CONFIGURABLE.get(cls, frozenset()) - set(given)
    for key in data:
        if key not in settable:
            raise _unknown(str(key), sorted(settable), data, ctx, (*at, str(key)), cls)
    values: dict[str, Any] = dict(given)
    # Fields with a derived default come last, after the key they default to.
    for name in sorted(settable, key=lambda n: ((cls, n) in DERIVED_DEFAULTS, n)):
        hint = hints[name]
        if hint is Secret:
            if name in data:
                raise _secret_in_file(name, data, ctx, (*at, name), cls)
            continue
        if name in data:
            values[name] = convert(hint, data[name], ctx, (*at, name))
        elif _is_required(fields[name]):
            source = DERIVED_DEFAULTS.get((cls, name))
            if source is not None and source in values:
                values[name] = values[source]
                continue
            if dataclasses.is_dataclass(hint):
                raise ctx.error(f"missing required table [{dotted((*at, name))}]", (*at, name))
            raise ctx.error(f"missing required key '{name}'", (*at, name))
    return cls(**values)


def convert(hint: Any, value: Any, ctx: Context, at: KeyPath) -> Any:
    """Check and convert one TOML value to the type ``hint`` names."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if Logic in options and isinstance(value, str) and not value.strip():
            return None  # an optional rule left blank: no rule
        errors: list[ConfigError] = []
        for option in options:
            try:
                return convert(option, value, ctx, at)
            except ConfigError as exc:
                errors.append(exc)
        if len(options) == 1:
            raise errors[0]
        raise ctx.error(f"expected {describe(hint, at)}, got {toml_type(value)}", at)
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ctx.error(f"expected {describe(hint, at)}, got {toml_type(value)}", at)
        return tuple(convert(item_type, item, ctx, (*at, i)) for i, item in enumerate(value))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return build(hint, value, ctx, at)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint is Path:
        if isinstance(value, str):
            if not value.strip():
                raise ctx.error("expected a path, got an empty string", at)
            return Path(value).expanduser()
    elif hint is Logic:
        if isinstance(value, str):
            return _rule(value, ctx, at)
    else:  # a type this loader has not been taught: a programming error, not bad input
        raise TypeError(f"config loader cannot convert {hint!r} ({dotted(at)})")
    raise ctx.error(f"expected {describe(hint, at)}, got {toml_type(value)}", at)


def _rule(text: str, ctx: Context, at: KeyPath) -> Logic:
    if not text.strip():
        raise ctx.error("the rule is empty", at)
    try:
        return parse(text)
    except LogicError as exc:  # its message names the position within the rule
        raise ctx.error(f"the rule does not parse: {exc}", at) from exc


def describe(hint: Any, at: KeyPath = ()) -> str:
    """A person's name for a type: 'an integer', 'an array of strings', 'a table [study]'."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return " or ".join(describe(o, at) for o in options)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if isinstance(item, type) and dataclasses.is_dataclass(item):
            return f"an array of tables ([[{dotted(at)}]])"
        return "an array of " + _plural(describe(item))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return f"a table ([{dotted(at)}])" if at else "a table"
    names = {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        Path: "a path (a string)",
        Logic: "a rule (REDCap logic, a string)",
    }
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _plural(text: str) -> str:
    word = text.split(" ", 1)[1] if text.startswith(("a ", "an ")) else text
    if word.startswith("array of "):  # an array of arrays of strings
        return "arrays of " + word.removeprefix("array of ")
    return {"true or false": "booleans", "path (a string)": "paths"}.get(word, word + "s")


def toml_type(value: Any) -> str:
    """What the file actually holds, in TOML's words (never the value itself)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return "a date/time" if hasattr(value, "isoformat") else type(value).__name__


def keys_of(cls: type, prefix: str = "") -> list[tuple[str, Any]]:
    """Every configurable dotted key of ``cls`` with its type hint (docs and tests use it)."""
    hints = typing.get_type_hints(cls)
    out: list[tuple[str, Any]] = []
    for f in dataclasses.fields(cls):
        if f.name in NOT_CONFIGURABLE.get(cls, frozenset()) or hints[f.name] is Secret:
            continue
        key = f"{prefix}{f.name}"
        hint = hints[f.name]
        item = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else None
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            out.extend(keys_of(hint, key + "."))
        elif isinstance(item, type) and dataclasses.is_dataclass(item):
            out.extend(keys_of(item, key + "."))
        else:
            out.append((key, hint))
    return out


def _is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _unknown(
    key: str, known: list[str], data: Mapping[str, Any], ctx: Context, at: KeyPath, cls: type
) -> ConfigError:
    if SECRET_KEY.search(key):
        hints = typing.get_type_hints(cls)
        secrets = [name for name, hint in hints.items() if hint is Secret]
        return _secret_in_file(secrets[0] if len(secrets) == 1 else None, data, ctx, at, cls)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    where = f"in [{dotted(at[:-1])}]" if len(at) > 1 else "at the top level"
    return ctx.error(f"unknown key '{key}' {where}{hint}", at)


def _secret_in_file(
    secret: str | None, data: Mapping[str, Any], ctx: Context, at: KeyPath, cls: type
) -> ConfigError:
    """The error for a credential written into the file, naming where it should live."""
    env_name: Any = None
    if secret is not None:
        env_key = secret_env_field(secret)
        env_name = data.get(env_key)
        if not isinstance(env_name, str) or not env_name:
            defaults = {f.name: f.default for f in dataclasses.fields(cls)}
            env_name = defaults.get(env_key)
    if isinstance(env_name, str) and env_name:
        advice = f"set the environment variable {env_name} (or put it in .env beside the config)"
    else:
        advice = "set it as an environment variable (or in .env beside the config)"
    return ctx.error(f"secrets don't belong in the config file; {advice}", at)
