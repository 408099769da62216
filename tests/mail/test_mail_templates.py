"""Templates: every shipped set renders, overrides win, languages fall back, errors name lines."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import jinja2
import jinja2.meta
import pytest
from mail_support import BOOKING_URL, SAMPLE_CONTEXT, SENDER, make_settings

from recruit_cli.errors import TemplateError
from recruit_cli.mail.compose import compose
from recruit_cli.mail.templates import EmailTemplates, normalise_language

SHIPPED = EmailTemplates()
BASE = {"study_name": "Demo TMS-EEG study", "booking_url": BOOKING_URL, "contact_email": SENDER}
ALL_SETS = [(kind, lang) for kind, langs in SHIPPED.kinds().items() for lang in langs]

# Words that would tell anyone glancing at a subject line what the study is about.
DESCRIPTORS = [
    "depress", "mdd", "tms", "magnetic", "eeg", "suicid", "mental", "psychiat", "mood",
    "qids", "eligib", "stimulation", "brain", "demo",
]  # fmt: skip


def _source(name: str) -> str:
    loader = SHIPPED.env.loader
    assert loader is not None
    return loader.get_source(SHIPPED.env, name)[0]


def _variables(kind: str, lang: str | None) -> set[str]:
    found: set[str] = set()
    for part in ("subject", "txt", "html"):
        name = f"{kind}.{lang}.{part}.j2" if lang else f"{kind}.{part}.j2"
        found |= jinja2.meta.find_undeclared_variables(SHIPPED.env.parse(_source(name)))
    return found


def test_the_shipped_sets_are_the_expected_ones() -> None:
    assert SHIPPED.kinds() == {
        "ineligible": [None, "es"],
        "invite": [None, "es"],
        "report": [None],
        "safety_alert": [None],
    }


@pytest.mark.parametrize(("kind", "lang"), ALL_SETS)
def test_every_shipped_template_renders(kind: str, lang: str | None) -> None:
    rendered = SHIPPED.render(kind, {**BASE, **SAMPLE_CONTEXT[kind]}, language=lang)
    assert rendered.language == lang
    assert rendered.subject.strip() and "\n" not in rendered.subject.strip()
    assert rendered.text.strip() and rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert "</html>" in rendered.html
    for value in SAMPLE_CONTEXT[kind].values():
        for piece in value if isinstance(value, list) else [value]:
            for text in piece if isinstance(piece, tuple) else [piece]:
                if isinstance(text, str):  # flags such as `attached` choose text, not show it
                    assert text in rendered.text and text in rendered.html


# What participants receive. Staff messages (the safety alert, the report) name the study in
# their subject, so that someone on several studies knows which one needs them.
PARTICIPANT_SETS = [(kind, lang) for kind, lang in ALL_SETS if kind in ("invite", "ineligible")]


@pytest.mark.parametrize(("kind", "lang"), PARTICIPANT_SETS)
def test_subjects_carry_no_study_descriptor(kind: str, lang: str | None) -> None:
    context = {**BASE, **SAMPLE_CONTEXT[kind], "study_name": "Demo TMS-EEG depression study"}
    subject = SHIPPED.render(kind, context, language=lang).subject.lower()
    assert not [word for word in DESCRIPTORS if word in subject]


@pytest.mark.parametrize("lang", [None, "es"])
def test_the_invitation_shows_the_id_and_the_booking_instructions(lang: str | None) -> None:
    rendered = SHIPPED.render("invite", {**BASE, "study_id": "3001"}, language=lang)
    # Text: the ID on a line of its own; the booking link; "only the study ID" as the name.
    assert re.search(r"^\s*3001\s*$", rendered.text, re.M)
    assert BOOKING_URL in rendered.text
    only = "ONLY your study ID" if lang is None else "SOLO su número de\nidentificación"
    assert only in rendered.text
    # HTML: the ID alone in its own big block; the booking link as a button.
    assert re.search(r"<td [^>]*font-size:36px[^>]*>3001</td>", rendered.html)
    assert f'href="{BOOKING_URL.replace("&", "&amp;")}"' in rendered.html
    assert ("only your study ID" if lang is None else "solo su número") in rendered.html


@pytest.mark.parametrize("lang", [None, "es"])
def test_the_ineligible_notice_never_states_a_reason(lang: str | None) -> None:
    # The templates cannot even reach a reason: they use no per-person variable at all.
    assert _variables("ineligible", lang) <= {"study_name", "contact_email"}
    rendered = SHIPPED.render("ineligible", BASE, language=lang)
    body = (rendered.subject + rendered.text + rendered.html).lower()
    demo_reasons = ["18 to 65", "travel", "english", "fluent", "contraindication", "tms", "age"]
    leaked = [
        r
        for r in demo_reasons
        if re.search(rf"\b{re.escape(r)}\b", body.replace("demo tms-eeg study", ""))
    ]
    assert not leaked


def test_the_safety_alert_holds_the_record_and_rule_and_nothing_else() -> None:
    assert _variables("safety_alert", None) <= {
        "record_id", "rule", "fired_at", "study_name", "contact_email", "record_problem",
        "ack_field",
    }  # fmt: skip


def test_the_safety_alert_names_the_study_and_the_field_to_set() -> None:
    # Issue 14: staff on several studies must see which one from the subject line, and
    # the alert must say which field ends the safety review.
    context = {**BASE, **SAMPLE_CONTEXT["safety_alert"]}
    rendered = SHIPPED.render("safety_alert", context)
    assert context["study_name"] in rendered.subject and "17" in rendered.subject
    for body in (rendered.text, rendered.html):
        assert "pipeline_safety_acknowledged" in body


def test_strict_undefined_names_the_file_and_line() -> None:
    with pytest.raises(TemplateError) as err:
        SHIPPED.render("invite", BASE)  # no study_id
    line = next(
        n for n, text in enumerate(_source("invite.txt.j2").splitlines(), 1) if "study_id" in text
    )
    assert "'study_id' is undefined" in str(err.value)
    assert re.search(rf"invite\.txt\.j2:{line}\b", str(err.value))


def test_a_none_value_is_refused_rather_than_printed() -> None:
    with pytest.raises(TemplateError, match="None"):
        SHIPPED.render("invite", {**BASE, "study_id": None})


def test_an_unset_booking_url_says_which_setting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, booking_url="")
    with pytest.raises(TemplateError, match=r"set \[email\] booking_url"):
        compose(settings, "invite", {"study_id": "1"}, to=["a@example.com"], key="1:invite:1")


def test_the_study_directory_overrides_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "invite.subject.j2").write_text("Welcome, participant {{ study_id }}\n")
    rendered = EmailTemplates(tmp_path).render("invite", {**BASE, "study_id": "3001"})
    assert rendered.subject == "Welcome, participant 3001"
    assert "ONLY your study ID" in rendered.text  # the shipped text body is still used


def test_a_syntax_error_names_the_override_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "invite.txt.j2").write_text("Hello\n\n{% if study_id %}\nno endif\n")
    with pytest.raises(TemplateError) as err:
        EmailTemplates(tmp_path).render("invite", {**BASE, "study_id": "1"})
    assert f"{tmp_path / 'invite.txt.j2'}:4: syntax error" in str(err.value)


@pytest.mark.parametrize("expression", ["study_id | round", "{}[study_id]"])
def test_a_failing_expression_names_the_line_not_the_value(tmp_path: Path, expression: str) -> None:
    (tmp_path / "invite.txt.j2").write_text(f"Hi\n{{{{ {expression} }}}}\n")
    with pytest.raises(TemplateError) as err:
        EmailTemplates(tmp_path).render("invite", {**BASE, "study_id": "secret-7"})
    assert "invite.txt.j2:2" in str(err.value) and "secret-7" not in str(err.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("es", "es"), ("ES", "es"), (" es-MX ", "es"), ("es_mx", "es"), ("fr", None), ("", None),
     (None, None), ("../../etc/passwd", None), ("en", None)],
)  # fmt: skip
def test_language_variants_fall_back(value: str | None, expected: str | None) -> None:
    assert SHIPPED.variant("invite", value) == expected


def test_the_default_language_is_used_when_the_person_has_none() -> None:
    spanish_default = EmailTemplates(default_language="es")
    assert spanish_default.variant("invite", None) == "es"
    assert spanish_default.variant("invite", "en") is None  # English is the unsuffixed set
    assert spanish_default.variant("report", None) is None  # no Spanish report: fall back


def test_a_more_specific_study_variant_wins(tmp_path: Path) -> None:
    for part in ("subject", "txt", "html"):
        (tmp_path / f"invite.es-mx.{part}.j2").write_text(f"mx {part} {{{{ study_id }}}}")
    templates = EmailTemplates(tmp_path)
    assert templates.render("invite", {**BASE, "study_id": "9"}, language="es-MX").subject == (
        "mx subject 9"
    )
    assert templates.variant("invite", "es") == "es"


def test_a_half_present_variant_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "invite.fr.subject.j2").write_text("Votre identifiant")
    with pytest.raises(
        TemplateError, match=r"invite\.fr\.txt\.j2, invite\.fr\.html\.j2 is missing"
    ):
        EmailTemplates(tmp_path).variant("invite", "fr")


def test_an_override_shadowed_by_a_shipped_language_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "ineligible.txt.j2").write_text("custom")
    with caplog.at_level(logging.WARNING, logger="recruit"):
        assert EmailTemplates(tmp_path).variant("ineligible", "es") == "es"
    assert "override ineligible.txt.j2 but not the es set" in caplog.text


def test_unknown_kinds_and_directories_are_template_errors(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no templates for e-mail kind 'reminder'"):
        SHIPPED.render("reminder", BASE)
    with pytest.raises(TemplateError, match="not a valid e-mail kind"):
        SHIPPED.render("../invite", BASE)
    with pytest.raises(TemplateError, match="does not exist"):
        EmailTemplates(tmp_path / "nope")


def test_autoescape_is_for_html_only() -> None:
    rendered = SHIPPED.render("invite", {**BASE, "study_id": "a&b"})
    assert "a&b" in rendered.text and "a&amp;b" in rendered.html


@pytest.mark.parametrize(
    ("value", "expected"), [("EN", "en"), ("pt_BR", "pt-br"), ("e", None), ("1", None)]
)
def test_normalise_language(value: str, expected: str | None) -> None:
    assert normalise_language(value) == expected
