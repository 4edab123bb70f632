"""The frozen data that travels between layers.

Sources produce `Post`s; render turns each into an `Entry` (rendered, with
absolute URLs); writers and the digest only ever see `Entry`s and `Site`.
"""

from __future__ import annotations

import copyreg
import operator
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from itertools import repeat
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

# Values front matter may carry in `extra`: YAML/TOML scalars, frozen lists and maps.
ExtraValue = str | int | float | bool | date | datetime | None | tuple["ExtraValue", ...] | Mapping[str, "ExtraValue"]

EMPTY_EXTRA: Mapping[str, ExtraValue] = MappingProxyType({})


def read_only(data: dict[str, ExtraValue]) -> MappingProxyType[str, ExtraValue]:
    return MappingProxyType(data)


# Posts travel to worker processes and into the build cache by pickle; a
# read-only mapping pickles as the dict it wraps and comes back read-only.
copyreg.pickle(MappingProxyType, lambda m: (read_only, (dict(m),)))


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class CallToAction:
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class Announcement:
    """A post that also runs for a while in every digest whose week overlaps it."""

    starts: date  # first day, in the site's time zone
    ends: date  # last day, inclusive
    rules: tuple[str, ...] = ()
    prize: str | None = None
    cta: CallToAction | None = None


@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str
    length: int
    type: str


@dataclass(frozen=True, slots=True)
class Post:
    """A post as its source gave it: nothing rendered, nothing resolved."""

    source: str  # where it came from, for messages: a path or "URL#item-3"
    title: str
    published: datetime  # aware
    slug: str
    body: str
    body_format: Literal["markdown", "html"] = "markdown"
    id: str | None = None  # explicit id (front matter, or a feed's guid)
    url: str | None = None  # explicit link, absolute or relative to the site
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    authors: tuple[Author, ...] = ()
    summary: str | None = None  # same format as the body
    draft: bool = False
    image: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    announcement: Announcement | None = None
    expires: datetime | None = None  # Hugo's expiryDate: out of every output from that day on
    extra: Mapping[str, ExtraValue] = field(default_factory=lambda: EMPTY_EXTRA)
    line: int | None = None  # line of the front matter's first key, for messages


@dataclass(frozen=True, slots=True)
class Site:
    title: str
    url: str  # absolute, ends with "/"
    description: str
    language: str
    timezone: ZoneInfo
    author: Author
    permalink: str = "/{year}/{month}/{day}/{slug}/"
    icon: str = ""  # absolute URL of a small square image (favicon-like); "" for none
    logo: str = ""  # absolute URL of a larger image, wider than tall; "" for none


@dataclass(frozen=True, slots=True)
class Entry:
    """A post ready to be written: rendered HTML, absolute URLs, a stable id."""

    post: Post
    id: str
    link: str  # absolute
    title: str  # plain text, safe for XML
    # sanitized, absolute URLs; None in a copy that leaves the HTML out to save memory
    # (its holder keeps what was made from it, such as serialized feed items)
    content_html: str | None
    summary_html: str
    summary_text: str
    updated: datetime  # post.updated or post.published
    image: str | None = None  # absolute
    local_images: tuple[str, ...] = ()  # images a Markdown post names relative to its file, as written

    @property
    def published(self) -> datetime:
        return self.post.published


def quick_pickling(cls: type) -> None:
    """Pickle a frozen slotted dataclass by its field values in order, the names looked up once.

    dataclasses' own __getstate__/__setstate__ for such classes call fields() on every
    object: a third of the time a cached build spends loading 10,000 entries, and much of
    what the posts cost between processes. The state is the same (the values in order).
    """
    names = tuple(f.name for f in fields(cls))
    values = operator.attrgetter(*names)
    setter = object.__setattr__

    def getstate(self: object) -> tuple[object, ...]:
        state = values(self)
        return state if len(names) > 1 else (state,)

    def setstate(self: object, state: Sequence[object]) -> None:
        if len(state) != len(names):
            raise pickle.UnpicklingError(f"{cls.__name__} state has {len(state)} values, not {len(names)}")
        any(map(setter, repeat(self), names, state))  # the loop in C: setattr returns None

    setattr(cls, "__getstate__", getstate)  # noqa: B010 - replaces what dataclasses put there
    setattr(cls, "__setstate__", setstate)  # noqa: B010


for _model in (Author, CallToAction, Announcement, Enclosure, Post, Site, Entry):
    quick_pickling(_model)
