"""One definition of the reason codes recruit writes (``recruit_cli.reasons``).

What reads the reasons field back (status, the report) shows only known codes, so a code a
pass writes that is missing from the registry would be counted as "other". This keeps the
registry complete: every ``"<code>: ..."`` string the passes write is in it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from recruit_cli import reasons
from recruit_cli.config import settings_from_mapping
from recruit_cli.errors import ConfigError

PACKAGE = Path(reasons.__file__).parent
# "<code>: " strings in the passes that are not reasons written to REDCap: the skip detail
# of an acknowledged alert, an action detail, a field's description, and the commands'
# names that start their notices and log lines.
NOT_REASONS = {"acknowledged", "range_exhausted", "code"}
NOT_REASONS |= {"screen", "assign", "alert", "invite", "notify"}
_LITERAL = re.compile(r"""f?["']([a-z][a-z0-9_]*): """)


def test_every_code_the_passes_write_is_registered() -> None:
    found: dict[str, str] = {}
    for area in ("screening", "outreach"):
        for path in sorted((PACKAGE / area).glob("*.py")):
            for code in _LITERAL.findall(path.read_text(encoding="utf-8")):
                found.setdefault(code, path.name)
    assert found, "the scan found nothing: the pattern no longer matches the sources"
    missing = {c: where for c, where in found.items() if c not in reasons.OWN_CODES | NOT_REASONS}
    assert missing == {}


def test_codes_keeps_known_ones_and_folds_the_rest_into_other() -> None:
    known = frozenset({"age", "qids_invalid"})
    text = "age: too young\n\nJane called: said no\nqids_invalid: blank\nfoo: bar\nage: again"
    assert reasons.codes(text, known) == ("age", "other", "qids_invalid")
    assert reasons.codes("", known) == ()


def test_known_codes_are_the_configured_criteria_and_recruits_own() -> None:
    settings = settings_from_mapping(
        {
            "study": {"name": "Test study"},
            "redcap": {"url": "https://redcap.example.edu/api/"},
            "screening": {"criteria": [{"name": "adult", "require": "[age] >= 18", "reason": "x"}]},
            "safety": {"when": "[q] >= 2", "name": "risk"},
        },
        environ={},
    )
    known = reasons.known_codes(settings)
    assert {"adult", "unevaluable_adult", "risk", "between_groups"} <= known
    assert reasons.OTHER not in known and "age" not in known


def test_a_criterion_cannot_take_a_reserved_name() -> None:
    for name in sorted(reasons.RESERVED):
        criterion = {"name": name, "require": "[age] >= 18", "reason": "x"}
        data = {
            "study": {"name": "Test study"},
            "redcap": {"url": "https://redcap.example.edu/api/"},
            "screening": {"criteria": [criterion]},
        }
        with pytest.raises(ConfigError, match="reserved"):
            settings_from_mapping(data, environ={})
