"""A German and a French site (tests/data/lang/), built and composed as their owners would, and read
back as readers read them: the digest's message with the email package and lxml, the feeds with
feedparser and `syndicate check`, the sign-up pages over real HTTP, the digest in Chromium."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest
from click.testing import CliRunner
from conftest import TEST_DATA, build_site
from test_browser import CHROMIUM, LAUNCH_ARGS, no_horizontal_scroll, screenshot
from test_subscribe import Site, link_in, site  # noqa: F401 - `site` is the fixture, serving `built` below

from syndicate.cli import main
from syndicate.config import Config, load_config
from syndicate.feeds.check import check_directory


def site_copy(tmp_path: Path, lang: str) -> Path:
    root = tmp_path / lang
    shutil.copytree(TEST_DATA / "lang" / lang, root)
    return root


def digest(root: Path, *args: str) -> tuple[str, Path]:
    out = root / "digest"
    result = CliRunner().invoke(
        main, ["digest", "--site", str(root), "--today", "2013-04-30", "--out", str(out), *args]
    )
    assert result.exit_code == 0, result.output
    return result.output, out


def message_of(out: Path) -> tuple[EmailMessage, str, Any]:
    message = email.message_from_bytes((out / "issue.eml").read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content().replace("\r\n", "\n")  # type: ignore[attr-defined]
    return message, text, lxml.html.fromstring(html.get_content())  # type: ignore[attr-defined]


def text_of(tree: Any, selector: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in tree.cssselect(selector)]


def test_a_german_weekly_digest(tmp_path: Path) -> None:
    output, out = digest(site_copy(tmp_path, "de"), "--week", "2013-W16")
    assert "Werkstattnotizen: 3 neue Beiträge, Woche vom 15. April 2013" in output
    message, plain, tree = message_of(out)
    assert message["Subject"] == "Werkstattnotizen: 3 neue Beiträge, Woche vom 15. April 2013"
    assert plain.startswith("Werkstattnotizen: Wochen-Newsletter\nMontag, 15. April bis Sonntag, 21. April 2013\n")
    assert "\nGuten Tag,\n\n3 neue Beiträge in dieser Woche.\n" in plain
    assert "\nDIENSTAG, 16. APRIL\n" in plain and "Schlagwörter: Holz, Werkzeug" in plain
    assert "Abonnement verwalten: [" in plain and "\nLinks:\n" in plain
    assert tree.get("lang") == "de"
    assert text_of(tree, "h2.day") == ["Montag, 15. April", "Dienstag, 16. April", "Donnerstag, 18. April"]
    assert text_of(tree, ".issue-label") == ["Wochen-Newsletter · Montag, 15. April bis Sonntag, 21. April 2013"]
    assert text_of(tree, ".intro")[0] == "3 neue Beiträge in dieser Woche."
    assert text_of(tree, ".byline") == ["09:30", "14:05", "20:15"]  # Berlin's clock, 24 hours
    assert text_of(tree, ".view-online") == ["Diese Ausgabe im Browser ansehen"]
    assert "Ganzen Beitrag lesen →" in text_of(tree, "a.more")
    footer = text_of(tree, ".footer")[0]
    assert "weil Sie den Wochen-Newsletter von Werkstattnotizen abonniert haben" in footer
    assert "Abbestellen" in footer
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    assert text_of(page, "h1")[0] == "Werkstattnotizen: 3 neue Beiträge, Woche vom 15. April 2013"
    assert "Frühere Ausgaben" in page.text_content()


def test_a_german_digest_of_one_day_has_one_post(tmp_path: Path) -> None:
    output, out = digest(site_copy(tmp_path, "de"), "--since", "2013-04-16", "--until", "2013-04-16")
    assert "Werkstattnotizen: 1 neuer Beitrag, 16. April 2013" in output
    _, plain, tree = message_of(out)
    assert "1 neuer Beitrag seit der letzten Ausgabe." in plain
    assert "Dienstag, 16. April 2013" in text_of(tree, ".issue-label")[0]


def test_a_french_weekly_digest(tmp_path: Path) -> None:
    nbsp = "\u00a0"
    _, out = digest(site_copy(tmp_path, "fr"), "--week", "2013-W16")
    message, plain, tree = message_of(out)
    # a subject is one line of plain spaces (text.one_line), so the colon's no-break space becomes one
    assert message["Subject"] == "Carnet de cuisine : 2 nouveaux articles, semaine du 15 avril 2013"
    assert f"Carnet de cuisine{nbsp}: lettre hebdomadaire" in plain
    assert "du lundi 15 avril au dimanche 21 avril 2013" in plain and "\nBonjour,\n" in plain
    assert text_of(tree, "h2.day") == ["lundi 15 avril", "mercredi 17 avril"]
    assert text_of(tree, ".intro")[0] == "2 nouveaux articles cette semaine."
    assert tree.cssselect(".tags")[0].text_content() == f"Mots-clés{nbsp}: Boulangerie"
    _, out = digest(site_copy(tmp_path / "one", "fr"), "--week", "2013-W17")
    message, plain, _ = message_of(out)
    assert message["Subject"] == "Carnet de cuisine : 1 nouvel article, semaine du 22 avril 2013"
    assert "\n1 nouvel article cette semaine.\n" in plain


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = site_copy(tmp_path_factory.mktemp("german"), "de")
    config = load_config(root / "syndicate.toml")
    build_site(config)
    return config


@pytest.fixture(scope="module")
def built(german: Config) -> Config:
    """What test_subscribe's `site` fixture serves (on loopback, with an SMTP server): the German site."""
    return german


def test_german_feeds_carry_german_titles_and_pass_the_checks(german: Config) -> None:
    out = german.output_dir
    problems, checked = check_directory(out)
    assert problems == [] and checked >= 9
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((out / "tags" / "holz" / name).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.feed.title == "Werkstattnotizen: Schlagwort „Holz“"
        assert parsed.feed.get("language", "de") == "de"
        assert [e.title for e in parsed.entries] == ["Welcher Leim für welches Holz?", "Den Hobel richtig einstellen"]
        category = feedparser.parse((out / "categories" / "grundlagen" / name).read_bytes())
        assert category.feed.title == "Werkstattnotizen: Kategorie „Grundlagen“"
    described = json.loads((out / "tags" / "holz" / "feed.json").read_bytes())
    assert described["description"] == "Beiträge mit dem Schlagwort „Holz“ auf Werkstattnotizen"
    index = lxml.html.fromstring((out / "index.html").read_bytes())
    assert text_of(index, "h2") == ["Die ganze Website", "Newsletter", "Kategorien", "Schlagwörter"]
    assert "(1 Eintrag)" in index.text_content() and "(2 Einträge)" in index.text_content()
    opml = (out / "feeds.opml").read_text(encoding="utf-8")
    assert "<title>Werkstattnotizen: alle Feeds</title>" in opml and 'text="Schlagwörter"' in opml
    form = lxml.html.fromstring((out / "subscribe.html").read_bytes())
    assert text_of(form, "h1") == ["Der Wochen-Newsletter von Werkstattnotizen"]
    assert text_of(form, "button") == ["Abonnieren"]


def test_signing_up_to_a_german_site_is_in_german(site: Site) -> None:  # noqa: F811 - the fixture
    form = lxml.html.fromstring(site.request("GET", "/subscribe").body)
    assert text_of(form, "label[for=sub-email]") == ["E-Mail-Adresse"]
    wrong = site.subscribe("nicht-eine-adresse", wait=5)
    assert wrong.status == 400 and "Das sieht nicht nach einer E-Mail-Adresse aus" in wrong.text
    answer = site.subscribe("ute@example.org", "Ute", ("Holz",))
    page = lxml.html.fromstring(answer.body)
    assert text_of(page, "h1") == ["Bitte sehen Sie in Ihr Postfach"]
    assert "Der Link gilt 48 Stunden lang." in page.text_content()
    (confirm,) = site.mails("Bitte bestätigen")
    assert confirm["Subject"] == "Bitte bestätigen Sie Ihre Anmeldung bei Werkstattnotizen"
    text = confirm.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Jemand – hoffentlich Sie – möchte den Wochen-Newsletter von Werkstattnotizen" in " ".join(text.split())
    assert "Der Link gilt bis Mittwoch, 1. Mai 2013, 11:00 Uhr (CEST)." in " ".join(text.split())
    shown = site.request("GET", link_in(confirm, "/confirm"))
    assert text_of(lxml.html.fromstring(shown.body), "button") == ["Anmeldung bestätigen"]
    action, _ = shown.form()
    done = lxml.html.fromstring(site.post(action, {}).body)
    assert text_of(done, "h1") == ["Sie sind angemeldet"]
    (welcome,) = site.mails("Willkommen")
    assert welcome.get_body(("plain",)).get_content().startswith("Hallo Ute,\r\n")  # type: ignore[union-attr]
    manage = lxml.html.fromstring(site.request("GET", link_in(welcome, "/manage")).body)
    assert text_of(manage, "h1") == ["Ihr Abonnement"]
    assert "Themen speichern" in text_of(manage, "button") and "Abbestellen" in text_of(manage, "button")
    unsubscribe = lxml.html.fromstring(site.request("GET", link_in(welcome, "/unsubscribe")).body)
    assert text_of(unsubscribe, "h1") == ["Abbestellen?"]


@pytest.mark.browser
def test_a_german_digest_looks_right_in_chromium(tmp_path: Path) -> None:
    """The issue says "a digest is composed for a German site and looked at": this is the looking."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with apt-get install chromium", pytrace=False)
    from playwright.sync_api import sync_playwright

    _, out = digest(site_copy(tmp_path, "de"), "--week", "2013-W16")
    html = email.message_from_bytes((out / "issue.eml").read_bytes(), policy=email.policy.default)
    body = html.get_body(("html",)).get_content()  # type: ignore[union-attr]
    page_file = tmp_path / "email.html"
    page_file.write_text(body, encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            for width in (600, 375):
                context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
                page = context.new_page()
                page.goto(page_file.as_uri())
                no_horizontal_scroll(page, width)
                shown = page.evaluate("document.body.innerText")
                for words in ("Guten Tag,", "3 neue Beiträge in dieser Woche.", "DIENSTAG, 16. APRIL", "Abbestellen"):
                    assert words.casefold() in shown.casefold()
                assert page.evaluate("document.documentElement.lang") == "de"
                screenshot(page, f"issue-de-email-{width}")
                context.close()
        finally:
            browser.close()
