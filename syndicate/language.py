"""The site's language: its words (gettext catalogs) and its dates and plurals (Babel, CLDR).

The only module that imports Babel. Catalogs ship as .po text in syndicate/locale/<lang>/
LC_MESSAGES/syndicate.po; a site's own catalog (locale/<lang>/LC_MESSAGES/syndicate.po beside
syndicate.toml) overrides them entry by entry. Each is compiled in memory when first used, so no
binary .mo file is ever committed, and the same .po text always gives the same words.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel.core import Locale, UnknownLocaleError

from syndicate.errors import ConfigError, SyndicateError

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog, Message

DOMAIN = "syndicate"
_PACKAGED = Path(__file__).parent / "locale"
_TAG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")


# the date patterns a catalog may give (msgctxt "date pattern"), as CLDR writes them; English as shipped
DATE_PATTERNS = ("EEEE d MMMM", "EEEE d MMMM y", "d MMMM y", "d MMMM", "MMMM y")


def N_(message: str) -> str:
    return message


def builtin_locale() -> Path:
    return _PACKAGED


def babel_locale(tag: str) -> Locale:
    """The CLDR locale of a BCP 47 tag ("de-AT", "fr_CA", "pt-BR"): the region dropped when CLDR
    does not know it, ValueError when the tag is malformed or its language unknown."""
    if not _TAG.fullmatch(tag):
        raise ValueError(tag)
    parts = re.split(r"[-_]", tag)
    fixed = [parts[0].lower()]
    for part in parts[1:]:
        fixed.append(part.title() if len(part) == 4 else part.upper() if len(part) in (2, 3) else part)
    for count in range(len(fixed), 0, -1):
        try:
            return Locale.parse("_".join(fixed[:count]))
        except (UnknownLocaleError, ValueError):
            continue
    raise ValueError(tag)


def check_language(tag: str, config_path: Path) -> None:
    """A configuration error, at load time, for a language tag no locale answers to."""
    try:
        babel_locale(tag)
    except ValueError:
        raise ConfigError(
            f"[site] language {tag!r} is not a language tag; write one such as 'en', 'de', 'fr-CA' or 'pt-BR'",
            path=config_path,
        ) from None


class Language:
    """The words, plurals and dates of one language, for templates and code alike.

    gettext and ngettext fill in %(name)s values given by keyword (ngettext gives `num`), as
    Jinja's i18n extension does in templates, so one message reads the same in both."""

    def __init__(
        self, tag: str, locale: Locale, translations: gettext.NullTranslations, patterns: frozenset[str]
    ) -> None:
        self.tag = tag
        self.locale = locale
        self.translations = translations
        self._patterns = patterns  # the date patterns the catalog gives (every one in English)
        # a digest of 5,000 posts asks for the same few days and minutes thousands of times
        self._dated = lru_cache(maxsize=1024)(self._formatted_date)
        self._clock = lru_cache(maxsize=1440)(self._formatted_clock)

    def gettext(self, message: str, **values: object) -> str:
        # always formatted, as Jinja's newstyle gettext formats every message: "%%" is a literal % in both
        return self.translations.gettext(message) % values

    def pgettext(self, context: str, message: str, **values: object) -> str:
        return self.translations.pgettext(context, message) % values

    def ngettext(self, singular: str, plural: str, num: int, **values: object) -> str:
        return self.translations.ngettext(singular, plural, num) % {"num": num, **values}

    def _formatted_date(self, day: date, pattern: str, skeleton: str) -> str:
        """A date by the catalog's pattern (the translator's choice) when there is one, else by
        CLDR's own pattern for the locale (a language syndicate has no words for)."""
        # babel.dates (with pytz and the machine's zone) only when a date is written: a build with nothing
        # to do writes none
        from babel.dates import format_date, format_skeleton

        if pattern in self._patterns or self.locale.language == "en":
            return format_date(day, self.translations.pgettext("date pattern", pattern), locale=self.locale)
        if skeleton == "yMMMMEEEEd":  # CLDR's own full date says it better than the nearest skeleton
            return format_date(day, "full", locale=self.locale)
        return format_skeleton(skeleton, day, locale=self.locale)

    def long_date(self, day: date) -> str:
        """ "Monday 15 April" """
        return self._dated(day, "EEEE d MMMM", "MMMMEEEEd")

    def full_date(self, day: date) -> str:
        """ "Monday 15 April 2013" """
        return self._dated(day, "EEEE d MMMM y", "yMMMMEEEEd")

    def day_month_year(self, day: date) -> str:
        """ "15 April 2013" """
        return self._dated(day, "d MMMM y", "yMMMMd")

    def day_month(self, day: date) -> str:
        """ "15 April" """
        return self._dated(day, "d MMMM", "MMMMd")

    def month_year(self, day: date) -> str:
        """ "April 2013" """
        return self._dated(day, "MMMM y", "yMMMM")

    def time_of_day(self, moment: datetime, zone: tzinfo) -> str:
        """ "3:05 pm" in English, "15:05" in German: CLDR's short time in `zone`. The narrow
        no-break space CLDR puts before "PM" becomes a plain one (plain-text mail, older fonts),
        and the marker is lower case, as the digest always wrote it."""
        local = moment.astimezone(zone)
        return self._clock(local.hour, local.minute)

    def _formatted_clock(self, hour: int, minute: int) -> str:
        from babel.dates import format_time  # see _formatted_date

        return format_time(time(hour, minute), "short", locale=self.locale).replace("\u202f", " ").lower()


def _catalog_files(locale: Locale, folders: Sequence[Path | None]) -> list[Path]:
    """The catalogs that apply, weakest first: shipped before the site's, "de" before "de_AT"."""
    names = [locale.language]
    if locale.script:
        names.append(f"{locale.language}_{locale.script}")
    if locale.territory:
        names.append(f"{names[-1]}_{locale.territory}")
    found = []
    for folder in folders:
        for name in names:
            if folder == _PACKAGED and name == "en":
                continue  # the shipped English catalog translates nothing: it is the template to copy
            path = (folder / name / "LC_MESSAGES" / f"{DOMAIN}.po") if folder else None
            if path is not None and path.is_file():
                found.append(path)
    return found


# a .po line: a comment, a keyword and its quoted string, or a quoted string continuing the last one
_PO_LINE = re.compile(r'\s*(#.*|((msgctxt|msgid|msgid_plural|msgstr(\[\d+\])?)\s+)?"(\\.|[^"\\])*")?\s*')


def _check_lines(path: Path, data: bytes) -> None:
    """Babel's reader passes over a quote left open or a stray word; a catalog with one is refused here."""
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not _PO_LINE.fullmatch(line):
            raise SyndicateError(
                f"not a valid gettext catalog line: {line.strip()[:60]!r}; fix the line or remove the file",
                path=path,
                line=number,
            )


def _read_catalog(path: Path, locale: Locale) -> Catalog:
    from babel.messages.pofile import PoFileError, read_po  # only a site with catalogs to read pays for it

    try:
        _check_lines(path, path.read_bytes())
        with path.open("rb") as fileobj:
            # the locale gives a catalog without a Plural-Forms header its language's plural rule
            catalog = read_po(fileobj, locale=locale, domain=DOMAIN, abort_invalid=True)
    except PoFileError as exc:
        line = getattr(exc, "lineno", None)
        raise SyndicateError(
            f"not a valid gettext catalog: {exc}; fix the line or remove the file",
            path=path,
            line=line + 1 if isinstance(line, int) else None,
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SyndicateError(f"cannot read this gettext catalog: {exc}", path=path) from None
    for message, errors in catalog.check():
        raise SyndicateError(
            f"translation of {message.id!r} does not fit it: {errors[0]}; use the same %(name)s values",
            path=path,
            line=message.lineno,
        )
    for message in catalog:
        _check_percent(path, message)
    return catalog


class _AnyValue(dict[str, object]):
    """Every %(name)s a translation may hold, for trying its formatting."""

    def __missing__(self, key: str) -> object:
        return 1


def _check_percent(path: Path, message: Message) -> None:
    """Every translation is formatted with % (its values, or none), so a lone % would fail at build time."""
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    for text in strings:
        if not text or not message.id or message.context == "date pattern":  # the header holds plural rules
            continue
        try:
            text % _AnyValue()
        except (ValueError, TypeError, KeyError):
            raise SyndicateError(
                f"translation of {message.id!r} holds a % that is not a %(name)s value; write %% for a literal %",
                path=path,
                line=message.lineno,
            ) from None


def _merged(files: Sequence[Path], locale: Locale) -> Catalog | None:
    """One catalog: each later file's translated entries replace the earlier ones' (a site
    catalog with one entry changes only that word)."""
    merged: Catalog | None = None
    for path in files:
        catalog = _read_catalog(path, locale)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                merged.delete(message.id, context=message.context)  # Catalog's own [] = keeps the old string
                merged[message.id] = message
    return merged


@lru_cache(maxsize=16)
def _language(tag: str, site_folder: Path | None, stamps: tuple[tuple[str, int, int], ...]) -> Language:
    del stamps  # part of the cache key only: an edited catalog is read again
    locale = babel_locale(tag)
    files = _catalog_files(locale, (builtin_locale(), site_folder))
    catalog = _merged(files, locale)
    translations: gettext.NullTranslations
    patterns: frozenset[str] = frozenset()
    if catalog is None:
        translations = gettext.NullTranslations()
    else:
        from babel.messages.mofile import write_mo
        from babel.support import Translations

        patterns = frozenset(str(m.id) for m in catalog if m.context == "date pattern" and m.string)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations = Translations(compiled, domain=DOMAIN)
    return Language(tag, locale, translations, patterns)


def language_for(tag: str, site_folder: Path | None = None) -> Language:
    """The language of [site] language, with the site's own catalogs (in `site_folder`) over the
    shipped ones. An unknown language gets English words and its own dates."""
    try:
        locale = babel_locale(tag)
    except ValueError:
        raise ConfigError(f"[site] language {tag!r} is not a language tag") from None
    stamps = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for p in _catalog_files(locale, (builtin_locale(), site_folder))
    )
    return _language(tag, site_folder, stamps)


def catalog_files(tag: str, site_folder: Path | None) -> list[Path]:
    """The .po files a language reads (for the build cache's key)."""
    return _catalog_files(babel_locale(tag), (builtin_locale(), site_folder))
