"""Jekyll and Hugo sites as they are: template tags in posts, page bundles, section pages."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import build_site, make_site, post_text

from syndicate.model import Author, Site
from syndicate.render.site_habits import expand_site_habits

SITE = Site("Blog", "https://b.example.org/blog/", "d", "en", ZoneInfo("UTC"), Author("A"))


def test_highlight_blocks_become_fenced_code() -> None:
    jekyll = "{% highlight ruby linenos %}\ndef x; end\n{% endhighlight %}"
    hugo = "{{< highlight go >}}\nfunc x() {}\n{{< /highlight >}}"
    assert expand_site_habits(jekyll, SITE) == "```ruby\ndef x; end\n```"
    assert expand_site_habits(hugo, SITE) == "```go\nfunc x() {}\n```"


def test_site_urls_and_post_urls_become_absolute_links() -> None:
    text = (
        "![a]({{ site.url }}{{ site.baseurl }}/img/a.png) [b]({{ site.baseurl }}/x) [c]({% post_url 2010-07-21-name %})"
    )
    assert expand_site_habits(text, SITE) == (
        "![a](https://b.example.org/blog/img/a.png) [b](https://b.example.org/blog/x) "
        "[c](https://b.example.org/blog/2010/07/21/name/)"
    )


def test_raw_regions_and_unknown_tags_are_left_as_written() -> None:
    text = "{% raw %}{{ site.url }}{% endraw %} {% include note.html %} {{< youtube abc >}}"
    assert expand_site_habits(text, SITE) == "{{ site.url }} {% include note.html %} {{< youtube abc >}}"


def test_hugo_figure_becomes_an_image_with_alt_text() -> None:
    assert expand_site_habits('{{< figure src="/i.png" alt="A diagram" >}}', SITE) == "![A diagram](/i.png)"


def test_a_hugo_site_with_bundles_and_section_pages_builds(tmp_path: Path) -> None:
    posts = {
        "_index.md": "---\ntitle: Posts\n---\nThe list page of the section.\n",
        "grizzly-to-havana/index.md": post_text("Grizzly to Havana", "2013-04-15 14:00:00", "See ![x](diagram.png)."),
        "2013-04-16-plain.md": post_text(
            "Plain", "2013-04-16 10:00:00", "Code:\n\n{{< highlight sh >}}\nls\n{{< /highlight >}}"
        ),
    }
    config = make_site(tmp_path, posts)
    result = build_site(config)
    assert result.posts == 2
    items = {i["title"]: i for i in json.loads((config.output_dir / "feed.json").read_text(encoding="utf-8"))["items"]}
    assert set(items) == {"Grizzly to Havana", "Plain"}
    assert items["Grizzly to Havana"]["url"] == "https://blog.example.org/2013/04/15/grizzly-to-havana/"
    assert (
        'src="https://blog.example.org/2013/04/15/grizzly-to-havana/diagram.png"'
        in items["Grizzly to Havana"]["content_html"]
    )
    assert '<code class="language-sh">ls' in items["Plain"]["content_html"] or "<pre" in items["Plain"]["content_html"]
    assert "highlight" not in items["Plain"]["content_html"]
