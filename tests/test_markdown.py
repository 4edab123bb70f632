"""Markdown files with front matter → Post: the keys Jekyll and Hugo users write, dates, and bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import TEST_DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.errors import SourceError
from syndicate.model import Post
from syndicate.sources.front_matter_fields import day_only_time
from syndicate.sources.markdown import read_markdown_dir, read_post_bytes
from syndicate.text import MAX_SLUG, one_line, slugify

LA = ZoneInfo("America/Los_Angeles")


def read(text: str | bytes, stem: str = "post", path: str = "posts/x.md") -> Post:
    data = text.encode("utf-8") if isinstance(text, str) else text
    post = read_post_bytes(data, path, LA, stem)
    assert post is not None
    return post


def error_of(text: str | bytes, stem: str = "post") -> SourceError:
    with pytest.raises(SourceError) as err:
        read(text, stem)
    assert "\n" not in str(err.value), "an error is one line"
    return err.value


def yaml_post(front: str, body: str = "Body text.\n") -> str:
    return f"---\n{front.strip()}\n---\n{body}"


# ---------------------------------------------------------------- front matter formats


def test_yaml_front_matter_all_fields() -> None:
    post = read(
        yaml_post(
            """
title: Getting From Grizzly to Havana
date: 2013-04-15 10:00:00
updated: 2013-04-16 12:30:00
slug: grizzly-to-havana
tags: [OpenStack, DevOps]
categories: [General]
author: {name: Rob Hirschfeld, email: rob@example.org, url: https://example.org/rob}
summary: An upgrade pattern.
id: urn:uuid:5a7d0ab2-0e6f-4c59-9d36-3a1ad77a1c30
url: /talks/grizzly/
image: /img/crowbar.png
draft: false
presenter: Rob Hirschfeld
""",
            "First paragraph.\n\nSecond.\n",
        )
    )
    assert post.title == "Getting From Grizzly to Havana"
    assert post.published == datetime(2013, 4, 15, 10, 0, tzinfo=LA)
    assert post.updated == datetime(2013, 4, 16, 12, 30, tzinfo=LA)
    assert post.slug == "grizzly-to-havana"
    assert post.tags == ("OpenStack", "DevOps")
    assert post.categories == ("General",)
    assert [(a.name, a.email, a.url) for a in post.authors] == [
        ("Rob Hirschfeld", "rob@example.org", "https://example.org/rob")
    ]
    assert post.summary == "An upgrade pattern."
    assert post.id == "urn:uuid:5a7d0ab2-0e6f-4c59-9d36-3a1ad77a1c30"
    assert post.url == "/talks/grizzly/"
    assert post.image == "/img/crowbar.png"
    assert post.draft is False
    assert dict(post.extra) == {"presenter": "Rob Hirschfeld"}
    assert post.body == "First paragraph.\n\nSecond.\n"
    assert post.source == "posts/x.md"
    assert post.line == 2


def test_toml_front_matter_hugo_file() -> None:
    path = TEST_DATA / "markdown" / "hugo-style.md"
    post = read_post_bytes(path.read_bytes(), "hugo-style.md", LA, path.stem)
    assert post.title == "Nicira NVP Deep Dive"
    assert post.published == datetime(2013, 4, 15, 15, 20, tzinfo=LA)
    assert post.published.utcoffset() == timedelta(hours=-7)
    assert post.updated == datetime(2013, 4, 17, 9, 0, tzinfo=LA)
    assert post.slug == "nicira-nvp"
    assert post.categories == ("General",)
    assert post.tags == ("Networking", "SDN")
    assert post.summary == "Dan Wendlandt stood in for Brad Hedlund."
    assert post.draft is False
    assert post.extra["images"] == ("/img/nvp.png",)
    assert post.extra["params"] == {"presenter": "Dan Wendlandt"}
    assert post.body == "Dan Wendlandt covered NVP's architecture.\n"


def test_jekyll_file() -> None:
    path = TEST_DATA / "markdown" / "2013-04-16-jekyll-style.md"
    post = read_post_bytes(path.read_bytes(), path.name, LA, path.stem)
    assert post.title == "Considerations for Building a Private Cloud: Folsom Update"
    assert post.published == datetime(2013, 4, 16, 11, 50, tzinfo=LA)
    assert post.updated == datetime(2013, 4, 20, 8, 0, tzinfo=LA)
    assert post.slug == "jekyll-style"  # from the file name
    assert post.categories == ("General",)
    assert post.tags == ("OpenStack", "Private Cloud")
    assert post.summary == "Ryan Richard on what changed for private clouds with Folsom."
    assert post.draft is False
    assert [a.name for a in post.authors] == ["Example Author"]
    assert dict(post.extra) == {"comments": True}  # layout, permalink, published are understood, not extra


def test_toml_dates_naive_and_local() -> None:
    post = read("+++\ntitle = 'T'\ndate = 2013-01-15T10:00:00\nupdated = 2013-07-15\n+++\nbody\n")
    assert post.published.utcoffset() == timedelta(hours=-8)
    assert post.updated == day_only_time(datetime(2013, 7, 15, tzinfo=LA), "post")


# ---------------------------------------------------------------- key spellings


@pytest.mark.parametrize("key", ["updated", "lastmod", "last_modified_at", "modified"])
def test_updated_spellings(key: str) -> None:
    post = read(yaml_post(f"title: T\ndate: 2013-04-15\n{key}: 2013-04-20 09:00:00"))
    assert post.updated == datetime(2013, 4, 20, 9, tzinfo=LA)
    assert key not in post.extra


def test_updated_before_published_is_ignored() -> None:
    post = read(yaml_post("title: T\ndate: 2013-04-15\nupdated: 2013-04-01"))
    assert post.updated is None


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("category: General", ("General",)),
        ("categories: General", ("General",)),
        ("categories: [General, News]", ("General", "News")),
        ("categories: General, Cloud Computing", ("General", "Cloud Computing")),
    ],
)
def test_category_spellings(front: str, expected: tuple[str, ...]) -> None:
    assert read(yaml_post(f"title: T\ndate: 2013-04-15\n{front}")).categories == expected


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("tags: [a, b]", ("a", "b")),
        ('tags: "a, b"', ("a", "b")),
        ('tags: "a b"', ("a", "b")),
        ('tags: "Private Cloud, SDN"', ("Private Cloud", "SDN")),
        ("tags: single", ("single",)),
        ("tag: single", ("single",)),
        ("keywords: [x, y]", ("x", "y")),
        ("tags: [OpenStack, openstack, OPENSTACK]", ("OpenStack",)),
        ('tags: ["", " ", b]', ("b",)),
        ("tags: [2013, 1.10]", ("2013", "1.10")),
        ("tags: [no, on]", ("no", "on")),
        ("tags:", ()),
    ],
)
def test_tags(front: str, expected: tuple[str, ...]) -> None:
    assert read(yaml_post(f"title: T\ndate: 2013-04-15\n{front}")).tags == expected


@pytest.mark.parametrize("key", ["summary", "description", "excerpt"])
def test_summary_spellings(key: str) -> None:
    post = read(yaml_post(f"title: T\ndate: 2013-04-15\n{key}: The short version."))
    assert post.summary == "The short version."
    assert key not in post.extra


@pytest.mark.parametrize(
    ("front", "draft"),
    [
        ("draft: true", True),
        ("draft: false", False),
        ('draft: "yes"', True),
        ("draft: yes", True),  # stays the string "yes", which still means yes here
        ("draft: no", False),
        ("published: false", True),  # Jekyll
        ("published: true", False),
        ("", False),
    ],
)
def test_drafts(front: str, draft: bool) -> None:
    assert read(yaml_post(f"title: T\ndate: 2013-04-15\n{front}")).draft is draft


def test_jekyll_published_false_with_date_from_file_name() -> None:
    post = read(yaml_post("title: T\npublished: false"), stem="2013-04-15-hidden")
    assert post.draft is True
    assert post.published == day_only_time(datetime(2013, 4, 15, tzinfo=LA), post.slug)


def test_author_spellings() -> None:
    assert [a.name for a in read(yaml_post("title: T\ndate: 2013-04-15\nauthor: Ann")).authors] == ["Ann"]
    post = read(yaml_post("title: T\ndate: 2013-04-15\nauthors: [Ann, {name: Bob, email: bob@example.org}]"))
    assert [(a.name, a.email) for a in post.authors] == [("Ann", None), ("Bob", "bob@example.org")]


def test_extra_keys_are_frozen() -> None:
    post = read(
        yaml_post("title: T\ndate: 2013-04-15\nseries: {name: Summit, parts: [1, 2]}\nrating: 4.5\nwhen: 2013-04-15")
    )
    assert post.extra["series"] == {"name": "Summit", "parts": (1, 2)}
    assert post.extra["rating"] == 4.5
    assert post.extra["when"] == date(2013, 4, 15)
    with pytest.raises(TypeError):
        post.extra["series"]["name"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        post.extra["new"] = 1  # type: ignore[index]


# ---------------------------------------------------------------- dates


def test_naive_dates_take_the_site_zone_across_dst() -> None:
    winter = read(yaml_post("title: T\ndate: 2013-01-15 10:00:00")).published
    summer = read(yaml_post("title: T\ndate: 2013-07-15 10:00:00")).published
    assert (winter.hour, winter.utcoffset()) == (10, timedelta(hours=-8))
    assert (summer.hour, summer.utcoffset()) == (10, timedelta(hours=-7))
    # the day DST starts in Los Angeles (10 March 2013, 02:00 → 03:00)
    before = read(yaml_post("title: T\ndate: 2013-03-10 01:30:00")).published
    after = read(yaml_post("title: T\ndate: 2013-03-10 03:30:00")).published
    assert before.utcoffset() == timedelta(hours=-8)
    assert after.utcoffset() == timedelta(hours=-7)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=1)  # same-zone subtraction is wall-clock


def test_date_only_is_that_local_day_at_a_time_made_from_the_slug() -> None:
    published = read(yaml_post("title: T\ndate: 2013-04-15")).published
    assert published == day_only_time(datetime(2013, 4, 15, 0, 0, tzinfo=LA), "post")
    assert published.date() == date(2013, 4, 15) and published.time() != time()
    assert published.utcoffset() == timedelta(hours=-7)


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("2013-04-15T10:00:00+02:00", timedelta(hours=2)),
        ("2013-04-15T10:00:00Z", timedelta(0)),
        ('"2013-04-15T10:00:00+02:00"', timedelta(hours=2)),
        ("2013-04-15 10:00:00 -0700", timedelta(hours=-7)),
        ('"Mon, 15 Apr 2013 10:00:00 -0700"', timedelta(hours=-7)),
    ],
)
def test_dates_with_offset_keep_it(value: str, offset: timedelta) -> None:
    published = read(yaml_post(f"title: T\ndate: {value}")).published
    assert published.hour == 10
    assert published.utcoffset() == offset


def test_more_date_spellings() -> None:
    assert read(yaml_post('title: T\ndate: "April 15, 2013 2pm"')).published == datetime(2013, 4, 15, 14, tzinfo=LA)
    assert read(yaml_post("title: T\npublished: 2013-04-15")).published == day_only_time(
        datetime(2013, 4, 15, tzinfo=LA), "post"
    )
    assert read(yaml_post("title: T\ndate: 2013-04-15 10:00:00.123456")).published.microsecond == 0


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("someday", 3),
        ('"10"', 3),  # dateutil would fill in today's month and year
        ('"15 April"', 3),  # no year
        ('"2013-02-30"', 3),
        ("2013-02-30", 3),  # matches YAML's timestamp pattern, but is no real day
        ("2013-04-15 25:00:00", 3),
        ("[2013, 4, 15]", 3),
    ],
)
def test_unreadable_dates(value: str, line: int) -> None:
    err = error_of(yaml_post(f"title: T\ndate: {value}\ntags: [a]"))
    assert err.line == line
    assert str(err).startswith(f"posts/x.md:{line}: ")
    assert "date" in err.message


def test_unreadable_updated_names_its_line() -> None:
    err = error_of(yaml_post("title: T\ndate: 2013-04-15\ntags: [a]\nlastmod: whenever"))
    assert (err.line, err.message.split(":")[0]) == (5, "lastmod")


# ---------------------------------------------------------------- file names


def test_file_name_gives_date_and_slug() -> None:
    post = read(yaml_post("title: Getting From Grizzly to Havana"), stem="2013-04-15-grizzly-to-havana")
    assert post.published == day_only_time(datetime(2013, 4, 15, tzinfo=LA), post.slug)
    assert post.slug == "grizzly-to-havana"


def test_front_matter_wins_over_file_name() -> None:
    post = read(yaml_post("title: T\ndate: 2013-04-16 09:00:00\nslug: my-slug"), stem="2013-04-15-other")
    assert post.published == datetime(2013, 4, 16, 9, tzinfo=LA)
    assert post.slug == "my-slug"


def test_undated_file_name_is_the_slug() -> None:
    assert read(yaml_post("title: T\ndate: 2013-04-15"), stem="Hello World").slug == "hello-world"


def test_impossible_date_in_file_name_is_not_a_date() -> None:
    err = error_of(yaml_post("title: T"), stem="2013-02-30-x")
    assert "missing date" in err.message


# ---------------------------------------------------------------- YAML surprises switched off


def test_sexagesimal_and_norway_stay_strings() -> None:
    post = read(
        yaml_post("title: T\ndate: 2013-04-15\nstarts: 10:00\ncountry: no\nswitch: on\nanswer: yes\nlight: off")
    )
    assert post.extra["starts"] == "10:00"
    assert post.extra["country"] == "no"
    assert post.extra["switch"] == "on"
    assert post.extra["answer"] == "yes"
    assert post.extra["light"] == "off"


@pytest.mark.parametrize(
    ("value", "title"),
    [("10:00", "10:00"), ("no", "no"), ("1.10", "1.10"), ("1.0e5", "1.0e5"), ("2013", "2013"), ("null", "")],
)
def test_titles_are_text_as_written(value: str, title: str) -> None:
    if not title:
        assert "missing title" in error_of(yaml_post(f"title: {value}\ndate: 2013-04-15")).message
    else:
        assert read(yaml_post(f"title: {value}\ndate: 2013-04-15")).title == title


def test_numbers_and_booleans_still_work_where_meant() -> None:
    post = read(yaml_post("title: T\ndate: 2013-04-15\ncount: 3\nratio: 0.5\nflag: true\nhex: 0x1A\noctal: 0o17"))
    assert post.extra["count"] == 3
    assert post.extra["ratio"] == 0.5
    assert post.extra["flag"] is True
    assert post.extra["hex"] == "0x1A"
    assert post.extra["octal"] == "0o17"


@pytest.mark.parametrize(
    "front",
    [
        "title: !!python/object/apply:os.system ['touch /tmp/syndicate-pwned']\ndate: 2013-04-15",
        "title: T\ndate: 2013-04-15\nx: !!python/object:collections.OrderedDict {}",
        "title: T\ndate: 2013-04-15\nx: !!python/name:os.system",
        "title: T\ndate: 2013-04-15\nx: !custom 1",
    ],
)
def test_unsafe_yaml_tags_are_refused(front: str) -> None:
    err = error_of(yaml_post(front))
    assert "not allowed" in err.message
    assert err.line is not None and err.line >= 2


# ---------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("---\ntitle: a: b\ndate: 2013-04-15\n---\n", 2, 'put it in quotes: title: "a: b"'),
        ("---\ntitle: T\ndate: 2013-04-15\n  tags: x\n---\n", 4, "remove the spaces"),
        ("---\ntitle: T\ndate: 2013-04-15\ntags: [a, b\nslug: s\n---\n", 4, ""),
        ("---\ntitle: 'unclosed\ndate: 2013-04-15\n---\n", 2, ""),
        ('---\ntitle: T\ndate: 2013-04-15\nsummary: "no end\n---\n', 4, ""),
        ("---\ntitle: T\n\tdate: 2013-04-15\n---\n", 3, ""),
        ("---\ntitle: T\ndate: 2013-04-15\ntitle: again\n---\n", None, None),  # duplicate keys: YAML allows, last wins
    ],
)
def test_yaml_error_names_the_line(text: str, line: int | None, words: str | None) -> None:
    if line is None:
        assert read(text).title == "again"
        return
    err = error_of(text)
    assert err.path == "posts/x.md"
    assert err.line == line, str(err)
    assert str(err).startswith(f"posts/x.md:{line}: YAML front matter: ")
    assert words in err.message


def test_yaml_error_line_counts_crlf_and_bom() -> None:
    err = error_of("\ufeff---\r\ntitle: T\r\ndate: 2013-04-15\r\nx: a: b\r\n---\r\n")
    assert err.line == 4


def test_crlf_and_bom_are_fine() -> None:
    post = read(b"\xef\xbb\xbf---\r\ntitle: T\r\ndate: 2013-04-15\r\n---\r\nBody\r\n")
    assert (post.title, post.body) == ("T", "Body\n")


def test_toml_error_names_the_line() -> None:
    err = error_of("+++\ntitle = 'T'\ndate = 2013-04-15\ntags = = 1\n+++\n")
    assert err.line == 4
    assert "TOML" in err.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("---\ntitle: T\ndate: 2013-04-15\nBody without a closing fence\n", "never closes"),
        ("+++\ntitle = 'T'\n", "never closes"),
        ("Just Markdown, no front matter.\n", "no front matter"),
        ("---title: T\n---\n", "alone on its line"),
        ("---\n- a\n- b\n---\n", "key: value"),
        ("---\n---\nBody\n", "missing title"),
    ],
)
def test_malformed_front_matter(text: str, words: str) -> None:
    err = error_of(text)
    assert words in err.message
    assert err.line is not None


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\n"])
def test_empty_file(data: bytes) -> None:
    assert "empty file" in error_of(data).message


def test_non_utf8_names_the_line() -> None:
    err = error_of(b"---\ntitle: T\ndate: 2013-04-15\n---\nfine\ncaf\xe9 latin-1\n")
    assert err.line == 6
    assert "UTF-8" in err.message
    assert "0xe9" in err.message


def test_binary_file() -> None:
    err = error_of(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary" in err.message


@pytest.mark.parametrize(
    "front",
    ["date: 2013-04-15", "title:\ndate: 2013-04-15", "title: '  '\ndate: 2013-04-15", "title: [a]\ndate: 2013-04-15"],
)
def test_missing_title(front: str) -> None:
    err = error_of(yaml_post(front))
    assert "missing title" in err.message


def test_missing_date() -> None:
    err = error_of(yaml_post("title: T\ntags: [a]"), stem="no-date-here")
    assert "missing date" in err.message
    assert err.line == 2


def test_alias_bomb_is_refused() -> None:
    lines = ["title: T", "date: 2013-04-15", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 12):  # 10**12 values if expanded
        refs = ", ".join([f"*a{n - 1}"] * 10)
        lines.append(f"a{n}: &a{n} [{refs}]")
    err = error_of(yaml_post("\n".join(lines)))
    assert "alias bomb" in err.message


def test_deep_nesting_is_refused_not_a_crash() -> None:
    for depth in (60, 500, 5000):
        err = error_of(yaml_post("title: T\ndate: 2013-04-15\nx: " + "[" * depth + "]" * depth))
        assert "nest" in err.message


def test_moderate_nesting_is_fine() -> None:
    post = read(yaml_post("title: T\ndate: 2013-04-15\nx: " + "[" * 20 + "1" + "]" * 20))
    value = post.extra["x"]
    for _ in range(20):
        assert isinstance(value, tuple)
        value = value[0]
    assert value == 1


# ---------------------------------------------------------------- directories


def test_read_markdown_dir(tmp_path: Path) -> None:
    (tmp_path / "posts" / "2013" / "04").mkdir(parents=True)
    (tmp_path / "posts" / ".git").mkdir()
    (tmp_path / "posts" / "_drafts").mkdir()
    good = yaml_post("title: Good\ndate: 2013-04-15")
    (tmp_path / "posts" / "2013" / "04" / "2013-04-15-good.md").write_text(good)
    (tmp_path / "posts" / "other.markdown").write_text(yaml_post("title: Other\ndate: 2013-04-16"))
    (tmp_path / "posts" / "bad.md").write_text("---\ntitle: a: b\n---\n")
    (tmp_path / "posts" / "notes.txt").write_text("not a post")
    (tmp_path / "posts" / ".hidden.md").write_text(good)
    (tmp_path / "posts" / ".git" / "x.md").write_text(good)
    (tmp_path / "posts" / "_drafts" / "x.md").write_text(good)
    results = list(read_markdown_dir(tmp_path / "posts", LA, relative_to=tmp_path))
    posts = [r for r in results if isinstance(r, Post)]
    errors = [r for r in results if isinstance(r, SourceError)]
    assert sorted(p.title for p in posts) == ["Good", "Other"]
    assert [p.source for p in posts if p.title == "Good"] == ["posts/2013/04/2013-04-15-good.md"]
    assert [str(e) for e in errors] == [
        "posts/bad.md:2: YAML front matter: the value holds a colon and a space, which YAML reads as a new key; "
        'put it in quotes: title: "a: b"'
    ]


def test_missing_posts_dir(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="posts directory not found"):
        list(read_markdown_dir(tmp_path / "nope", LA))


# ---------------------------------------------------------------- properties

_any_text = st.text(min_size=1, max_size=200)


@given(title=_any_text, tag=_any_text, unicode_out=st.booleans())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_yaml_round_trip_of_any_title_and_tag(title: str, tag: str, unicode_out: bool) -> None:
    front = yaml.safe_dump({"title": title, "date": date(2013, 4, 15), "tags": [tag]}, allow_unicode=unicode_out)
    text = f"---\n{front}---\nBody\n"
    if not one_line(title):
        assert "missing title" in error_of(text).message
        return
    post = read(text)
    assert post.title == one_line(title)
    assert post.tags == ((one_line(tag),) if one_line(tag) else ())


@given(st.text(max_size=400))
@settings(max_examples=500)
def test_slugify_is_always_safe_and_stable(name: str) -> None:
    slug = slugify(name)
    assert slug == slugify(name)
    assert slug not in (".", "..", "")
    assert len(slug) <= 90
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in slug), slug


def test_slugify_examples() -> None:
    assert slugify("Getting From Grizzly to Havana") == "getting-from-grizzly-to-havana"
    assert slugify("Über") == "uber"
    assert slugify("C#") == "c-sharp"
    assert slugify("C++") == "c-plus-plus"
    assert slugify("../etc") == "etc"
    assert slugify("..") != slugify("...")  # nothing readable: a hash keeps them apart
    assert slugify("CON").startswith("con-")
    assert len(slugify("word " * 100)) <= MAX_SLUG


def _resident_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_rendering_markdown_does_not_keep_memory() -> None:
    """cmarkgfm's own GFM function leaks each document tree and HTML string (~70 KB for a
    page like this); a watch session or 10,000 posts in one worker would pile that up."""
    from syndicate.render.markdown_html import render_markdown

    page = "\n\n".join(
        f"## Part {i}\n\n" + "word [link](/x) `code` " * 60 + "\n\n- a\n- b\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        for i in range(12)
    )
    expected = render_markdown(page)
    assert "<table>" in expected and '<a href="/x">' in expected
    for _ in range(50):  # let the allocator settle
        render_markdown(page)
    before = _resident_kb()
    for _ in range(600):
        assert render_markdown(page) == expected
    grown_mb = (_resident_kb() - before) / 1024
    assert grown_mb < 8, f"rendering 600 pages kept {grown_mb:.0f} MB"


def test_markdown_through_the_freeing_path_equals_cmarkgfms_own_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """The low-level steps (which free what cmark returns) must render exactly as cmarkgfm's
    github_flavored_markdown_to_html, the fallback where the frees are not available."""
    from syndicate.render import markdown_html as content

    page = (
        "# Title\n\nA ~~struck~~ word, www.example.org autolinked, <xmp>filtered</xmp>.\n\n"
        "- [x] done\n- [ ] open\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n\n"
        "Footnote[^1].\n\n[^1]: The note.\n"
    )
    assert content._CMARK_FREES is not None, "this library build exports cmark's frees"
    freed = content.render_markdown(page)
    monkeypatch.setattr(content, "_CMARK_FREES", None)
    assert content.render_markdown(page) == freed
    for expected in ("<del>struck</del>", 'href="http://www.example.org"', "&lt;xmp>", 'type="checkbox"', "<table>"):
        assert expected in freed, expected
