"""An announcement's call to action: `text` with `url` or `link`, and only http(s) links (or site paths)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from syndicate.errors import SourceError
from syndicate.sources.markdown import read_post_bytes

LA = ZoneInfo("America/Los_Angeles")


def post_with(cta: str) -> bytes:
    front = (
        f"title: Giveaway\ndate: 2013-04-01\nannouncement:\n  starts: 2013-04-01\n  ends: 2013-04-20\n  cta: {cta}\n"
    )
    return f"---\n{front}---\nWin.\n".encode()


@pytest.mark.parametrize("key", ["url", "link"])
def test_the_cta_takes_url_or_link(key: str) -> None:
    post = read_post_bytes(post_with(f'{{text: Enter, {key}: "https://example.org/enter"}}'), "posts/g.md", LA, "g")
    assert post.announcement is not None and post.announcement.cta is not None
    assert post.announcement.cta.url == "https://example.org/enter"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "mailto:a@example.org", "http://exa mple.org/"],
)
def test_a_cta_link_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(SourceError, match=r"announcement: cta url .* is not an http\(s\) link") as caught:
        read_post_bytes(post_with(f'{{text: Enter, link: "{url}"}}'), "posts/g.md", LA, "g")
    assert str(caught.value).startswith("posts/g.md:")


def test_a_cta_without_a_link_names_both_words() -> None:
    with pytest.raises(SourceError, match=r"cta must be a table with text and url \(or link\)"):
        read_post_bytes(post_with("{text: Enter}"), "posts/g.md", LA, "g")
