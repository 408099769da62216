"""``recruit_cli.redact``: what is taken out of URLs and of what servers say."""

from __future__ import annotations

import pytest

from recruit_cli.redact import safe_url, scrub, server_text

TO = ("Jane.Doe+study@example.org",)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://svc:pa55@redcap.example.edu/api/", "https://redcap.example.edu/api/"),
        ("http://svc@127.0.0.1:8080/api/?token=abc#x", "http://127.0.0.1:8080/api/"),
        ("https://[::1]:8443/api/", "https://[::1]:8443/api/"),
        ("http://u:p@[::1/api/", "http://[::1/api/"),  # unparsable: the credentials still go
        ("https://redcap.example.edu/api/", "https://redcap.example.edu/api/"),
    ],
)
def test_safe_url(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_scrub_is_case_insensitive() -> None:
    assert scrub("bad c0ffee, C0FFEE and C0ffEe", ["C0FFEE", ""]) == "bad ***, *** and ***"


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 <jane.doe+study>: Recipient address rejected",
        "550 5.1.1 <JANE.DOE+STUDY@EXAMPLE.ORG>: User unknown",
        "554 relay denied for jane.doe+study@example.org.",
        "550 5.1.1 jane.doe+study... User unknown",
        '451 "jane.doe+study": mailbox busy',
        "550 user 'jane.doe+study' unknown",
    ],
)
def test_replies_lose_the_address_however_it_is_quoted(reply: str) -> None:
    said = server_text(reply, addresses=TO)
    assert "jane" not in said.lower() and "<address>" in said


def test_what_redcap_names_is_kept() -> None:
    text = "The following values in the parameter \"fields\" are not valid: 'pipeline_group'"
    assert server_text(text) == text
    assert server_text("record 12 field age") == "record 12 field age"
