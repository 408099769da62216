"""recruit_cli.address: the one definition of an address recruit can send to, as a table."""

from __future__ import annotations

import pytest

from recruit_cli.address import (
    InvalidAddress,
    address_key,
    comparison_key,
    mask,
    normalise,
    problem,
)

LOCAL_64 = "l" * 64
# 254 characters in all: 64 + "@" + 189 (labels of at most 63).
DOMAIN_189 = "a" * 63 + "." + "b" * 63 + "." + "c" * 57 + ".org"
# Short as typed (130 characters) but 316 once the domain is punycode: each half is fine.
IDN_TOO_LONG = LOCAL_64 + "@" + "ü." * 31 + "org"

VALID = [
    ("person@example.org", "person@example.org"),
    ("  person@example.org\t", "person@example.org"),
    ("\tperson@example.org ", "person@example.org"),
    ("Jo.Smith+study@Example.ORG", "Jo.Smith+study@example.org"),  # local part keeps its case
    ("Info@example.org", "Info@example.org"),  # even an RFC 2142 role name
    ("o'brien-x_y@mail.example.co.uk", "o'brien-x_y@mail.example.co.uk"),
    ("user@bücher.de", "user@xn--bcher-kva.de"),
    ("user@BÜCHER.de", "user@xn--bcher-kva.de"),
    ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
    ("a@faß.de", "a@xn--fa-hia.de"),
    ("s@example.edu", "s@example.edu"),
    (LOCAL_64 + "@example.org", LOCAL_64 + "@example.org"),
    (LOCAL_64 + "@" + DOMAIN_189, LOCAL_64 + "@" + DOMAIN_189),
]

INVALID = [
    ("", "it is empty"),
    (" \t ", "it is empty"),
    ("jo..e@x.org", "the part before the @ is not valid"),
    (".jo@example.org", "the part before the @ is not valid"),
    ("jo.@example.org", "the part before the @ is not valid"),
    ("@example.org", "the part before the @ is not valid"),
    ("<a@example.org>", "the part before the @ is not valid"),
    ('"ab"@example.org', "the part before the @ is not valid"),  # quoted local part
    (LOCAL_64 + "l@example.org", "the part before the @ is not valid"),  # 65 characters
    ("josé@example.org", "the part before the @ has non-ASCII characters"),
    ("Ａ@example.org", "the part before the @ has non-ASCII characters"),
    ("a@exa_mple.com", "the domain is not valid"),
    ("a@", "the domain is not valid"),
    ("a@example", "the domain is not valid"),
    ("a@.example.org", "the domain is not valid"),
    ("a@example..org", "the domain is not valid"),
    ("a@-example.org", "the domain is not valid"),
    ("a@example.org.", "the domain is not valid"),
    ("a@192.0.2.1", "the domain is not valid"),
    ("a@[192.0.2.1]", "the domain is not valid"),
    ("a@localhost", "the domain is a reserved name that cannot receive mail"),
    ("a@lab.test", "the domain is a reserved name that cannot receive mail"),
    ("a@printer.local", "the domain is a reserved name that cannot receive mail"),
    ("a@x.invalid", "the domain is a reserved name that cannot receive mail"),
    ("person.example.org", "it has no @"),
    ("a@@example.org", "it has more than one @"),
    ("a@b@example.org", "it has more than one @"),
    ("a@example.org,b@example.org", "it has more than one @"),
    ("a@example.org, b@example.org", "it contains a space"),
    ("per son@example.org", "it contains a space"),
    ("Jo <jo@example.org>", "it contains a space"),
    ('"a b"@example.org', "it contains a space"),
    ("a\u00a0b@example.org", "it contains a space"),
    ("a@example.org\r\nBcc: x@example.net", "it contains a line break or control character"),
    ("a@exa\nmple.org", "it contains a line break or control character"),
    ("a@example.org\n", "it contains a line break or control character"),
    ("\r\na@example.org", "it contains a line break or control character"),
    ("a\x00@example.org", "it contains a line break or control character"),
    ("a@example.org\u2028", "it contains a line break or control character"),
    ("l" * 200 + "@" + "d" * 50 + ".org", "it is longer than 254 characters"),  # 255
    ("a" * 10_240 + "@example.org", "it is longer than 254 characters"),
    (IDN_TOO_LONG, "it is longer than 254 characters"),
]


@pytest.mark.parametrize(("value", "normalised"), VALID)
def test_valid_addresses_and_their_normalised_form(value: str, normalised: str) -> None:
    assert problem(value) is None
    assert normalise(value) == normalised
    assert normalise(normalised) == normalised  # normalising twice changes nothing


@pytest.mark.parametrize(("value", "reason"), INVALID)
def test_invalid_addresses_give_a_reason_that_never_quotes_them(value: str, reason: str) -> None:
    assert problem(value) == reason  # a fixed sentence: nothing of the value in it
    with pytest.raises(InvalidAddress) as err:
        normalise(value)
    assert isinstance(err.value, ValueError)
    assert str(err.value) == err.value.reason == reason
    # The library's own message can quote the address: it is not chained either.
    assert err.value.__cause__ is None and err.value.__context__ is None
    with pytest.raises(InvalidAddress):
        address_key(value)


def test_the_255_character_case_is_one_over_the_limit() -> None:
    assert len(next(v for v, _ in INVALID if v.startswith("l" * 200))) == 255
    assert len(LOCAL_64 + "@" + DOMAIN_189) == 254


def test_address_key_is_for_comparing_people_not_for_sending() -> None:
    assert address_key(" Jo.Smith@Example.ORG") == address_key("jo.smith@example.org")
    assert address_key("JO@BÜCHER.de") == "jo@xn--bcher-kva.de"
    assert address_key("jo@xn--bcher-kva.de") == "jo@xn--bcher-kva.de"
    assert address_key("jo@example.org") != address_key("jo2@example.org")
    assert normalise("Jo@Example.org") == "Jo@example.org"  # what is sent keeps the case


@pytest.mark.parametrize("value", [v for v, _ in VALID])
def test_comparison_key_is_address_key_for_every_address(value: str) -> None:
    # The duplicate check's fast path (ASCII text, lower-cased) must never disagree with the
    # one definition; the same address typed in another case or with spaces around it too.
    assert comparison_key(value) == address_key(value)
    assert comparison_key(f" {value.upper()} ") == address_key(value.upper())


def test_comparison_key_still_compares_what_is_not_an_address() -> None:
    assert comparison_key(" Not An Address ") == comparison_key("not an address")
    assert comparison_key("jo@example") == "jo@example"  # no dot in the domain: refused
    assert comparison_key("JOSÉ@Example.org") == comparison_key("josé@example.org")
    assert comparison_key("a@bücher.de") == comparison_key("A@XN--BCHER-KVA.DE")


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("pat@example.org", "p***@example.org"),
        ("p@example.org", "p***@example.org"),
        ("user@xn--bcher-kva.de", "u***@xn--bcher-kva.de"),
        ("@example.org", "***@example.org"),
        ("nobody", "***"),
        ("", "***"),
    ],
)
def test_mask(address: str, masked: str) -> None:
    assert mask(address) == masked
