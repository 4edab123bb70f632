"""E-mail addresses: the one module that asks email-validator.

Both a subscriber's stored address and the From/To of a message go through
here, so one rule decides what an address is. Deliverability (a DNS look-up)
is never checked: syndicate must work offline, and the SMTP server's answer is
the real test.
"""

from __future__ import annotations

import re

from syndicate.errors import SyndicateError


class InvalidAddress(SyndicateError, ValueError):
    """Not an e-mail address; the message says why, for the user (a ValueError too, as a parser's error)."""


def stored_address(text: str) -> str:
    """A subscriber's address as stored and used on the envelope: ASCII, domain lowercased."""
    candidate = text.strip()
    if not candidate:
        raise InvalidAddress("the address is empty")
    # imported when first needed: its tables take ~30 ms to build, paid by every build otherwise
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return str(result.ascii_email)


# an address email-validator would hand back unchanged: an ASCII dot-atom local part and a lower-case
# host name, within RFC 5321's lengths. Every subscriber's address was validated when stored; a send
# checks each again for its header, and this shape needs no second full validation.
_PLAIN = re.compile(
    r"(?=.{3,254}$)(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


def header_address(text: str) -> tuple[str, str]:
    """An address for a header (internationalized allowed, no display name), as (local part, domain)."""
    if isinstance(text, str) and _PLAIN.fullmatch(text):
        local, _, domain = text.rpartition("@")
        return local, domain
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(text, check_deliverability=False, allow_display_name=False)
    except (EmailNotValidError, TypeError) as exc:  # TypeError: not a str at all
        raise InvalidAddress(str(exc)) from None
    local, _, domain = valid.normalized.rpartition("@")
    return local, domain
