"""Where the shipped templates are: the repository's ``templates/`` folder.

A coordinator looks for the wording of the e-mails at the top of the repository, so the
templates live in ``templates/`` there, not inside the package. The wheel carries them as
``recruit_cli/templates/`` (``pyproject.toml`` maps the folder into the package); a source
checkout or an editable install reads them from the repository itself.
"""

from __future__ import annotations

from pathlib import Path

from recruit_cli.errors import TemplateError

_PACKAGE = Path(__file__).resolve().parent
# In a wheel, inside the package; in a checkout or an editable install, beside it.
_CANDIDATES = (_PACKAGE / "templates", _PACKAGE.parent / "templates")


def shipped_templates() -> Path:
    """The folder holding ``email/``, ``report/``, ``demo/`` and ``recruit.example.toml``.

    Raises:
        TemplateError: neither place holds them (a broken installation).
    """
    for candidate in _CANDIDATES:
        if (candidate / "email").is_dir() and (candidate / "report").is_dir():
            return candidate
    raise TemplateError(
        "the shipped templates are missing from this installation "
        f"(looked in {', '.join(str(c) for c in _CANDIDATES)}): reinstall recruit"
    )


def shipped(*parts: str) -> Path:
    """A path inside the shipped templates, e.g. ``shipped("email")``."""
    return shipped_templates().joinpath(*parts)
