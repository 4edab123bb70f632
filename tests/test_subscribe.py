"""Signing up over real HTTP on loopback, with the emails caught by a real aiosmtpd server.

The app's clock is a variable the tests move, so "the form was posted 5 s after it was
served" and "the link is 49 hours old" are exact.
"""

from __future__ import annotations

import email
import email.policy
import http.client
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import lxml.html
import pytest
from conftest import build_site, copy_example_site
from test_mail import Received, Recorder, SmtpServer

from syndicate.build.subscribing import export_subscribers
from syndicate.config import Config, SmtpConfig, load_config
from syndicate.subscribers import store as subs
from syndicate.subscribers.signing import confirm_token, form_stamp
from syndicate.web import wsgi as web

SECRET = b"test-secret-0123456789abcdef"
START = datetime(2013, 4, 29, 9, 0, tzinfo=UTC)
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def form(self, index: int = -1) -> tuple[str, list[tuple[str, str]]]:
        """A form on the page: its action and its hidden and text fields."""
        tree = lxml.html.fromstring(self.body)
        form = tree.xpath("//form")[index]
        fields = [(i.get("name"), i.get("value") or "") for i in form.xpath(".//input[@type='hidden']")]
        return form.get("action"), fields


@dataclass
class Site:
    """The example site, built, served by the app on loopback, mailing to an aiosmtpd server."""

    config: Config
    recorder: Recorder
    clock: Clock
    port: int = 0
    _stop: list[object] = field(default_factory=list)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def post(self, path: str, fields: list[tuple[str, str]] | dict[str, str], **headers: str) -> Answer:
        return self.request("POST", path, urlencode(fields).encode(), {**FORM_HEADERS, **headers})

    def subscribe(self, email: str, name: str = "", tags: tuple[str, ...] = (), wait: float = 5) -> Answer:
        """Fill in the app's own form like a person: fetch it, wait, post it back."""
        action, hidden = self.request("GET", "/subscribe").form()
        self.clock.tick(wait)
        return self.post(action, [*hidden, ("email", email), ("name", name), *[("tags", t) for t in tags]])

    def mails(self, kind: str = "") -> list[EmailMessage]:
        with self.recorder.lock:
            received: list[Received] = list(self.recorder.received)
        messages = [r.message for r in received]
        return [m for m in messages if kind in str(m["Subject"])]

    def db(self) -> sqlite3.Connection:
        assert self.config.database is not None
        return subs.connect(self.config.database)

    def status(self, email: str) -> str | None:
        found = subs.find(self.db(), email)
        return found.status if found else None


def link_in(message: EmailMessage, path: str) -> str:
    """The path and query of the first link to `path` in the message's text part."""
    part = message.get_body(("plain",))
    assert part is not None
    text = part.get_content()  # type: ignore[attr-defined]
    match = re.search(r"https?://[^\s>]+" + re.escape(path) + r"\?token=[^\s>]+", text)
    assert match is not None, f"no {path} link in:\n{text}"
    parts = urlsplit(match[0])
    return f"{parts.path}?{parts.query}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("subscribe")
    config = load_config(copy_example_site(root / "site"), output_dir=root / "out")
    build_site(config)
    return config


@pytest.fixture
def site(built: Config, tmp_path: Path) -> Iterator[Site]:
    recorder = Recorder()
    smtp = SmtpServer(recorder)
    config = replace(
        built,
        database=tmp_path / "subscribers.sqlite3",
        smtp=SmtpConfig(host="127.0.0.1", port=smtp.port, security="none", timeout=10),
    )
    clock = Clock()
    httpd = web.local_server(web.make_app(config, preview=True, secret=SECRET, clock=clock), "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Site(config, recorder, clock, httpd.server_port)
    httpd.shutdown()
    httpd.server_close()
    smtp.stop()


# ------------------------------------------------------------------------------------------ the whole flow


def test_subscribe_confirm_welcome_manage_unsubscribe(site: Site) -> None:
    page = site.request("GET", "/subscribe")
    assert page.status == 200 and "no-store" in page.headers["cache-control"]
    tree = lxml.html.fromstring(page.body)
    assert "OpenStack" in tree.xpath("//input[@name='tags']/@value")  # the site's real tags

    answer = site.subscribe("ann@example.org", "Ann <b>Lee</b>", ("OpenStack", "not-a-tag"))
    assert answer.status == 200 and "Check your inbox" in answer.text
    assert "Ann" not in answer.text
    assert site.status("ann@example.org") is None  # nothing until confirmed
    (confirm_mail,) = site.mails("Confirm")
    assert confirm_mail["To"] == "ann@example.org"
    assert "Ann" not in confirm_mail.as_string()  # the typed name never goes out before confirmation
    html = confirm_mail.get_body(("html",))
    assert html is not None and 'style="' in html.get_content()  # type: ignore[attr-defined]
    link = link_in(confirm_mail, "/confirm")

    shown = site.request("GET", link)  # what a mail scanner does: changes nothing
    assert shown.status == 200 and "Confirm my subscription" in shown.text
    assert site.status("ann@example.org") is None
    action, _ = shown.form()
    done = site.post(action, {})
    assert done.status == 200 and "You are subscribed" in done.text
    sub = subs.find(site.db(), "ann@example.org")
    assert sub is not None and sub.status == "subscribed" and sub.tags == frozenset({"OpenStack"})
    assert sub.name == "Ann <b>Lee</b>"

    (welcome,) = site.mails("Welcome")
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hi Ann <b>Lee</b>," in welcome.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    manage = link_in(welcome, "/manage")
    assert site.post(action, {}).text.count("used already") == 1  # a second press subscribes nobody twice
    assert len(site.mails("Welcome")) == 1

    page = site.request("GET", manage)
    assert page.status == 200 and "ann@example.org" in page.text
    saved = site.post(manage, [("action", "tags"), ("tags", "SDN"), ("tags", "Puppet")])
    assert "Saved" in saved.text
    sub = subs.find(site.db(), "ann@example.org")
    assert sub is not None and sub.tags == frozenset({"SDN", "Puppet"})


def test_consent_is_recorded_and_exported(site: Site, tmp_path: Path) -> None:
    site.subscribe("bo@example.org")
    confirm_at = site.clock.now + timedelta(hours=1)
    site.clock.now = confirm_at
    action, _ = site.request("GET", link_in(site.mails("Confirm")[0], "/confirm")).form()
    site.post(action, {})
    out = tmp_path / "export.csv"
    export_subscribers(site.config, None, out)
    header, row = out.read_text(encoding="utf-8").splitlines()
    assert header.endswith("consent_requested,consent_form,consent_confirmed")
    assert row.endswith(f"{(START + timedelta(seconds=5)).isoformat()},subscribe-page,{confirm_at.isoformat()}")


# ------------------------------------------------------------------------------------------ abuse


def test_honeypot_gets_the_same_answer_and_no_mail(site: Site) -> None:
    action, hidden = site.request("GET", "/subscribe").form()
    site.clock.tick(5)
    bot = site.post(action, [*hidden, ("email", "victim@example.org"), ("website", "http://spam.example")])
    person = site.subscribe("person@example.org")
    assert bot.status == person.status == 200
    assert bot.text.replace("victim", "person") == person.text
    assert [m["To"] for m in site.mails()] == ["person@example.org"]


def test_too_fast_and_forged_stamps_send_nothing(site: Site) -> None:
    action, hidden = site.request("GET", "/subscribe").form()
    fast = site.post(action, [*hidden, ("email", "fast@example.org")])  # no time passed
    forged = site.post(action, [("stamp", "1.AAAAAAAAAAAAAAAAAAAAAA"), ("email", "forged@example.org")])
    site.clock.tick(5)
    future = site.post(
        action, [("stamp", form_stamp(SECRET, site.clock.now + timedelta(hours=1))), ("email", "f@x.org")]
    )
    assert fast.status == forged.status == future.status == 200
    assert all("Check your inbox" in a.text for a in (fast, forged, future))
    assert site.mails() == []


def test_a_post_without_stamp_asks_once_more(site: Site) -> None:
    """The built subscribe.html carries no stamp: the app answers with one button of its own."""
    step = site.post("/subscribe", [("email", "static@example.org"), ("tags", "SDN"), ("form", "embedded")])
    assert step.status == 200 and "Almost there" in step.text and site.mails() == []
    action, hidden = step.form()
    assert ("tags", "SDN") in hidden and ("form", "embedded") in hidden
    site.clock.tick(3)
    assert "Check your inbox" in site.post(action, hidden).text
    assert [m["To"] for m in site.mails()] == ["static@example.org"]


def test_one_confirmation_per_address_per_few_hours(site: Site) -> None:
    for _ in range(3):
        assert "Check your inbox" in site.subscribe("again@example.org").text
    assert len(site.mails()) == 1
    site.clock.tick(5 * 3600)
    site.subscribe("again@example.org")
    assert len(site.mails()) == 2


def test_per_ip_limit(site: Site) -> None:
    answers = [site.subscribe(f"n{n}@example.org", wait=3) for n in range(25)]
    assert {a.status for a in answers} == {200}
    assert len({a.text.split("<main>")[0] for a in answers}) == 1
    assert len(site.mails()) == 20  # limits.PER_IP: the rest looked the same and sent nothing


def test_per_address_limit_counts_refused_tries(site: Site) -> None:
    for _ in range(6):
        site.subscribe("target@example.org", wait=3)
        site.clock.tick(4 * 3600 + 1)  # past the one-mail window each time
    assert len(site.mails()) == 5  # limits.PER_ADDRESS in a day


def test_request_size_cap(site: Site) -> None:
    big = b"email=a%40example.org&name=" + b"x" * 20_000
    answer = site.request("POST", "/subscribe", big, FORM_HEADERS)
    assert answer.status == 200 and "Check your inbox" in answer.text and site.mails() == []


def test_known_and_unknown_addresses_get_identical_answers(site: Site) -> None:
    subs.add(site.db(), "member@example.org", "Member", START)
    site.clock.tick(3600)
    known = site.subscribe("member@example.org")
    unknown = site.subscribe("stranger@example.org")
    assert known.status == unknown.status == 200
    assert known.headers.keys() == unknown.headers.keys()
    assert known.text.replace("member", "X") == unknown.text.replace("stranger", "X")
    already = site.mails("Your subscription")
    assert [m["To"] for m in already] == ["member@example.org"]  # a manage link, not a confirmation
    assert "Member" not in already[0].as_string()
    assert [m["To"] for m in site.mails("Confirm")] == ["stranger@example.org"]


def test_manage_without_token_answers_the_same_for_anyone(site: Site) -> None:
    subs.add(site.db(), "member@example.org", "Member", START)
    answers = []
    for address in ("member@example.org", "nobody@example.org"):
        action, hidden = site.request("GET", "/manage").form()
        site.clock.tick(5)
        answers.append(site.post(action, [*hidden, ("email", address)]))
    assert answers[0].text.replace("member", "X") == answers[1].text.replace("nobody", "X")
    assert [m["To"] for m in site.mails()] == ["member@example.org"]
    assert site.request("GET", link_in(site.mails()[0], "/manage")).status == 200


def test_invalid_address_is_said_plainly(site: Site) -> None:
    answer = site.subscribe("not an address")
    assert answer.status == 400 and "does not look like an email address" in answer.text and site.mails() == []


# ------------------------------------------------------------------------------------------ tokens


def test_expired_and_forged_confirmation_links(site: Site) -> None:
    site.subscribe("late@example.org")
    link = link_in(site.mails("Confirm")[0], "/confirm")
    site.clock.tick(49 * 3600)
    assert site.request("GET", link).status == 410
    assert site.post(link, {}).status == 410
    assert site.status("late@example.org") is None
    pending_id, expires, nonce, _ = link.split("token=")[1].split(".")
    later = str(int(expires) + 100 * 3600)
    edited = f"{pending_id}.{later}.{nonce}.{link.rsplit('.', 1)[1]}"
    other_secret = confirm_token(b"another-secret-0123456789", int(pending_id), int(later), nonce)
    for token in (edited, other_secret, "garbage", ""):
        assert site.post(f"/confirm?token={token}", {}).status == 400
    wrong_nonce = confirm_token(SECRET, int(pending_id), int(later), "0" * 32)
    assert site.post(f"/confirm?token={wrong_nonce}", {}).status == 400
    assert site.status("late@example.org") is None


def test_old_unsubscribe_links_work_after_resubscribing_and_never_subscribe(site: Site) -> None:
    _, sub = subs.add(site.db(), "ann@example.org", "Ann", START)
    from syndicate.subscribers.tokens import make_token

    old = f"/unsubscribe?token={make_token(SECRET, sub.id, sub.nonce)}"
    assert site.post(old, {"List-Unsubscribe": "One-Click"}).status == 200
    assert site.status("ann@example.org") == "unsubscribed"
    # the old email's page offers only a fresh confirmation
    again = site.post(old, {"action": "resubscribe"})
    assert "Check your inbox" in again.text and site.status("ann@example.org") == "unsubscribed"
    action, _ = site.request("GET", link_in(site.mails("Confirm")[0], "/confirm")).form()
    site.post(action, {})
    assert site.status("ann@example.org") == "subscribed"
    # the link from before the re-subscription still unsubscribes: never "expired"
    answer = site.post(old, {"List-Unsubscribe": "One-Click"})
    assert answer.status == 200 and site.status("ann@example.org") == "unsubscribed"
    # and the manage page of an old email cannot subscribe anyone by itself
    manage = old.replace("/unsubscribe", "/manage")
    assert site.post(manage, {"action": "resume"}).status == 200
    assert site.status("ann@example.org") == "unsubscribed"


def test_pause_and_resume(site: Site) -> None:
    _, sub = subs.add(site.db(), "p@example.org", "P", START)
    from syndicate.subscribers.tokens import make_token

    manage = f"/manage?token={make_token(SECRET, sub.id, sub.nonce)}"
    assert "Paused" in site.post(manage, {"action": "pause"}).text
    assert site.status("p@example.org") == "unsubscribed"  # so no send mails them
    assert "paused" in site.request("GET", manage).text
    site.clock.tick(60)
    assert "Resumed" in site.post(manage, {"action": "resume"}).text
    assert site.status("p@example.org") == "subscribed"
    site.post(manage, {"action": "pause"})
    site.clock.tick(60)
    subs.remove(site.db(), "p@example.org", site.clock.now)  # the owner removes them while paused
    assert "stopped, not paused" in site.post(manage, {"action": "resume"}).text
    assert site.status("p@example.org") == "unsubscribed"


def test_erased_subscriber_link_answers_unsubscribed(site: Site) -> None:
    _, sub = subs.add(site.db(), "gone@example.org", "G", START)
    from syndicate.subscribers.tokens import make_token

    link = f"/unsubscribe?token={make_token(SECRET, sub.id, sub.nonce)}"
    subs.remove(site.db(), "gone@example.org", START, forget=True)
    answer = site.post(link, {})
    assert answer.status == 200 and "not on the list" in answer.text


def test_an_unused_older_confirmation_cannot_undo_a_later_unsubscribe(site: Site) -> None:
    site.subscribe("twice@example.org")
    first_link = link_in(site.mails("Confirm")[0], "/confirm")
    site.clock.tick(5 * 3600)
    site.subscribe("twice@example.org")
    second_link = link_in(site.mails("Confirm")[1], "/confirm")
    site.post(second_link, {})
    assert site.status("twice@example.org") == "subscribed"
    sub = subs.find(site.db(), "twice@example.org")
    assert sub is not None
    site.clock.tick(60)
    subs.remove(site.db(), "twice@example.org", site.clock.now)
    assert "used already" in site.post(first_link, {}).text  # used up when the second was confirmed
    assert site.status("twice@example.org") == "unsubscribed"


def test_a_request_made_before_leaving_cannot_subscribe_after(site: Site) -> None:
    subs.add(site.db(), "left@example.org", "", START)
    subs.remove(site.db(), "left@example.org", START)
    site.clock.tick(3600)
    site.subscribe("left@example.org")
    link = link_in(site.mails("Confirm")[0], "/confirm")
    site.clock.tick(60)
    subs.add(site.db(), "left@example.org", None, site.clock.now, resubscribe=True)  # back by other means
    site.clock.tick(60)
    subs.remove(site.db(), "left@example.org", site.clock.now)  # and out again
    assert site.post(link, {}).status == 400
    assert site.status("left@example.org") == "unsubscribed"


def test_a_paused_reader_can_still_unsubscribe_for_good(site: Site) -> None:
    _, sub = subs.add(site.db(), "p@example.org", "P", START)
    from syndicate.subscribers.tokens import make_token

    token = make_token(SECRET, sub.id, sub.nonce)
    site.post(f"/manage?token={token}", {"action": "pause"})
    page = site.request("GET", f"/unsubscribe?token={token}")
    assert 'value="unsubscribe"' in page.text
    site.post(f"/unsubscribe?token={token}", {"action": "unsubscribe"})
    site.clock.tick(60)
    assert "stopped, not paused" in site.post(f"/manage?token={token}", {"action": "resume"}).text
    assert site.status("p@example.org") == "unsubscribed"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('subscribe_url = "/subscribe"', "subscribe_url"),
        ("confirm_hours = 0", "confirm_hours"),
        ('confirm_hours = "48"', "confirm_hours"),
    ],
)
def test_bad_settings_name_their_key(tmp_path: Path, table: str, message: str) -> None:
    from syndicate.errors import ConfigError

    site = copy_example_site(tmp_path / "site")
    site.write_text(site.read_text(encoding="utf-8") + f"\n{table}\n", encoding="utf-8")  # the example ends in [digest]
    with pytest.raises(ConfigError, match=message):
        load_config(site)


def test_every_digest_carries_a_manage_link_that_opens_the_readers_page(site: Site) -> None:
    from syndicate.build.compose import compose_issue
    from syndicate.delivery.send import Letterhead, recipient_for
    from syndicate.newsletter.issue import manage_page, unsubscribe_base
    from syndicate.newsletter.message import personal_bytes

    conn = site.db()
    subs.add(conn, "reader@example.org", "Reader", site.clock(), tags=frozenset({"SDN"}))
    reader = subs.find(conn, "reader@example.org")
    assert reader is not None
    issue = compose_issue(site.config, datetime(2013, 4, 30).date(), lambda _m: None, week="2013-W16")
    assert issue is not None
    head = Letterhead("author@example.org", SECRET, unsubscribe_base(site.config), manage_page(site.config))
    message = email.message_from_bytes(
        personal_bytes(site.config, issue, recipient_for(reader, head), site.clock()), policy=email.policy.default
    )
    assert isinstance(message, EmailMessage)
    manage, unsubscribe = link_in(message, "/manage"), link_in(message, "/unsubscribe")
    assert manage.split("?")[1] == unsubscribe.split("?")[1]  # the same signed token
    html_part = message.get_body(("html",))
    assert html_part is not None and manage.split("?")[1] in html_part.get_content()  # type: ignore[attr-defined]
    page = site.request("GET", manage)
    assert page.status == 200 and "reader@example.org" in page.text
    checked = lxml.html.fromstring(page.body).xpath("//input[@name='tags'][@checked]/@value")
    assert checked == ["SDN"]
