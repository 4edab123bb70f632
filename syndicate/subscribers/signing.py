"""Signed values for signing up: the form's timestamp and the confirmation link's token,
and where the subscribe, confirm and manage pages live.

Both are HMAC-SHA256 under SYNDICATE_SECRET (as the unsubscribe tokens in tokens.py), each
with its own purpose prefix, so a value made for one use is refused for any other:

- a *form stamp* is ``SECONDS.SIGNATURE``: when the form was served. A post that comes
  back sooner than a person could fill the form in is a bot; a stamp cannot be made
  without the secret, so it cannot be back-dated.
- a *confirmation token* is ``ID.EXPIRES.NONCE.SIGNATURE``: the pending request's row id,
  when the link stops working (Unix seconds) and the request's random nonce. The row in
  the database must still carry that nonce (pending.py), so a token is good for one
  request only, and its expiry cannot be edited without breaking the signature.

The manage page takes the same token as the unsubscribe link (tokens.py): whoever can
unsubscribe a reader can also change their tags or pause their digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urljoin

from syndicate.config import Config
from syndicate.errors import DeliveryError
from syndicate.newsletter.issue import subscribe_endpoint
from syndicate.subscribers.tokens import MAC_BYTES

_FORM = b"syndicate-form-v1\x00"
_CONFIRM = b"syndicate-confirm-v1\x00"
_STAMP = re.compile(r"^([0-9]{1,12})\.([A-Za-z0-9_-]{22})$")
_CONFIRM_TOKEN = re.compile(r"^([1-9][0-9]{0,17})\.([0-9]{1,12})\.([0-9a-f]{16,64})\.([A-Za-z0-9_-]{22})$")


class BadLink(DeliveryError):
    """A confirmation token that is malformed or not signed by us."""


class ExpiredLink(DeliveryError):
    """A correctly signed confirmation token past its expiry."""


@dataclass(frozen=True, slots=True)
class ConfirmClaim:
    pending_id: int
    expires: int  # Unix seconds
    nonce: str


def _mac(secret: bytes, purpose: bytes, text: str) -> str:
    digest = hmac.new(secret, purpose + text.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def unix(now: datetime) -> int:
    return int(now.timestamp())


def form_stamp(secret: bytes, now: datetime) -> str:
    """The hidden field a served form carries: when it was served, signed."""
    seconds = str(unix(now))
    return f"{seconds}.{_mac(secret, _FORM, seconds)}"


def stamp_age(secret: bytes, stamp: str, now: datetime) -> float | None:
    """Seconds since a form with this stamp was served; None when the stamp is missing, forged
    or from the future."""
    match = _STAMP.match(stamp)
    if match is None or not _same(_mac(secret, _FORM, match[1]), match[2]):
        return None
    age = now.timestamp() - int(match[1])
    return age if age >= 0 else None


def confirm_token(secret: bytes, pending_id: int, expires: int, nonce: str) -> str:
    body = f"{pending_id}.{expires}.{nonce}"
    return f"{body}.{_mac(secret, _CONFIRM, body)}"


def read_confirm_token(secret: bytes, token: str, now: datetime) -> ConfirmClaim:
    """The claim of a good token; BadLink when it is not ours, ExpiredLink when it is too old."""
    match = _CONFIRM_TOKEN.match(token)
    if match is None or not _same(_mac(secret, _CONFIRM, f"{match[1]}.{match[2]}.{match[3]}"), match[4]):
        raise BadLink("this confirmation link is not valid")
    claim = ConfirmClaim(int(match[1]), int(match[2]), match[3])
    if unix(now) >= claim.expires:
        raise ExpiredLink("this confirmation link has expired")
    return claim


def subscribe_base(config: Config) -> str:
    """The app's subscribe form ([digest] subscribe_url, default <site url>subscribe)."""
    return subscribe_endpoint(config)


def sibling_url(config: Config, name: str) -> str:
    """ "confirm" or "manage": beside the subscribe form, so one proxy rule can serve all three."""
    return urljoin(subscribe_base(config), name)


def manage_link(config: Config, token: str) -> str:
    """The manage page for the holder of an unsubscribe token (tokens.make_token): the link a
    digest's footer can carry next to "Unsubscribe", made from the same token."""
    return f"{sibling_url(config, 'manage')}?{urlencode({'token': token})}"


def expiry(now: datetime, hours: int) -> int:
    return unix(now) + hours * 3600


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
