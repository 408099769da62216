"""E-mail addresses: the one definition of what recruit can send to.

Every place that judges an address asks this module: screening (a person whose address can't
be sent to goes to manual review, ``email_invalid``, before a study ID is spent), compose
(the recipients and the configured sender), the transports' test messages, the report's
``--email``, the configuration's staff addresses, and the sandbox's ``email`` validation. So
an address screening passes is one compose sends to, and the other way round.

The syntax is checked by the ``email-validator`` library, with its options fixed here
(never its module-level defaults, which any importer could change):

- **No DNS, ever** (``check_deliverability=False``): recruit runs from cron on locked-down
  hosts and its tests run offline. Whether a domain really takes mail is the mail server's
  answer, which the outreach passes already handle (a refused recipient goes to review).
- **ASCII before the @** (``allow_smtputf8=False``). recruit accepts what all three
  transports can really send to. The SMTP transport opens with a plain ``MAIL FROM`` (no
  SMTPUTF8), so smtplib can't even write a non-ASCII ``RCPT TO``; and the MIME writer (the
  SMTP and outbox message) would turn such a local part into an RFC 2047 encoded word,
  which is not an address. Exchange Online can send to internationalised addresses, but a
  study may switch transports, so one rule holds for all: ``josé@example.org`` is refused
  and caught at screening.
- **Internationalised domains are accepted** and normalised to their ASCII (punycode) form,
  which every transport can carry: ``a@bücher.de`` -> ``a@xn--bcher-kva.de``.
- **Refused**: quoted local parts (``"a b"@example.org``), IP-literal domains
  (``a@[192.0.2.1]``), display names and angle brackets (``Name <a@example.org>``), a
  domain without a dot (``a@localhost``), and special-use names that can't receive mail from
  the internet (``.test``, ``.local``, ``.localhost``, ``.invalid``, ``.onion``, ``.arpa``).
  ``example.org/.com/.net/.edu`` are ordinary domains (RFC 6761), which is what the demo
  and the tests use, so test data needs no loophole here.
- **Lengths**: at most 64 characters before the @ (``strict=True``: RFC 5321's limit, which
  some servers enforce) and 254 in all.
- **Whitespace**: spaces and tabs around the value are trimmed (typed survey answers often
  carry them); any other whitespace or control character, a line break above all (how a
  header injection starts), makes the value invalid, wherever it is.

The normalised form (``normalise``) is what compose sends to: trimmed, the local part as
typed (case preserved: RFC 5321 lets the receiving server treat it as case-sensitive), the
domain lower-case ASCII. ``address_key`` lower-cases the whole address, for "is this the
same person" comparisons only, never for sending; ``comparison_key`` extends it to values
that are not addresses (the duplicate check compares whatever participants typed).

Reasons and exception messages never quote the address or any part of it (it is PHI):
callers put them in REDCap's reasons field, logs and errors. Each caller turns an
``InvalidAddress`` into its own error (``RecipientRejected``, ``ConfigError`` naming the
key, a screening reason, REDCap's validation message in the sandbox).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recruit_cli.text import has_control

if TYPE_CHECKING:
    from email_validator import ValidatedEmail

MAX_LENGTH = 254  # RFC 3696 erratum 1690 / RFC 5321: the whole address
# A known-good other half, to tell which half of a refused address is at fault.
_GOOD_LOCAL = "x"
_GOOD_DOMAIN = "example.org"


class InvalidAddress(ValueError):
    """An address recruit can't send to. ``reason`` is short and never quotes the address."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise(value: str) -> str:
    """The address as recruit sends to it: trimmed, the domain lower-case ASCII (punycode).

    Raises:
        InvalidAddress: recruit can't send to it (the reason never quotes the value).
    """
    text = value.strip(" \t")
    plain = _plain_problem(text)
    if plain is not None:
        raise InvalidAddress(plain)
    local, _, domain = text.partition("@")
    if not local.isascii():
        raise InvalidAddress("the part before the @ has non-ASCII characters")
    checked = _checked(text)
    if checked is None:
        raise InvalidAddress(_which_part(local, domain))
    return f"{local}@{checked.ascii_domain}"


def problem(value: str) -> str | None:
    """Why recruit can't send to ``value``, or None if it can (the reason never quotes it)."""
    try:
        normalise(value)
    except InvalidAddress as exc:
        return exc.reason
    return None


def address_key(value: str) -> str:
    """The comparison key for "same person" checks: the normalised address, lower-cased.

    Real mailboxes treat the local part case-insensitively almost everywhere, so for spotting
    one person twice ``Jo@x.org`` and ``jo@x.org`` are the same. Never send to the key.

    Raises:
        InvalidAddress: as ``normalise``.
    """
    return normalise(value).lower()


def comparison_key(value: str) -> str:
    """What "is this the same address" checks compare, for any value, valid or not.

    An address recruit can send to compares by ``address_key``; anything else by its text,
    trimmed and lower-cased, so two identical typos still match. An ASCII value's key is
    its text lower-cased without asking the library: ``normalise`` changes an ASCII address
    only by trimming it and lower-casing its domain, so the key is the same, about 40 times
    faster (the duplicate check keys the address of every record in the project). Only a
    value with non-ASCII characters (an internationalised domain, ``a@bücher.de`` =
    ``a@xn--bcher-kva.de``) needs the library.
    """
    text = value.strip()
    if not text.isascii():
        try:
            return address_key(text)
        except InvalidAddress:
            pass
    return text.lower()


def mask(address: str) -> str:
    """``pat@example.org`` -> ``p***@example.org``: enough to recognise, not to read out."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def _plain_problem(text: str) -> str | None:
    """The common faults, named plainly (and cheaply: no library call for a 10 KB value)."""
    if not text:
        return "it is empty"
    if has_control(text):
        return "it contains a line break or control character"
    if any(ch.isspace() for ch in text):
        return "it contains a space"
    if len(text) > MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH} characters"
    if "@" not in text:
        return "it has no @"
    if text.count("@") > 1:  # only a quoted local part may hold one, and those are refused
        return "it has more than one @"
    return None


def _checked(text: str) -> ValidatedEmail | None:
    """email-validator's verdict with recruit's options; None when it refuses the address.

    The library's message is dropped: it can quote characters of the address.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(
            text,
            allow_smtputf8=False,
            allow_empty_local=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            strict=True,
            check_deliverability=False,
            test_environment=False,
            globally_deliverable=True,
        )
    except EmailNotValidError:
        return None


def _which_part(local: str, domain: str) -> str:
    """Which half of a refused address is at fault, by checking each with a good other half."""
    if _checked(f"{local}@{_GOOD_DOMAIN}") is None:
        return "the part before the @ is not valid"
    if _checked(f"{_GOOD_LOCAL}@{domain}") is None:
        if _special_use(domain):
            return "the domain is a reserved name that cannot receive mail"
        return "the domain is not valid"
    return f"it is longer than {MAX_LENGTH} characters"  # each half is fine; together too long


def _special_use(domain: str) -> bool:
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    name = domain.lower().rstrip(".")
    return any(name == s or name.endswith("." + s) for s in SPECIAL_USE_DOMAIN_NAMES)
