"""The manage page: /manage?token=… (the same signed token as the unsubscribe link).

A reader chooses tags from the site's real tags, pauses and resumes the digest, or
unsubscribes. Someone who is out (unsubscribed, bounced) is only offered a fresh
confirmation email: no link in an old message can subscribe anyone by itself.
Without a token the page offers to email a link: the same answer for any address,
and a mail only to subscribers.

Cadence: when the site offers more than one (the lead's [digest] cadences), the page
gets a `cadences` list and the form a "cadence" field, saved where `Manage._act` says.
"""

from __future__ import annotations

from urllib.parse import quote
from wsgiref.types import WSGIEnvironment

from syndicate.addresses import InvalidAddress
from syndicate.language import N_
from syndicate.subscribers import pauses, preferences, signup
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection, DatabaseError
from syndicate.subscribers.signing import form_stamp, sibling_url, stamp_age
from syndicate.subscribers.tokens import TokenError, check_current, read_token
from syndicate.web import mails
from syndicate.web.forms import Fields, client_keys, first, page, query_value, read_form
from syndicate.web.http import Response, log_error, text_response
from syndicate.web.subscribe import MIN_SECONDS, Services, Subscribe, path_of

_NOTICES = {
    "tags": N_("Saved: your digest brings the posts you chose."),
    "pause": N_("Paused: no digest until you resume it."),
    "resume": N_("Resumed: the next digest will reach you."),
    "unsubscribe": N_("You are unsubscribed: no more digests."),
    "resubscribe": N_("We emailed you a link: use it to subscribe again."),
    "cannot-resume": N_("This subscription was stopped, not paused: subscribe again to get the digest."),
}


class Manage:
    def __init__(self, services: Services, subscribe: Subscribe) -> None:
        self.s = services
        self.subscribe = subscribe
        self.base = sibling_url(services.config, "manage")
        self.path = path_of(self.base)

    def _page(self, code: int, state: str, heading: str, **values: object) -> Response:
        values.setdefault("notice", "")
        values.setdefault("message", "")
        values.setdefault("status", "")
        return page(self.s.config, "manage.html", code, state=state, heading=heading, **values)

    def handle(self, environ: WSGIEnvironment, method: str) -> Response:
        if method not in ("GET", "HEAD", "POST"):
            return text_response(405, "use GET or POST\n").header("Allow", "GET, HEAD, POST")
        secret = self.s.secret
        if not isinstance(secret, bytes):
            log_error(environ, f"syndicate: the manage page is disabled: {secret}")
            return self._page(503, "error", N_("Not available right now"), message=N_("Please try again later."))
        fields: Fields = {}
        if method == "POST":
            read = read_form(environ)
            if read is None:
                return text_response(413, "request body too large\n")
            fields = read
        token = query_value(environ, "token")
        try:
            if not token:
                return self._ask(environ, secret, method, fields)
            return self._with_token(environ, secret, method, fields, token)
        except DatabaseError as exc:
            log_error(environ, f"syndicate: the manage page is unavailable: {exc}")
            return self._page(
                503, "error", N_("Not available right now"), message=N_("Please try again in a few minutes.")
            )

    def _ask(self, environ: WSGIEnvironment, secret: bytes, method: str, fields: Fields) -> Response:
        now = self.s.clock()
        if method != "POST":
            return self._page(
                200, "ask", N_("Manage your subscription"), action=self.path, stamp=form_stamp(secret, now)
            )
        typed = first(fields, "email").strip()
        age = stamp_age(secret, first(fields, "stamp"), now)
        try:
            address = subs.normalize_email(typed)
        except InvalidAddress:
            address = ""
        shown = address or typed[:254]
        if address and not first(fields, "website") and age is not None and age >= MIN_SECONDS:
            conn = self.s.connect()
            try:
                sub = signup.request_manage_link(conn, address, client_keys(secret, environ), now)
            finally:
                conn.close()
            if sub is not None:
                self.s.mail(environ, mails.manage_notice(self.s.config, secret, sub, "link"))
        return self._page(200, "sent", N_("Check your inbox"), email=shown)

    def _with_token(self, environ: WSGIEnvironment, secret: bytes, method: str, fields: Fields, token: str) -> Response:
        try:
            claim = read_token(secret, token)
        except TokenError:
            message = N_(
                "The link is not valid; it may have been cut short. Use the link at the end of an email from us."
            )
            return self._page(400, "error", N_("This link does not work"), message=message)
        conn = self.s.connect()
        try:
            sub = subs.get(conn, claim.subscriber_id)
            try:
                check_current(claim, sub.nonce if sub else None)
            except TokenError:
                message = N_("This address is not on the list any more.")
                return self._page(200, "error", N_("Not subscribed"), message=message)
            assert sub is not None
            notice = ""
            if method == "POST":
                sub, notice = self._act(environ, secret, conn, sub, fields)
            return self._subscription(conn, sub, token, _NOTICES.get(notice, ""))
        finally:
            conn.close()

    def _subscription(self, conn: Connection, sub: subs.Subscriber, token: str, notice: str) -> Response:
        paused = pauses.paused_since(conn, sub) is not None
        status = "paused" if paused else ("subscribed" if sub.status == "subscribed" else "off")
        tags = self.s.tags()
        mine = sorted(sub.tags or (), key=str.casefold)
        offered = tags + [t for t in mine if t.casefold() not in {x.casefold() for x in tags}]
        return self._page(
            200,
            "subscription",
            N_("Your subscription"),
            email=sub.email,
            status=status,
            tags=offered,
            chosen=mine,
            cadences=[],  # hook: the site's cadences, when it offers more than one
            action=f"{quote(self.path)}?token={quote(token)}",
            notice=notice,
        )

    def _act(
        self, environ: WSGIEnvironment, secret: bytes, conn: Connection, sub: subs.Subscriber, fields: Fields
    ) -> tuple[subs.Subscriber, str]:
        action = first(fields, "action")
        now = self.s.clock()
        if action == "resubscribe":
            if sub.status != "subscribed":
                ask = signup.Ask(sub.email, "", sub.tags, "manage-page", *client_keys(secret, environ))
                self.subscribe.ask(environ, secret, ask)
            return sub, action
        # hook: a "cadence" field, when the site offers several, is saved here too
        return preferences.change(conn, sub, action, self.s.known_tags(fields.get("tags", [])), now)
