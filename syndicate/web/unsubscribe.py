"""One-click unsubscribe (RFC 8058): a POST to the List-Unsubscribe URL (token in the
query string, any body; mail clients send `List-Unsubscribe=One-Click`) unsubscribes
at once. A GET never changes anything, because mail scanners fetch links on their
own; it shows a page with a button (unsubscribe, or re-subscribe when already out).
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import IO
from urllib.parse import parse_qs, quote, urlsplit
from wsgiref.types import WSGIEnvironment

from syndicate.config import Config
from syndicate.errors import DeliveryError
from syndicate.newsletter.issue import unsubscribe_base
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection, DatabaseError
from syndicate.subscribers.tokens import StaleToken, TokenError, check_current, make_token, read_token
from syndicate.templating import render
from syndicate.web.http import Response, log_error, text_response

MAX_FORM_BYTES = 16 * 1024

_PAGE_HEADERS = [
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),  # the token is in the URL
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    ("X-Frame-Options", "DENY"),
]

_HEADINGS = {
    "confirm": "Unsubscribe?",
    "unsubscribed": "You are unsubscribed",
    "resubscribed": "You are subscribed again",
    "invalid": "This link does not work",
    "stale": "This link has expired",
    "unavailable": "Unsubscribing is not available right now",
}


class Unsubscribe:
    """The List-Unsubscribe endpoint: verify the token, then act (POST) or show the page (GET)."""

    def __init__(self, config: Config, secret: bytes | DeliveryError, clock: subs.Clock) -> None:
        """`secret` signs the links, or says why there is none (then every request answers 503)."""
        self.config = config
        self.path = urlsplit(unsubscribe_base(config)).path or "/unsubscribe"
        self._secret = secret
        self.clock = clock

    def matches(self, path: str) -> bool:
        return path.rstrip("/") == self.path.rstrip("/")

    def _page(self, status: int, state: str, *, email: str = "", action: str = "", message: str = "") -> Response:
        body = render(
            self.config.templates_dir,
            "unsubscribe.html",
            site=self.config.site,
            state=state,
            heading=_HEADINGS[state],
            email=email,
            action=action,
            message=message,
        )
        headers = [("Content-Type", "text/html; charset=utf-8"), *_PAGE_HEADERS]
        return Response(status, headers, body.encode("utf-8"))

    def _action(self, sub: subs.Subscriber, secret: bytes) -> str:
        return f"{quote(self.path)}?token={make_token(secret, sub.id, sub.nonce)}"

    def handle(self, environ: WSGIEnvironment, method: str) -> Response:
        if method not in ("GET", "HEAD", "POST"):
            return text_response(405, "use GET or POST\n").header("Allow", "GET, HEAD, POST")
        secret = self._secret
        if not isinstance(secret, bytes):
            log_error(environ, f"syndicate: unsubscribe endpoint disabled: {secret}")
            return self._unavailable()
        token = (parse_qs(str(environ.get("QUERY_STRING", ""))).get("token") or [""])[0]
        if not token:
            return self._page(
                400,
                "invalid",
                message="This link carries no token: it may come from a test copy, or it was cut short. "
                "Use the unsubscribe link at the end of a digest you received.",
            )
        try:
            conn = subs.open_site_database(self.config)
            try:
                return self._answer(environ, method, conn, token, secret)
            finally:
                conn.close()
        except DatabaseError as exc:
            log_error(environ, f"syndicate: unsubscribe endpoint unavailable: {exc}")
            return self._unavailable()

    def _unavailable(self) -> Response:
        return self._page(503, "unavailable", message="Please try again later, or reply to the message instead.")

    def _answer(self, environ: WSGIEnvironment, method: str, conn: Connection, token: str, secret: bytes) -> Response:
        try:
            claim = read_token(secret, token)
            current = subs.get(conn, claim.subscriber_id)
            check_current(claim, current.nonce if current else None)
        except TokenError as exc:
            stale = isinstance(exc, StaleToken)
            hint = (
                "You have subscribed again since this message was sent; use the link in a newer message."
                if stale
                else "The link is not valid; it may have been cut short or changed. "
                "Use the unsubscribe link at the end of a digest you received."
            )
            return self._page(410 if stale else 400, "stale" if stale else "invalid", message=hint)
        assert current is not None
        if method == "POST":
            fields = _form_fields(environ)
            if fields is None:
                return text_response(413, "request body too large\n")
            return self._post(conn, current, fields.get("action", ""), secret)
        state = "confirm" if current.status == "subscribed" else "unsubscribed"
        return self._page(200, state, email=current.email, action=self._action(current, secret))

    def _post(self, conn: Connection, sub: subs.Subscriber, action: str, secret: bytes) -> Response:
        if action == "resubscribe":
            updated = subs.set_status(conn, sub.id, "subscribed", self.clock())
            state = "resubscribed"
        else:  # RFC 8058 one-click (any body), or our own form's "unsubscribe"
            updated = (
                subs.set_status(conn, sub.id, "unsubscribed", self.clock()) if sub.status != "unsubscribed" else sub
            )
            state = "unsubscribed"
        current = updated or sub
        return self._page(200, state, email=current.email, action=self._action(current, secret))


def _form_fields(environ: WSGIEnvironment) -> dict[str, str] | None:
    """The POST body's fields (urlencoded or multipart); None when it is too large."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_FORM_BYTES:
        return None
    stream: IO[bytes] = environ["wsgi.input"]
    body = stream.read(length) if length > 0 else b""
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if content_type.lower().startswith("multipart/form-data"):
        # Gmail sends the one-click POST as multipart/form-data
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        fields: dict[str, str] = {}
        if message.is_multipart():
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if isinstance(name, str) and isinstance(payload, bytes):
                    fields[name] = payload.decode("utf-8", "replace")
        return fields
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}
