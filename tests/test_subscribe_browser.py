"""Signing up as a reader does it: Debian's chromium (headless, through Playwright) fills in
the form, opens the links from the emails that reach a real aiosmtpd server, presses the
buttons, changes tags on the manage page; then `send --dry-run` must honour them, and an
old email's unsubscribe link must work after a re-subscription.

Screenshots of every page at 375 and 1024 px go to test-output/screenshots/ (not committed).
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import build_site, copy_example_site
from test_browser import browser, no_horizontal_scroll, screenshot  # noqa: F401 (browser is a fixture)
from test_mail import Recorder, SmtpServer
from test_subscribe import SECRET, Clock, link_in

from syndicate.cli.main import main
from syndicate.config import Config, load_config
from syndicate.subscribers import store as subs
from syndicate.web import wsgi as web

WIDTHS = [375, 1024]


class Running:
    """The example site, built, served by `make_app` (as `syndicate serve` does) on loopback."""

    def __init__(self, root: Path) -> None:
        self.recorder = Recorder()
        self.smtp = SmtpServer(self.recorder)
        self.app: Any = None
        # listening first, so the built pages can post to this very server
        self.httpd = web.local_server(lambda environ, start: self.app(environ, start), "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        site = copy_example_site(root / "site")
        extra = (
            f'\nsubscribe_url = "{self.base}/subscribe"\n'  # into [digest], the example's last table
            f'\n[smtp]\nhost = "127.0.0.1"\nport = {self.smtp.port}\nsecurity = "none"\n'
        )
        site.write_text(site.read_text(encoding="utf-8") + extra, encoding="utf-8")
        self.site = site
        self.config: Config = load_config(site, output_dir=root / "out")
        build_site(self.config)
        self.clock = Clock()
        self.app = web.make_app(self.config, preview=True, secret=SECRET, clock=self.clock)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def wait_for_mail(self, subject: str, count: int = 1) -> EmailMessage:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with self.recorder.lock:
                found = [r.message for r in self.recorder.received if subject in str(r.message["Subject"])]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no email {subject!r} (number {count}) arrived")

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.smtp.stop()

    def status(self, address: str) -> str | None:
        assert self.config.database is not None
        found = subs.find(subs.connect(self.config.database), address)
        return found.status if found else None


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    server = Running(tmp_path)
    yield server
    server.stop()


def new_page(browser: Any, width: int) -> Any:  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900})
    # nothing may come from outside loopback: the pages link out, but need nothing from there
    context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    return context.new_page()


def _local(url: str) -> bool:
    return url.startswith("http://127.0.0.1:")


def look_at_email(page: Any, message: EmailMessage, name: str, width: int) -> None:
    """The HTML part as a mail client shows it: fits the width, and the links are there."""
    html = message.get_body(("html",))
    assert html is not None
    page.set_content(html.get_content())  # type: ignore[attr-defined]
    assert page.locator("a.button").count() == 1
    look(page, f"email-{name}", width)


def look(page: Any, name: str, width: int) -> None:
    no_horizontal_scroll(page, width)
    screenshot(page, f"subscribe-{name}-{width}")


def subscribe_in_browser(run: Running, page: Any, width: int, tags: list[str]) -> None:
    page.goto(f"{run.base}/subscribe")
    look(page, "form", width)
    page.fill("#sub-email", "ann@example.org")
    page.fill("#sub-name", "Ann Lee")
    for tag in tags:
        page.check(f"input[name=tags][value='{tag}']")
    run.clock.tick(5)  # a person takes a few seconds
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check your inbox")


def confirm_in_browser(run: Running, page: Any, message: EmailMessage, width: int) -> None:
    page.goto(run.base + link_in(message, "/confirm"))
    look(page, "confirm", width)
    page.click("text=Confirm my subscription")
    page.wait_for_selector("text=Welcome!")
    look(page, "confirmed", width)


@pytest.mark.browser
@pytest.mark.slow
def test_reader_signs_up_manages_and_leaves(browser: Any, running: Running, tmp_path: Path) -> None:  # noqa: F811
    page = new_page(browser, 1024)
    try:
        subscribe_in_browser(running, page, 1024, ["OpenStack"])
        look(page, "inbox", 1024)
        confirmation = running.wait_for_mail("Confirm")
        assert running.status("ann@example.org") is None
        confirm_in_browser(running, page, confirmation, 1024)
        assert running.status("ann@example.org") == "subscribed"

        welcome = running.wait_for_mail("Welcome")
        page.goto(running.base + link_in(welcome, "/manage"))
        look(page, "manage", 1024)
        assert page.is_checked("input[name=tags][value='OpenStack']")
        page.uncheck("input[name=tags][value='OpenStack']")
        page.check("input[name=tags][value='Puppet']")
        page.click("text=Save my topics")
        page.wait_for_selector("text=Saved")
        look(page, "manage-saved", 1024)

        out = tmp_path / "dry"
        result = CliRunner().invoke(
            main,
            ["send", "--week", "2013-W16", "--dry-run", str(out), "--site", str(running.site)],
            env={"SYNDICATE_SECRET": SECRET.decode()},
        )
        assert result.exit_code == 0, result.output
        (eml,) = [p for p in out.glob("*.eml") if "ann" in p.name]
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Building HA OpenStack with Puppet" in text  # tagged Puppet
        assert "Nicira NVP Deep Dive" not in text  # OpenStack only: no longer chosen

        # unsubscribe with the welcome email's link, subscribe again, then use the old link again
        old_unsubscribe = link_in(welcome, "/unsubscribe")
        page.goto(running.base + old_unsubscribe)
        look(page, "unsubscribe", 1024)
        page.click("button:has-text('Unsubscribe')")
        page.wait_for_selector("text=no more digests")
        assert running.status("ann@example.org") == "unsubscribed"
        running.clock.tick(5 * 3600)
        subscribe_in_browser(running, page, 1024, [])
        confirm_in_browser(running, page, running.wait_for_mail("Confirm", 2), 1024)
        assert running.status("ann@example.org") == "subscribed"
        page.goto(running.base + old_unsubscribe)
        page.click("button:has-text('Unsubscribe')")
        page.wait_for_selector("text=no more digests")
        assert running.status("ann@example.org") == "unsubscribed"
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits(browser: Any, running: Running, width: int) -> None:  # noqa: F811
    page = new_page(browser, width)
    try:
        subscribe_in_browser(running, page, width, ["SDN"])
        look(page, "inbox", width)
        confirm_in_browser(running, page, running.wait_for_mail("Confirm"), width)
        welcome = running.wait_for_mail("Welcome")
        look_at_email(page, running.wait_for_mail("Confirm"), "confirm", width)
        look_at_email(page, welcome, "welcome", width)
        page.goto(running.base + link_in(welcome, "/manage"))
        look(page, "manage", width)
        page.click("text=Pause the digest")
        page.wait_for_selector("text=Paused")
        look(page, "manage-paused", width)
        page.goto(running.base + link_in(welcome, "/unsubscribe"))
        look(page, "unsubscribe", width)
        page.goto(f"{running.base}/manage")
        look(page, "manage-ask", width)
        page.goto(f"{running.base}/subscribe.html")  # the page the build writes
        look(page, "static-page", width)
        page.fill("#sub-email", "static@example.org")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Almost there")
        look(page, "step", width)
        page.goto(f"{running.base}/confirm?token=1.2.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAA")
        look(page, "bad-link", width)
    finally:
        page.context.close()
