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
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
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
    mac = hmac.new(secret, _PURPOSE + f"{subscriber_id}.{nonce}".encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


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
    parts = urlsplit(base)
    query = (parts.query + "&" if parts.query else "") + urlencode({"token": token})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
