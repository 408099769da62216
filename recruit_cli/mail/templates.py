"""E-mail templates: the shipped defaults, a study's overrides, and language variants.

Each kind of e-mail is three files: ``<kind>.subject.j2``, ``<kind>.txt.j2`` and
``<kind>.html.j2``. A language variant inserts the language tag: ``invite.es.txt.j2``.
The shipped defaults live in the repository's ``templates/email/``; a study's
``[email] templates_dir`` is searched first, file by file, so a study can override one file
or all of them.

The language is chosen per *set*: the most specific tag for which all three files exist
(``es-mx``, then ``es``, then the default language, then the unsuffixed set, which is
English). A half-present variant is a configuration error rather than a silent mix of
languages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2

from recruit_cli.errors import TemplateError
from recruit_cli.logs import get_logger
from recruit_cli.shipped import shipped

PARTS = ("subject", "txt", "html")
# The language of the unsuffixed sets: an English speaker gets them even when a study's
# default language is another one.
UNSUFFIXED_LANGUAGE = "en"

_KIND_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_LANG_RE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*\Z")
# Keys compose() provides from settings: a hint when a template needs one that is not set.
_SETTING_FOR_KEY = {"booking_url": "[email] booking_url", "contact_email": "[email] sender"}

log = get_logger("mail.templates")


@dataclass(frozen=True)
class Rendered:
    """One rendered set. ``language`` is the variant used (None: the unsuffixed set)."""

    subject: str
    text: str
    html: str
    language: str | None


def normalise_language(value: str | None) -> str | None:
    """Turn a language value from participant data into a tag, or None if unusable.

    ``" ES_mx "`` becomes ``"es-mx"``. Anything that is not a plain language tag (messy
    data, path tricks) is None, so the default language is used instead of failing.
    """
    if value is None:
        return None
    tag = value.strip().lower().replace("_", "-")
    return tag if _LANG_RE.match(tag) else None


def _autoescape(name: str | None) -> bool:
    # Only the HTML body is HTML; escaping the subject or text body would show "&amp;".
    return name is not None and name.endswith(".html.j2")


def _refuse_none(value: Any) -> Any:
    # A None printed as "None" in a participant's e-mail is a caller bug; fail loudly.
    if value is None:
        raise jinja2.UndefinedError("a value rendered into the template is None")
    return value


def template_name(kind: str, part: str, language: str | None) -> str:
    """``invite.es.txt.j2`` for a language, ``invite.txt.j2`` for the unsuffixed set."""
    return f"{kind}.{language}.{part}.j2" if language else f"{kind}.{part}.j2"


class EmailTemplates:
    """The template environment for one study (its override directory + the shipped set)."""

    def __init__(self, templates_dir: Path | None = None, *, default_language: str = "en") -> None:
        """Build the environment.

        Args:
            templates_dir: The study's own templates, searched before the shipped ones.
            default_language: The variant used when a message's language has none.
        """
        self.templates_dir = templates_dir
        self.default_language = normalise_language(default_language)
        loaders: list[jinja2.BaseLoader] = []
        self._study_loader: jinja2.FileSystemLoader | None = None
        if templates_dir is not None:
            if not templates_dir.is_dir():
                raise TemplateError(
                    "the templates directory does not exist",
                    path=templates_dir,
                    key="email.templates_dir",
                )
            self._study_loader = jinja2.FileSystemLoader(str(templates_dir))
            loaders.append(self._study_loader)
        loaders.append(jinja2.FileSystemLoader(str(shipped("email"))))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            autoescape=_autoescape,
            finalize=_refuse_none,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._names = frozenset(self.env.list_templates(extensions=["j2"]))
        self._study_names = frozenset(
            self._study_loader.list_templates() if self._study_loader else ()
        )

    def names(self) -> frozenset[str]:
        """Every template file name available (study overrides and shipped defaults)."""
        return self._names

    def kinds(self) -> dict[str, list[str | None]]:
        """Each kind and the language variants it has complete sets for (None: unsuffixed)."""
        found: dict[str, set[str | None]] = {}
        for name in self._names:
            pieces = name.split(".")
            if len(pieces) in (3, 4) and pieces[-2] == "subject":
                language = pieces[1] if len(pieces) == 4 else None
                if all(template_name(pieces[0], p, language) in self._names for p in PARTS):
                    found.setdefault(pieces[0], set()).add(language)
        return {k: sorted(v, key=lambda lang: lang or "") for k, v in sorted(found.items())}

    def variant(self, kind: str, language: str | None = None) -> str | None:
        """The language tag of the set used for ``kind`` in ``language`` (None: unsuffixed).

        Raises:
            TemplateError: unknown kind, or a variant with only some of its three files.
        """
        if not _KIND_RE.match(kind):
            raise TemplateError(f"not a valid e-mail kind: {kind!r}")
        for tag in self._candidates(language):
            names = [template_name(kind, part, tag) for part in PARTS]
            present = [name for name in names if name in self._names]
            if len(present) == len(names):
                self._warn_if_shadowed(kind, tag)
                return tag
            if present:
                missing = ", ".join(name for name in names if name not in present)
                raise TemplateError(
                    f"{missing} is missing: a template set needs a subject, a text and an "
                    f"HTML file ({present[0]} exists)",
                    path=self.templates_dir,
                )
        expected = ", ".join(template_name(kind, part, None) for part in PARTS)
        raise TemplateError(
            f"no templates for e-mail kind {kind!r} (expected {expected})",
            path=self.templates_dir,
        )

    def render(
        self, kind: str, context: Mapping[str, Any], *, language: str | None = None
    ) -> Rendered:
        """Render the subject, text and HTML of ``kind``.

        Raises:
            TemplateError: naming the template file and line, for a missing template, a
                syntax error, an undefined variable or any other rendering failure.
        """
        tag = self.variant(kind, language)
        subject, text, html = (
            self._render_one(template_name(kind, part, tag), context) for part in PARTS
        )
        return Rendered(subject=subject, text=text, html=html, language=tag)

    def _candidates(self, language: str | None) -> list[str | None]:
        tags: list[str | None] = []
        for value in (normalise_language(language), self.default_language):
            if value:
                primary = value.split("-", 1)[0]
                tags += [value, primary]
                if primary == UNSUFFIXED_LANGUAGE:
                    tags.append(None)
        tags.append(None)
        return list(dict.fromkeys(tags))

    def _warn_if_shadowed(self, kind: str, tag: str | None) -> None:
        # A study that customised e.g. invite.txt.j2 but not invite.es.txt.j2 sends the
        # shipped Spanish text to Spanish speakers; say so, once per set.
        chosen = {template_name(kind, part, tag) for part in PARTS}
        if self._study_names and not chosen & self._study_names:
            own = sorted(n for n in self._study_names if n.startswith(f"{kind}."))
            if own:
                _warn_once(kind, tag, own[0])

    def _render_one(self, name: str, context: Mapping[str, Any]) -> str:
        filename: str = name
        try:
            template = self.env.get_template(name)
            filename = template.filename or name
            return template.render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"syntax error: {exc.message}", path=exc.filename or name, line=exc.lineno
            ) from exc
        except jinja2.TemplateNotFound as exc:
            raise TemplateError("template not found", path=name) from exc
        except jinja2.UndefinedError as exc:
            message = _withhold_values(exc.message or "undefined value", context)
            for key, setting in _SETTING_FOR_KEY.items():
                if repr(key) in message:
                    message += f" (set {setting})"
            raise TemplateError(
                message, path=filename, line=_line_in(exc.__traceback__, filename)
            ) from exc
        except Exception as exc:  # a filter or test failed inside the template
            # Only the type: an exception's text could quote a participant's value.
            raise TemplateError(
                f"rendering failed: {type(exc).__name__}",
                path=filename,
                line=_line_in(exc.__traceback__, filename),
            ) from exc


def _withhold_values(message: str, context: Mapping[str, Any]) -> str:
    # "'dict object' has no attribute '<key>'" can quote a value used as a key.
    for value in context.values():
        if isinstance(value, str) and value and value in message:
            message = message.replace(value, "<value withheld>")
    return message


def _line_in(tb: TracebackType | None, filename: str) -> int | None:
    """The template line of a rendering error: Jinja rewrites tracebacks to template lines."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@lru_cache(maxsize=64)
def _warn_once(kind: str, tag: str | None, own: str) -> None:
    log.warning(
        "the study templates override %s but not the %s set for %s; the shipped one is used",
        own,
        tag or "default",
        kind,
    )


@lru_cache(maxsize=16)
def get_templates(templates_dir: Path | None, default_language: str) -> EmailTemplates:
    """The (cached) templates of a study; compose() calls this for every message."""
    return EmailTemplates(templates_dir, default_language=default_language)
