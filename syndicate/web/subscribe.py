"""Subscribing with double opt-in: GET/POST /subscribe and GET/POST /confirm.

A post of the form answers the same "check your inbox" page whatever happens: a new
address gets a confirmation link, a subscribed one a link to its manage page, and a
post refused as abuse (the honeypot filled in, posted sooner than a person could, over
a rate limit, a confirmation already sent in the last hours) gets nothing. So the form
tells nobody who is on the list, nor what tripped a bot.

GET /confirm only shows a button, because mail scanners open links on their own;
the POST subscribes, records the consent and sends the welcome email.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit
from wsgiref.types import WSGIEnvironment

from syndicate.addresses import InvalidAddress
from syndicate.build.subscribe_pages import published_tags
from syndicate.config import Config
from syndicate.delivery.smtp import SmtpTarget
from syndicate.errors import DeliveryError
from syndicate.language import N_
from syndicate.subscribers import signup
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection, DatabaseError
from syndicate.subscribers.signing import (
    BadLink,
    ConfirmClaim,
    ExpiredLink,
    confirm_token,
    form_stamp,
    from_unix,
    read_confirm_token,
    sibling_url,
    stamp_age,
    subscribe_base,
)
from syndicate.subscribers.tokens import unsubscribe_url
from syndicate.web import mails
from syndicate.web.forms import Fields, client_keys, first, page, query_value, read_form
from syndicate.web.http import Response, log_error, text_response

MIN_SECONDS = 2.0  # a person needs longer than this to fill the form in; a bot posts at once
MAX_STAMP_SECONDS = 24 * 3600  # a form left open longer is asked once more, with a fresh stamp
_FORM_NAME = re.compile(r"^[a-z0-9-]{1,40}$")

_HEADINGS = {
    "inbox": N_("Check your inbox"),
    "step": N_("Almost there"),
    "confirm": N_("Confirm your subscription"),
    "confirmed": N_("You are subscribed"),
    "already": N_("You are subscribed"),
    "expired": N_("This link has expired"),
    "invalid": N_("This link does not work"),
    "unavailable": N_("Subscribing is not available right now"),
}


@dataclass(frozen=True, slots=True)
class Services:
    """What every sign-up endpoint needs: the site, the secret, the clock and the mail server."""

    config: Config
    secret: bytes | DeliveryError
    clock: Callable[[], datetime]
    smtp: SmtpTarget | DeliveryError

    def connect(self) -> Connection:
        return signup.connect(subs.database_path(self.config.database))

    def mail(self, environ: WSGIEnvironment, notice: mails.Notice) -> None:
        if isinstance(self.smtp, DeliveryError):
            log_error(environ, f"syndicate: the {notice.kind} email was not sent: {self.smtp}")
            return
        mails.send_notice(self.config, self.smtp, notice, self.clock(), lambda line: log_error(environ, line))

    def tags(self) -> list[str]:
        return published_tags(self.config.output_dir)

    def known_tags(self, chosen: list[str]) -> frozenset[str] | None:
        """The chosen tags that are the site's own, in the site's spelling (None: every post)."""
        by_key = {t.casefold(): t for t in self.tags()}
        picked = frozenset(by_key[c.casefold()] for c in chosen if c.casefold() in by_key)
        return picked or None

    def expires_text(self, expires: int) -> str:
        """ "Monday 15 April 2013, 14:00 (CEST)", in the site's language and time zone."""
        when = from_unix(expires).astimezone(self.config.site.timezone)
        words = self.config.words
        return words.gettext(
            "%(date)s, %(time)s (%(zone)s)", date=words.full_date(when), time=when.strftime("%H:%M"), zone=when.tzname()
        )


def path_of(url: str) -> str:
    return urlsplit(url).path or "/"


class Subscribe:
    """GET and POST /subscribe."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.path = path_of(subscribe_base(services.config))
        self.confirm_base = sibling_url(services.config, "confirm")

    def handle(self, environ: WSGIEnvironment, method: str) -> Response:
        if method not in ("GET", "HEAD", "POST"):
            return text_response(405, "use GET or POST\n").header("Allow", "GET, HEAD, POST")
        secret = self.s.secret
        if not isinstance(secret, bytes):
            log_error(environ, f"syndicate: subscribing disabled: {secret}")
            return self.page_of(503, "unavailable", message=N_("Please try again later."))
        if method != "POST":
            return self.form_page(secret, 200)
        fields = read_form(environ)
        if fields is None:  # too large: no person's form; read nothing, answer as always
            return self.page_of(200, "inbox", email="")
        try:
            return self._post(environ, secret, fields)
        except DatabaseError as exc:
            log_error(environ, f"syndicate: subscribing unavailable: {exc}")
            return self.page_of(503, "unavailable", message=N_("Please try again in a few minutes."))

    def form_page(self, secret: bytes, status: int, message: str = "", fields: Fields | None = None) -> Response:
        fields = fields or {}
        return page(
            self.s.config,
            "subscribe.html",
            status,
            action=self.path,
            form_name=_form_name(first(fields, "form")),
            stamp=form_stamp(secret, self.s.clock()),
            tags=self.s.tags(),
            chosen=fields.get("tags", []),
            email=first(fields, "email"),
            reader_name=first(fields, "name"),
            message=message,
            archive_url="",
        )

    def page_of(self, status: int, state: str, **values: object) -> Response:
        values.setdefault("message", "")
        values.setdefault("email", "")
        return page(
            self.s.config,
            "signup.html",
            status,
            state=state,
            heading=_HEADINGS[state],
            hours=self.s.config.digest.confirm_hours,
            subscribe_url=self.path,
            **values,
        )

    def _post(self, environ: WSGIEnvironment, secret: bytes, fields: Fields) -> Response:
        typed = first(fields, "email").strip()
        try:
            address = subs.normalize_email(typed)
        except InvalidAddress:
            return self.form_page(secret, 400, N_("That does not look like an email address; please check it."), fields)
        answer = self.page_of(200, "inbox", email=address)
        if first(fields, "website"):
            return answer  # the honeypot: a field people never see
        age = stamp_age(secret, first(fields, "stamp"), self.s.clock())
        if not first(fields, "stamp") or (age is not None and age > MAX_STAMP_SECONDS):
            return self._step(secret, fields)  # the built page or an old one: one button more
        if age is None or age < MIN_SECONDS:
            return answer  # a forged stamp, or a bot's speed
        ask = signup.Ask(
            address,
            subs.clean_name(first(fields, "name")),
            self.s.known_tags(fields.get("tags", [])),
            _form_name(first(fields, "form")),
            *client_keys(secret, environ),
        )
        self.ask(environ, secret, ask)
        return answer

    def ask(self, environ: WSGIEnvironment, secret: bytes, ask: signup.Ask) -> None:
        """Record a request to subscribe and send what it leads to (also used by the manage page)."""
        conn = self.s.connect()
        try:
            decision = signup.request_signup(conn, ask, self.s.clock(), self.s.config.digest.confirm_hours)
        finally:
            conn.close()
        if decision.outcome == "confirm":
            token = confirm_token(secret, decision.pending_id, decision.expires, decision.nonce)
            url = unsubscribe_url(self.confirm_base, token)
            expires = self.s.expires_text(decision.expires)
            self.s.mail(environ, mails.confirm_notice(self.s.config, ask.email, ask.tags, url, expires))
        elif decision.outcome == "known" and decision.subscriber is not None:
            notice = mails.manage_notice(self.s.config, secret, decision.subscriber, "already")
            self.s.mail(environ, notice)

    def _step(self, secret: bytes, fields: Fields) -> Response:
        kept = [(name, value) for name in ("email", "name", "form") for value in fields.get(name, [])[:1]]
        kept += [("tags", tag) for tag in fields.get("tags", [])[:100]]
        kept.append(("stamp", form_stamp(secret, self.s.clock())))
        return self.page_of(200, "step", action=self.path, fields=kept)


def _form_name(text: str) -> str:
    return text if _FORM_NAME.match(text) else "subscribe-page"


class Confirm:
    """GET /confirm shows a button; POST /confirm subscribes."""

    def __init__(self, services: Services, subscribe: Subscribe) -> None:
        self.s = services
        self.subscribe = subscribe
        self.path = path_of(sibling_url(services.config, "confirm"))

    def handle(self, environ: WSGIEnvironment, method: str) -> Response:
        if method not in ("GET", "HEAD", "POST"):
            return text_response(405, "use GET or POST\n").header("Allow", "GET, HEAD, POST")
        secret = self.s.secret
        if not isinstance(secret, bytes):
            log_error(environ, f"syndicate: confirming disabled: {secret}")
            return self.subscribe.page_of(503, "unavailable", message=N_("Please try again later."))
        token = query_value(environ, "token")
        try:
            claim = read_confirm_token(secret, token, self.s.clock())
        except ExpiredLink:
            message = N_("Confirmation links work for a limited time. Fill in the form again to get a new one.")
            return self.subscribe.page_of(410, "expired", message=message)
        except BadLink:
            message = N_("The link is not valid; it may have been cut short. Copy the whole link from the email.")
            return self.subscribe.page_of(400, "invalid", message=message)
        try:
            return self._answer(environ, method, secret, claim, token)
        except DatabaseError as exc:
            log_error(environ, f"syndicate: confirming unavailable: {exc}")
            return self.subscribe.page_of(503, "unavailable", message=N_("Please try again in a few minutes."))

    def _answer(
        self, environ: WSGIEnvironment, method: str, secret: bytes, claim: ConfirmClaim, token: str
    ) -> Response:
        conn = self.s.connect()
        try:
            if method != "POST":
                request = signup.pending(conn, claim)
                if request is None:
                    return self._unknown()
                if request.confirmed:
                    return self.subscribe.page_of(200, "already", email=request.email)
                action = f"{quote(self.path)}?token={quote(token)}"
                return self.subscribe.page_of(200, "confirm", email=request.email, action=action)
            outcome, sub = signup.confirm(conn, claim, self.s.clock())
        finally:
            conn.close()
        if outcome == "unknown" or sub is None:
            return self._unknown()
        if outcome == "subscribed":
            self.s.mail(environ, mails.welcome_notice(self.s.config, secret, sub))
            return self.subscribe.page_of(200, "confirmed", email=sub.email)
        return self.subscribe.page_of(200, "already", email=sub.email)

    def _unknown(self) -> Response:
        message = N_("This link is not valid any more. Fill in the form again to get a new one.")
        return self.subscribe.page_of(400, "invalid", message=message)
