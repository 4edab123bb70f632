"""The site's language (issue 19, item 5): catalogs, plurals, dates, fallbacks and a site's own words.

The sites themselves (a German and a French one, digests, feeds, pages) are in test_language_site.py.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner
from conftest import TEST_DATA, build_site, make_site, output_files, post_text
from lang_messages import messages

from syndicate.cli import main
from syndicate.config import load_config
from syndicate.errors import ConfigError, SyndicateError
from syndicate.language import _language, builtin_locale, language_for

SHIPPED = ("en", "de", "fr")
COUNTS = (0, 1, 2, 5, 21)
# what each language says for COUNTS: French counts 0 and 1 as singular, German and English only 1
NEW_POSTS = {
    "en": ["0 new posts", "1 new post", "2 new posts", "5 new posts", "21 new posts"],
    "de": ["0 neue Beiträge", "1 neuer Beitrag", "2 neue Beiträge", "5 neue Beiträge", "21 neue Beiträge"],
    "fr": [
        "0 nouvel article",
        "1 nouvel article",
        "2 nouveaux articles",
        "5 nouveaux articles",
        "21 nouveaux articles",
    ],
}
SINGULAR = {"en": {1}, "de": {1}, "fr": {0, 1}}


def catalog(lang: str):  # type: ignore[no-untyped-def]
    with (builtin_locale() / lang / "LC_MESSAGES" / "syndicate.po").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("lang", SHIPPED)
def test_new_posts_follow_each_languages_plural_rule(lang: str) -> None:
    words = language_for(lang)
    assert [words.ngettext("%(num)d new post", "%(num)d new posts", n) for n in COUNTS] == NEW_POSTS[lang]


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_count_in_every_message_takes_the_right_form(lang: str) -> None:
    """No "1 new posts" anywhere: each plural message gives its singular exactly for the singular counts."""
    words = language_for(lang)
    plurals = [forms for forms in messages().values() if len(forms) == 2]
    assert len(plurals) >= 10
    for singular, plural in plurals:
        for n in COUNTS:
            shown = words.translations.ngettext(singular, plural, n)
            if lang == "en":
                assert shown == (singular if n in SINGULAR[lang] else plural)
            else:
                forms = catalog(lang)[singular].string
                assert shown == forms[0 if n in SINGULAR[lang] else 1], (lang, singular, n)


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_every_message_of_code_and_templates_is_translated(lang: str) -> None:
    """A new English word without a German and a French translation fails here."""
    shipped = catalog(lang)
    missing = []
    for (context, msgid), forms in messages().items():
        entry = shipped.get(forms if len(forms) == 2 else msgid, context=context)
        if entry is None or not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            missing.append((context, msgid))
    assert missing == []
    assert list(shipped.check()) == []  # every %(name)s of a translation is one its message gives


def test_the_english_catalog_lists_every_message_and_translates_none() -> None:
    shipped = catalog("en")
    assert {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in shipped if m.id} == set(messages())
    assert all(not any(m.string) if isinstance(m.string, tuple) else not m.string for m in shipped if m.id)


def test_message_extraction_finds_words_of_templates_and_code() -> None:
    found = messages()
    assert (None, "View this issue in your browser") in found  # email.html
    assert (None, "Check your inbox") in found  # web/subscribe.py, marked with N_
    assert ("tag feed title", "%(site)s: %(name)s") in found  # feeds/groups.py, pgettext
    assert found[(None, "%(num)d new post")] == ("%(num)d new post", "%(num)d new posts")  # wording.py


@pytest.mark.parametrize(
    ("tag", "locale", "word", "day"),
    [
        ("de", "de", "Wochen-Newsletter", "Dienstag, 16. April 2013"),
        ("de-AT", "de_AT", "Wochen-Newsletter", "Dienstag, 16. April 2013"),
        ("de_CH", "de_CH", "Wochen-Newsletter", "Dienstag, 16. April 2013"),
        ("fr", "fr", "Lettre hebdomadaire", "mardi 16 avril 2013"),
        ("fr_CA", "fr_CA", "Lettre hebdomadaire", "mardi 16 avril 2013"),
        ("en", "en", "Weekly digest", "Tuesday 16 April 2013"),
        ("en-GB", "en_GB", "Weekly digest", "Tuesday 16 April 2013"),
        # no catalog: English words, the language's own dates
        ("es", "es", "Weekly digest", "martes, 16 de abril de 2013"),
        ("pt-BR", "pt_BR", "Weekly digest", "terça-feira, 16 de abril de 2013"),
        ("nl-XX", "nl", "Weekly digest", "dinsdag 16 april 2013"),  # a region CLDR does not know: the language
    ],
)
def test_a_language_with_a_region_falls_back_to_its_language(tag: str, locale: str, word: str, day: str) -> None:
    words = language_for(tag)
    assert str(words.locale) == locale
    assert words.gettext("Weekly digest") == word
    assert words.full_date(date(2013, 4, 16)) == day


def test_times_of_day_are_the_locales_own_in_the_sites_zone() -> None:
    moment = datetime(2013, 4, 16, 12, 5, tzinfo=UTC)
    berlin = load_config(TEST_DATA / "lang" / "de" / "syndicate.toml").site.timezone
    assert language_for("de").time_of_day(moment, berlin) == "14:05"
    assert language_for("en").time_of_day(moment, UTC) == "12:05 pm"  # as the digest always wrote it
    assert language_for("fr-CA").time_of_day(moment, UTC) == "12 h 05"


@pytest.mark.parametrize("tag", ["deutsch!", "d", "de--AT", "xx", "12"])
def test_an_invalid_language_is_a_one_line_config_error(tmp_path: Path, tag: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_site(tmp_path, {}, site={"language": tag})
    assert str(caught.value).startswith(str(tmp_path / "syndicate.toml") + ": [site] language")
    assert "'en', 'de', 'fr-CA'" in str(caught.value)
    result = CliRunner().invoke(main, ["build", "--site", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "syndicate.toml" in result.output


# --- a site's own catalog ---------------------------------------------------------------------------

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'


def site_catalog(root: Path, lang: str, text: str) -> Path:
    path = root / "locale" / lang / "LC_MESSAGES" / "syndicate.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def test_a_site_catalog_overrides_only_its_own_entries(tmp_path: Path) -> None:
    config = make_site(tmp_path, {}, site={"language": "de-AT"})
    site_catalog(tmp_path, "de", 'msgid "Weekly digest"\nmsgstr "Wochenschau"\n')
    words = config.words
    assert words.gettext("Weekly digest") == "Wochenschau"
    assert words.gettext("Web version") == "Webversion"  # the shipped word, untouched
    assert words.ngettext("%(num)d new post", "%(num)d new posts", 1) == "1 neuer Beitrag"
    # a regional catalog of the site's beats its plain-language one
    site_catalog(tmp_path, "de_AT", 'msgid "Weekly digest"\nmsgstr "Wochenpost"\n')
    assert config.words.gettext("Weekly digest") == "Wochenpost"


def test_a_site_catalog_gives_words_to_a_language_syndicate_does_not_ship(tmp_path: Path) -> None:
    config = make_site(tmp_path, {}, site={"language": "es", "locale_dir": "words"})
    path = tmp_path / "words" / "es" / "LC_MESSAGES" / "syndicate.po"
    path.parent.mkdir(parents=True)
    path.write_text(
        HEADER.replace('8\\n"\n', '8\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n')
        + 'msgid "%(num)d new post"\nmsgid_plural "%(num)d new posts"\n'
        'msgstr[0] "%(num)d entrada nueva"\nmsgstr[1] "%(num)d entradas nuevas"\n',
        encoding="utf-8",
    )
    words = config.words
    assert [words.ngettext("%(num)d new post", "%(num)d new posts", n) for n in (1, 2)] == [
        "1 entrada nueva",
        "2 entradas nuevas",
    ]
    assert words.gettext("Web version") == "Web version"  # no word given: English


def test_a_site_catalog_without_a_plural_header_takes_its_languages_rule(tmp_path: Path) -> None:
    config = make_site(tmp_path, {}, site={"language": "pl"})
    site_catalog(
        tmp_path,
        "pl",
        'msgid "%(num)d new post"\nmsgid_plural "%(num)d new posts"\n'
        'msgstr[0] "%(num)d nowy wpis"\nmsgstr[1] "%(num)d nowe wpisy"\nmsgstr[2] "%(num)d nowych wpisów"\n',
    )
    words = config.words
    forms = [words.ngettext("%(num)d new post", "%(num)d new posts", n) for n in (1, 2, 5, 22, 25)]
    assert forms == ["1 nowy wpis", "2 nowe wpisy", "5 nowych wpisów", "22 nowe wpisy", "25 nowych wpisów"]


def test_a_literal_percent_in_a_site_catalog_reads_the_same_in_code_and_templates(tmp_path: Path) -> None:
    config = make_site(tmp_path, {}, site={"language": "de"})
    site_catalog(tmp_path, "de", 'msgid "Hello,"\nmsgstr "Hallo zu 100%%,"\n')
    assert config.words.gettext("Hello,") == "Hallo zu 100%,"


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ('msgid "Weekly digest"\nmsgstr "Wochenschau"\nmsgstr_oops "x"\n', 7, "not a valid gettext catalog"),
        ('msgid "Hi %(name)s,"\nmsgstr "Hallo %(nom)s,"\n', 5, "does not fit it"),
        ('msgid "Hello,"\nmsgstr "Moin\n', 6, "not a valid gettext catalog"),  # Babel alone reads "Moi"
        # every translation is %-formatted (as Jinja's newstyle gettext does), so a lone % would be a traceback
        ('msgid "Hello,"\nmsgstr "Hallo zu 100%,"\n', 5, "write %% for a literal %"),
    ],
)
def test_a_malformed_site_catalog_is_a_one_line_error_naming_file_and_line(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    make_site(tmp_path, {"a.md": post_text("Eins")}, site={"language": "de"})
    path = site_catalog(tmp_path, "de", text)
    with pytest.raises(SyndicateError) as caught:
        language_for("de", tmp_path / "locale")
    assert str(caught.value).startswith(f"{path}:{line}: ") and says in str(caught.value)
    result = CliRunner().invoke(main, ["build", "--site", str(tmp_path), "--today", "2013-04-30"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{path}:{line}: " in result.output


def test_a_changed_site_catalog_rebuilds_what_shows_its_words(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"a.md": post_text("Eins", tags=["Holz"])}, site={"language": "de"})
    build_site(config)
    index = config.output_dir / "index.html"
    assert "<h2>Schlagwörter</h2>" in index.read_text(encoding="utf-8")
    assert build_site(config).report.written == ()  # nothing changed: nothing written
    site_catalog(tmp_path, "de", 'msgid "Tags"\nmsgstr "Stichwörter"\n')
    again = build_site(config)
    assert "index.html" in again.report.written
    assert "<h2>Stichwörter</h2>" in index.read_text(encoding="utf-8")
    assert "„Holz“" in (config.output_dir / "tags" / "holz" / "atom.xml").read_text(encoding="utf-8")
    shutil.rmtree(tmp_path / "locale")
    build_site(config)
    assert "<h2>Schlagwörter</h2>" in index.read_text(encoding="utf-8")


def test_catalogs_compile_to_the_same_words_every_time(tmp_path: Path) -> None:
    """The .po text is compiled in memory each time it is read; the same text gives the same bytes."""
    config = make_site(tmp_path, {"a.md": post_text("Eins", tags=["Holz"])}, site={"language": "fr"})
    build_site(config)
    first = output_files(config.output_dir)
    _language.cache_clear()  # read and compile the catalogs again, as a new process would
    shutil.rmtree(config.output_dir)
    shutil.rmtree(tmp_path / ".syndicate-cache")
    build_site(config)
    assert output_files(config.output_dir) == first
    assert "Mots-clés" in first["index.html"].decode("utf-8")
