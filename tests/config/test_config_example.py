"""The example config `recruit init` copies loads, and it and the docs cover every key."""

from __future__ import annotations

import re
from pathlib import Path

from config_samples import TOKEN

from recruit_cli.config import keys_of, load_settings
from recruit_cli.settings import Settings
from recruit_cli.shipped import shipped

DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"


def example_text() -> str:
    return shipped("recruit.example.toml").read_text(encoding="utf-8")


def test_the_example_config_loads(tmp_path: Path) -> None:
    config = tmp_path / "recruit.toml"
    config.write_text(example_text(), encoding="utf-8")
    s = load_settings(config, environ={"REDCAP_API_TOKEN": TOKEN, "HOME": "/h"})
    assert s.redcap.token.reveal() == TOKEN
    assert [c.name for c in s.screening.criteria] == ["age", "travel", "english", "tms"]
    assert [g.name for g in s.groups] == ["HC", "MDD"]
    assert s.qids.total == "qids_score"
    assert s.fields.language == "preferred_language"
    assert s.email.templates_dir == tmp_path / "templates" / "email"


def test_the_example_shows_every_key() -> None:
    text = example_text()
    for key, _ in keys_of(Settings):
        leaf = key.rsplit(".", 1)[-1]
        assert re.search(rf"^#?\s*{leaf}\s*=", text, re.MULTILINE), key


def test_the_docs_describe_every_key() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for key, _ in keys_of(Settings):
        assert f"`{key}`" in docs, key
