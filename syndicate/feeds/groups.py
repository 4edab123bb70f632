"""The groups that get feeds of their own (the site, each category, each tag, the newsletter's
issues), and one group's feed in every configured format."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urljoin

from syndicate.config import Config, FeedFormat
from syndicate.errors import BuildError
from syndicate.feeds.archives import archive_rel, page_links, split_archive
from syndicate.feeds.documents import document_of, frame
from syndicate.feeds.formats import FILE_NAMES, MEDIA_TYPES, FeedMeta, newest_update
from syndicate.feeds.index import FeedLink
from syndicate.language import N_, Language
from syndicate.model import Entry, Site
from syndicate.text import slugify


@dataclass(frozen=True, slots=True)
class Group:
    """The entries of one tag or category, newest first."""

    kind: str  # "tags", "categories" or "authors"
    name: str  # display name
    slug: str
    entries: tuple[Entry, ...]


def _names_of(entry: Entry, kind: str, fallback: str) -> Sequence[str]:
    if kind == "tags":
        return entry.post.tags
    if kind == "categories":
        return entry.post.categories
    return [author.name for author in entry.post.authors] or [fallback]


def group_by(entries: Sequence[Entry], kind: str, fallback: str = "") -> list[Group]:
    """One group per tag (or category) name, in slug order; `entries` must be newest first.

    Names that differ only in case are one group (shown in their most common
    spelling); different names that would share a slug are an error naming both.
    Work grows with posts plus tag memberships. Authors: a post without any is the site author's (`fallback`).
    """
    members: dict[str, list[Entry]] = {}
    spellings: dict[str, Counter[str]] = {}
    by_slug: dict[str, str] = {}
    slugs: dict[str, str] = {}  # a name's slug, made once: most names recur in many posts
    for entry in entries:
        for name in _names_of(entry, kind, fallback):
            folded = name.casefold()
            slug = slugs.get(name)
            if slug is None:
                slug = slugs[name] = slugify(name)
            owner = by_slug.setdefault(slug, folded)
            if owner != folded:
                shown = next(iter(spellings[owner]))
                first = members[owner][0].post.source
                raise BuildError(
                    f"{kind[:-1]} names {shown!r} (in {first}) and {name!r} (in {entry.post.source}) "
                    f"would both be written to {kind}/{slug}/; rename one of them",
                )
            if folded not in members:
                members[folded], spellings[folded] = [], Counter()
            members[folded].append(entry)
            spellings[folded][name] += 1
    groups = []
    for slug, folded in sorted(by_slug.items()):
        counts = spellings[folded]
        name = min(counts, key=lambda n: (-counts[n], n))
        # entries arrive newest first, so each group's members already are
        groups.append(Group(kind, name, slug, tuple(members[folded])))
    return groups


@dataclass(frozen=True, slots=True)
class FeedGroup:
    """What one group's feeds list and say about themselves, in any format."""

    kind: str  # "site", "categories", "tags", "authors" or "newsletter"
    name: str  # as the index page and the OPML list show it: the site's title, a tag or category name
    title: str
    description: str
    folder: str  # below the output folder, ending with "/": "" for the site, "tags/<slug>/"
    home_url: str  # the page the feeds stand for
    entries: Sequence[Entry]  # the items, newest first
    pages: tuple[tuple[Entry, ...], ...] = ()  # RFC 5005 archive pages, oldest first (see feeds/archives.py)
    # the date an empty feed gives (the newsletter's before its first issue): validators
    # call 1970 implausible; the site's newest post is when anything last changed
    updated_if_empty: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupFeed:
    """One group's feed in one format: its path, what it says about itself, how a reader finds it."""

    rel: str  # below the output folder
    fmt: FeedFormat
    meta: FeedMeta
    link: FeedLink
    entries: Sequence[Entry]
    archived: bool = False  # an archive page: not listed on the index page nor in the OPML
    updated_if_empty: datetime | None = None

    @property
    def updated(self) -> datetime:
        return self.updated_if_empty if not self.entries and self.updated_if_empty else newest_update(self.entries)

    def document(self, items: Sequence[bytes], media: bool | None = None) -> bytes:
        """The feed's bytes around its entries' serialized items (in the entries' order); `media`: whether
        any item carries Media RSS, when the caller knows (else the items are searched)."""
        return document_of(self.fmt, self.meta, items, self.updated, media)

    def frame(self, media: bool) -> tuple[bytes, bytes]:
        """An RSS or Atom feed's bytes before and after its items (JSON Feed separates its items)."""
        return frame(self.fmt, self.meta, self.updated, media)


def group_feeds(
    group: FeedGroup, formats: Sequence[FeedFormat], output_url: str, site: Site, hubs: Sequence[str] = ()
) -> list[GroupFeed]:
    """The group's feed in every given format, in that order, each followed by its archive pages;
    `output_url` is where the output folder is served."""
    feeds = []
    for fmt in formats:
        rel = group.folder + FILE_NAMES[fmt]
        page_url = {
            k: output_url + archive_rel(group.folder, k, FILE_NAMES[fmt]) for k in range(1, len(group.pages) + 1)
        }
        meta = FeedMeta(
            title=group.title,
            description=group.description,
            self_url=output_url + rel,
            home_url=group.home_url,
            language=site.language,
            author=site.author,
            icon=site.icon,
            logo=site.logo,
            hubs=tuple(hubs),
            links=(("prev-archive", page_url[len(group.pages)]),) if group.pages else (),
        )
        link = FeedLink(group.title, meta.self_url, MEDIA_TYPES[fmt], fmt, group.kind, group.name, len(group.entries))
        feeds.append(GroupFeed(rel, fmt, meta, link, group.entries, updated_if_empty=group.updated_if_empty))
        for k, page in enumerate(group.pages, 1):
            links = page_links(meta.self_url, page_url, k, len(group.pages))
            page_meta = replace(meta, self_url=page_url[k], hubs=(), links=links, archive=True)
            page_link = replace(link, url=page_url[k], count=len(page))
            feeds.append(
                GroupFeed(page_url[k].removeprefix(output_url), fmt, page_meta, page_link, page, archived=True)
            )
    return feeds


def _home_of(config: Config, kind: str, slug: str) -> str:
    """The page a tag's (or category's, or author's) feeds stand for: the blog's own page for it when
    [feeds] tag_url names one (tags only), else the feed index, which lists the group's feeds."""
    if kind == "tags" and config.feeds.tag_url:
        return urljoin(config.site.url, config.feeds.tag_url.replace("{slug}", slug))
    return config.output_url


# a group feed's description, by kind; %(name)s is the tag, category or author
_DESCRIPTIONS = {
    "categories": N_("Posts in the category “%(name)s” on %(site)s"),
    "tags": N_("Posts in the tag “%(name)s” on %(site)s"),
    "authors": N_("Posts by %(name)s on %(site)s"),
}


def _title(words: Language, kind: str, site: str, name: str) -> str:
    """ "Site: name" in English; a language may say more ("Site: Schlagwort „name“")."""
    if kind == "tags":
        return words.pgettext("tag feed title", "%(site)s: %(name)s", site=site, name=name)
    if kind == "categories":
        return words.pgettext("category feed title", "%(site)s: %(name)s", site=site, name=name)
    return words.pgettext("author feed title", "%(site)s: %(name)s", site=site, name=name)


def site_groups(config: Config, entries: Sequence[Entry]) -> list[FeedGroup]:
    """The whole site, then every category, every tag and (with more than one) every author, those
    enabled, each with at most [feeds] max_items entries; `entries` newest first."""
    site = config.site
    limit = config.feeds.max_items
    feeds = config.feeds
    current, pages = split_archive(entries, limit, feeds.archive_size) if feeds.archives else (entries[:limit], ())
    groups = [FeedGroup("site", site.title, site.title, site.description, "", site.url, current, pages)]
    words = config.words
    kinds = (
        ("categories", config.feeds.categories),
        ("tags", config.feeds.tags),
        ("authors", config.feeds.authors),
    )
    for kind, enabled in kinds:
        if not enabled:
            continue
        found = group_by(entries, kind, site.author.name)
        if kind == "authors" and len(found) < 2:  # one author's feed would be the site feed again
            continue
        for group in found:
            current, pages = (
                split_archive(group.entries, limit, feeds.archive_size)
                if feeds.archives and feeds.archive_tags
                else (group.entries[:limit], ())
            )
            groups.append(
                FeedGroup(
                    kind,
                    group.name,
                    _title(words, kind, site.title, group.name),
                    words.gettext(_DESCRIPTIONS[kind], site=site.title, name=group.name),
                    f"{kind}/{group.slug}/",
                    _home_of(config, kind, group.slug),
                    current,
                    pages,
                )
            )
    return groups
