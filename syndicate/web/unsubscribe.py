"""One-click unsubscribe (RFC 8058): a POST to the List-Unsubscribe URL (token in the
query string, any body; mail clients send `List-Unsubscribe=One-Click`) unsubscribes
at once. A GET never changes anything, because mail scanners fetch links on their
own; it shows a page with a button.

The link of any message ever sent works: a subscriber keeps one token nonce for the
life of their record, and a token whose subscriber is gone answers that the address is
not subscribed (which is what its reader asked for). "Subscribe again" from this page
only sends a fresh confirmation email: an old message cannot subscribe anyone.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit
from wsgiref.types import WSGIEnvironment

from syndicate.language import N_
from syndicate.newsletter.issue import unsubscribe_base
from syndicate.subscribers import pauses, preferences, signup
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection, DatabaseError
from syndicate.subscribers.signing import sibling_url
from syndicate.subscribers.tokens import StaleToken, TokenError, check_current, make_token, read_token
from syndicate.web.forms import client_keys, first, page, query_value, read_form
from syndicate.web.http import Response, log_error, text_response
from syndicate.web.subscribe import Services, Subscribe

_HEADINGS = {
    "confirm": N_("Unsubscribe?"),
    "unsubscribed": N_("You are unsubscribed"),
    "gone": N_("You are unsubscribed"),
    "resubscribed": N_("Check your inbox"),
    "invalid": N_("This link does not work"),
    "unavailable": N_("Unsubscribing is not available right now"),
}


class Unsubscribe:
    """The List-Unsubscribe endpoint: verify the token, then act (POST) or show the page (GET)."""

    def __init__(self, services: Services, subscribe: Subscribe) -> None:
        """The services' secret signs the links, or says why there is none (then every request answers 503)."""
        self.s = services
        self.config = services.config
        self.subscribe = subscribe
        self.path = urlsplit(unsubscribe_base(self.config)).path or "/unsubscribe"
        self.manage_base = sibling_url(self.config, "manage")

    def matches(self, path: str) -> bool:
        return path.rstrip("/") == self.path.rstrip("/")

    def _page(self, status: int, state: str, *, email: str = "", action: str = "", message: str = "") -> Response:
        manage = ""
        if action:
            manage = self.manage_base + action[action.index("?") :]
        return page(
            self.config,
            "unsubscribe.html",
            status,
            state=state,
            heading=_HEADINGS[state],
            email=email,
            action=action,
            manage_url=manage,
            message=message,
        )

    def _action(self, sub: subs.Subscriber, secret: bytes) -> str:
        return f"{quote(self.path)}?token={make_token(secret, sub.id, sub.nonce)}"

    def handle(self, environ: WSGIEnvironment, method: str) -> Response:
        if method not in ("GET", "HEAD", "POST"):
            return text_response(405, "use GET or POST\n").header("Allow", "GET, HEAD, POST")
        secret = self.s.secret
        if not isinstance(secret, bytes):
            log_error(environ, f"syndicate: unsubscribe endpoint disabled: {secret}")
            return self._unavailable()
        token = query_value(environ, "token")
        if not token:
            return self._page(
                400,
                "invalid",
                message=N_(
                    "This link carries no token: it may come from a test copy, or it was cut short. "
                    "Use the unsubscribe link at the end of a digest you received."
                ),
            )
        try:
            conn = self.s.connect()
            try:
                return self._answer(environ, method, conn, token, secret)
            finally:
                conn.close()
        except DatabaseError as exc:
            log_error(environ, f"syndicate: unsubscribe endpoint unavailable: {exc}")
            return self._unavailable()

    def _unavailable(self) -> Response:
        return self._page(503, "unavailable", message=N_("Please try again later, or reply to the message instead."))

    def _answer(self, environ: WSGIEnvironment, method: str, conn: Connection, token: str, secret: bytes) -> Response:
        try:
            claim = read_token(secret, token)
            current = subs.get(conn, claim.subscriber_id)
            check_current(claim, current.nonce if current else None)
        except StaleToken:
            # the record was erased: whoever holds its id now is someone else, and the
            # recipient of the old message is on no list
            return self._page(200, "gone", message=N_("This address is not on the list: it gets no digest."))
        except TokenError:
            hint = N_(
                "The link is not valid; it may have been cut short or changed. "
                "Use the unsubscribe link at the end of a digest you received."
            )
            return self._page(400, "invalid", message=hint)
        assert current is not None
        if method == "POST":
            fields = read_form(environ)
            if fields is None:
                return text_response(413, "request body too large\n")
            return self._post(environ, conn, current, first(fields, "action"), secret)
        # a paused reader is stored as unsubscribed, but can still leave for good here
        out = current.status != "subscribed" and pauses.paused_since(conn, current) is None
        state = "unsubscribed" if out else "confirm"
        return self._page(200, state, email=current.email, action=self._action(current, secret))

    def _post(
        self, environ: WSGIEnvironment, conn: Connection, sub: subs.Subscriber, action: str, secret: bytes
    ) -> Response:
        if action == "resubscribe":
            if sub.status != "subscribed":  # a fresh confirmation, never a re-subscription by this link
                ask = signup.Ask(sub.email, "", sub.tags, "unsubscribe-page", *client_keys(secret, environ))
                self.subscribe.ask(environ, secret, ask)
            return self._page(200, "resubscribed", email=sub.email, action=self._action(sub, secret))
        # RFC 8058 one-click (any body), or our own form's "unsubscribe"
        current = preferences.unsubscribe(conn, sub, self.s.clock())
        return self._page(200, "unsubscribed", email=current.email, action=self._action(current, secret))
