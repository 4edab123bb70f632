"""E-mail addresses: the one module that asks email-validator.

Both a subscriber's stored address and the From/To of a message go through
here, so one rule decides what an address is. Deliverability (a DNS look-up)
is never checked: syndicate must work offline, and the SMTP server's answer is
the real test.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from syndicate.errors import SyndicateError


class InvalidAddress(SyndicateError, ValueError):
    """Not an e-mail address; the message says why, for the user (a ValueError too, as a parser's error)."""


def stored_address(text: str) -> str:
    """A subscriber's address as stored and used on the envelope: ASCII, domain lowercased."""
    candidate = text.strip()
    if not candidate:
        raise InvalidAddress("the address is empty")
    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return str(result.ascii_email)


def header_address(text: str) -> tuple[str, str]:
    """An address for a header (internationalized allowed, no display name), as (local part, domain)."""
    try:
        valid = validate_email(text, check_deliverability=False, allow_display_name=False)
    except (EmailNotValidError, TypeError) as exc:  # TypeError: not a str at all
        raise InvalidAddress(str(exc)) from None
    local, _, domain = valid.normalized.rpartition("@")
    return local, domain
