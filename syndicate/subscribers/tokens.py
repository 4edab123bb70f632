"""Signed unsubscribe tokens: who may unsubscribe (or re-subscribe) by following a link.

A token is ``ID.NONCE.SIGNATURE``: the subscriber's row id, the subscriber's
current token nonce, and an HMAC-SHA256 of both under the secret from the
environment variable SYNDICATE_SECRET (never the config file, which often
lives in a public repository).

What each kind of bad token means:

- *forged*: malformed, or the signature does not match (a guessed id, an
  edited nonce, a token made with another secret). Always rejected.
- *stale*: the signature is right but the nonce is not the subscriber's: the
  row was deleted (`subscribers remove --forget`) and its id perhaps reused.
  It must not touch whoever holds that id now; the endpoint answers that the
  address is not subscribed, which is what its reader asked for.
- A subscriber keeps one nonce for the life of their row, so the unsubscribe
  link of every message ever sent to them works, also after they subscribe
  again; a second one-click POST (mail clients retry) answers the same success.
  Subscribing again always takes a fresh confirmation (web/subscribe.py), so no
  link in an old message can subscribe anyone.

The database lookup that tells current from stale lives with the subscribers;
this module only signs and checks signatures.

Two more uses of the same secret, each with a purpose string of its own so no
signature can stand in for another: the unsubscribe token again in the
List-Unsubscribe mailto's subject (read back by `syndicate inbox`), and bounce
tokens, ``ID.TAG.MAC`` in the envelope sender ``local+TOKEN@domain`` (VERP),
which say whose copy of which issue came back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode, urlsplit, urlunsplit

from syndicate.errors import DeliveryError

SECRET_ENV = "SYNDICATE_SECRET"  # noqa: S105 (the variable's name, not a secret)
MIN_SECRET_LENGTH = 16
_PURPOSE = b"syndicate-unsubscribe-v1\x00"  # binds a signature to this use only
_TOKEN = re.compile(r"^([1-9][0-9]{0,17})\.([0-9a-f]{16,64})\.([A-Za-z0-9_-]{22})$")
MAC_BYTES = 16  # HMAC-SHA256 cut to 128 bits (RFC 2104 allows truncation): forging stays out of reach, URLs stay short


class TokenError(DeliveryError):
    """An unsubscribe token that must not be honoured."""


class ForgedToken(TokenError):
    """Malformed, or signed with another secret."""


class StaleToken(TokenError):
    """Correctly signed, but superseded by a later re-subscription (or the subscriber is gone)."""


@dataclass(frozen=True, slots=True)
class TokenClaim:
    """What a correctly signed token says: which subscriber, at which nonce."""

    subscriber_id: int
    nonce: str


def secret_from_env(environ: Mapping[str, str]) -> bytes:
    """The signing secret from `environ` (the process environment, which only the command line and
    the WSGI entry point read); a clear error when it is missing or too short to be safe."""
    value = environ.get(SECRET_ENV, "")
    if not value:
        raise DeliveryError(
            f"{SECRET_ENV} is not set; set it to a long random string (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) and keep it the same between runs"
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise DeliveryError(f"{SECRET_ENV} is too short; use at least {MIN_SECRET_LENGTH} random characters")
    return value.encode("utf-8")


def _signature(secret: bytes, subscriber_id: int, nonce: str) -> str:
    mac = _keyed(secret).copy()  # the key schedule once per secret, not once per token
    mac.update(f"{subscriber_id}.{nonce}".encode("ascii"))
    return base64.urlsafe_b64encode(mac.digest()[:MAC_BYTES]).rstrip(b"=").decode("ascii")


@lru_cache(maxsize=4)
def _keyed(secret: bytes) -> hmac.HMAC:
    return hmac.new(secret, _PURPOSE, hashlib.sha256)


def make_token(secret: bytes, subscriber_id: int, nonce: str) -> str:
    if subscriber_id < 1 or not re.fullmatch(r"[0-9a-f]{16,64}", nonce):
        raise ValueError("a token needs a positive subscriber id and a hex nonce")
    return f"{subscriber_id}.{nonce}.{_signature(secret, subscriber_id, nonce)}"


def read_token(secret: bytes, token: str) -> TokenClaim:
    """The claim of a correctly signed token; ForgedToken otherwise (compared in constant time)."""
    match = _TOKEN.match(token)
    if match is None:
        raise ForgedToken("this unsubscribe link is not valid")
    subscriber_id, nonce, given = int(match[1]), match[2], match[3]
    expected = _signature(secret, subscriber_id, nonce)
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("ascii")):
        raise ForgedToken("this unsubscribe link is not valid")
    return TokenClaim(subscriber_id, nonce)


def check_current(claim: TokenClaim, current_nonce: str | None) -> None:
    """StaleToken unless the claim's nonce is the subscriber's current one (None: no such subscriber)."""
    if current_nonce is None or not hmac.compare_digest(claim.nonce.encode(), current_nonce.encode()):
        raise StaleToken("this unsubscribe link has expired; use the link in a newer message")


def unsubscribe_url(base: str, token: str) -> str:
    """`base` with the token in its query string (RFC 8058 wants it in the URL, not the POST body)."""
    if _URL_SAFE.fullmatch(token):  # every token make_token writes: nothing to escape
        return f"{_before_token(base)}token={token}"
    return _before_token(base) + urlencode({"token": token})


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]+")  # what urlencode leaves as it is


@lru_cache(maxsize=16)
def _before_token(base: str) -> str:
    """`base` up to where the token goes (its fragment dropped): a send asks once per message."""
    parts = urlsplit(base)
    query = parts.query + "&" if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) + "?" + query


# --- bounce tokens (VERP) -------------------------------------------------------------------------
# A bounce comes back to the envelope sender, `local+TOKEN@domain`, and the token says which
# subscriber and which issue the bounced message was: ID.TAG.MAC, where TAG is a short hash of the
# issue key (a key may be a post's slug, of any length; `syndicate inbox` finds the key among the
# subscriber's send-log rows). It is lower case only, because some mail servers fold the case of the
# local part, and short, because a local part holds 64 octets at most (RFC 5321 4.5.3.1.1): an
# 80-bit MAC in base32. Forging one could only mark one address bounced, and 2^80 guesses sent as
# mail are out of reach.
_BOUNCE_PURPOSE = b"syndicate-bounce-v1\x00"
_BOUNCE_TOKEN = re.compile(r"^([1-9][0-9]{0,17})\.([a-z2-7]{8})\.([a-z2-7]{16})$")
BOUNCE_MAC_BYTES = 10
MAX_LOCAL_PART = 64


@dataclass(frozen=True, slots=True)
class BounceClaim:
    """What a correctly signed bounce token says: this subscriber's copy of the issue with this tag came back."""

    subscriber_id: int
    issue_tag: str


def issue_tag(issue: str) -> str:
    """The 8 characters that stand for an issue key in a bounce token."""
    return base64.b32encode(hashlib.sha256(issue.encode("utf-8")).digest()[:5]).decode("ascii").lower()


def _bounce_signature(secret: bytes, subscriber_id: int, tag: str) -> str:
    mac = hmac.new(secret, _BOUNCE_PURPOSE + f"{subscriber_id}.{tag}".encode("ascii"), hashlib.sha256)
    return base64.b32encode(mac.digest()[:BOUNCE_MAC_BYTES]).decode("ascii").lower()


def make_bounce_token(secret: bytes, subscriber_id: int, issue: str) -> str:
    if subscriber_id < 1:
        raise ValueError("a bounce token needs a positive subscriber id")
    tag = issue_tag(issue)
    return f"{subscriber_id}.{tag}.{_bounce_signature(secret, subscriber_id, tag)}"


def read_bounce_token(secret: bytes, token: str) -> BounceClaim:
    """The claim of a correctly signed bounce token (any case); ForgedToken otherwise."""
    match = _BOUNCE_TOKEN.match(token.lower())
    if match is None:
        raise ForgedToken("not a bounce token")
    subscriber_id, tag, given = int(match[1]), match[2], match[3]
    if not hmac.compare_digest(_bounce_signature(secret, subscriber_id, tag).encode(), given.encode()):
        raise ForgedToken("not a bounce token of ours")
    return BounceClaim(subscriber_id, tag)


def verp_address(bounce_address: str, token: str) -> str:
    """`bounces@example.org` + token → `bounces+TOKEN@example.org` (the envelope sender of one message)."""
    local, _, domain = bounce_address.rpartition("@")
    address = f"{local}+{token}@{domain}"
    if len(local) + 1 + len(token) > MAX_LOCAL_PART:
        raise DeliveryError(
            f"[smtp] bounce_address {bounce_address!r} leaves too little room for a bounce token "
            f"(a local part holds {MAX_LOCAL_PART} characters); use a shorter name before the @"
        )
    return address


def token_in_address(address: str) -> str:
    """The text after the last '+' of an address's local part ('' when there is none)."""
    local = address.strip().strip("<>").rpartition("@")[0]
    return local.rpartition("+")[2] if "+" in local else ""


_MAILTO_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_.-])([1-9][0-9]{0,17}\.[0-9a-f]{16,64}\.[A-Za-z0-9_-]{22})(?![A-Za-z0-9_-])"
)


def find_unsubscribe_token(text: str) -> str:
    """An unsubscribe token written anywhere in `text` (a mailto's subject or address); '' when none."""
    match = _MAILTO_TOKEN.search(text)
    return match[1] if match else ""
