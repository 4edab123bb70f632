"""The digest in a real browser: Debian's chromium, headless, at phone and desktop widths, light and dark.

Never skipped: without /usr/bin/chromium every test here fails and says how to install it.
Screenshots go to test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, build_site

from syndicate.config import load_config

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TITLES = [
    "Win a Signed Copy of VMware vSphere Design, 2nd Edition",
    "Getting From Grizzly to Havana: a DevOps Upgrade Pattern",
    "Nicira NVP Deep Dive",
    "Considerations for Building a Private Cloud, Folsom Update",
    "Building HA OpenStack with Puppet in 20 Minutes",
    "OpenStack Capacity Planning",
    "Networking in the Cloud: An SDN Primer",
    "OpenStack Back to the Enterprise: Keep Calm and Boldly Go",
    "More Reliable, More Resilient, More Redundant: OpenStack High Availability in Grizzly and Beyond",
]
WIDTHS = [600, 375]
SCHEMES = ["light", "dark"]

# For each title: is it rendered, shown, and in a colour that stands out from what is behind it?
# The background is the nearest ancestor's opaque background colour (the canvas when none has one).
_TITLE_CHECK = """
(titles) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return matchMedia('(prefers-color-scheme: dark)').matches ? [18, 18, 18] : [255, 255, 255];
  };
  const links = [...document.querySelectorAll('a')];
  return titles.map((title) => {
    const el = links.find((a) => a.textContent.replace(/\\s+/g, ' ').trim() === title);
    if (!el) return { title, found: false };
    const box = el.getBoundingClientRect();
    let hidden = false;
    for (let node = el; node; node = node.parentElement) {
      const s = getComputedStyle(node);
      if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) hidden = true;
    }
    const fg = parse(getComputedStyle(el).color).slice(0, 3);
    const bg = background(el);
    const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return { title, found: true, width: box.width, height: box.height, hidden,
             fg: fg.join(','), bg: bg.join(','), contrast: (a + 0.05) / (b + 0.05) };
  });
}
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example site built once; the pages to look at, by name."""
    out = tmp_path_factory.mktemp("site")
    config = load_config(REPO_ROOT / "syndicate.toml", output_dir=out)
    build_site(config)
    issue = out / "newsletter" / "2013-W16"
    message = email.message_from_bytes((issue / "issue.eml").read_bytes(), policy=email.policy.default)
    body = message.get_body(("html",))
    assert body is not None
    email_page = out / "email-2013-W16.html"
    email_page.write_text(body.get_content(), encoding="utf-8")  # type: ignore[union-attr]
    return {
        "web": issue / "index.html",
        "email": email_page,
        "feeds-index": out / "index.html",
        "archive": out / "newsletter" / "index.html",
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium. "
            "Install it with: apt-get install chromium (the CI script .ci/run does this)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield instance
        finally:
            instance.close()
    finally:
        playwright.stop()


def open_page(browser: Any, path: Path, width: int, scheme: str) -> Any:
    # offline: the pages link out to blog.example.org, but nothing they need may come from the network
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme, offline=True)
    page = context.new_page()
    page.goto(path.as_uri())
    return page


def no_horizontal_scroll(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide in a {width} px viewport: it scrolls sideways"


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 1000


@pytest.mark.browser
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("form", ["web", "email"])
def test_issue_reads_well_in_a_browser(
    browser: Any, pages: dict[str, Path], form: str, width: int, scheme: str
) -> None:
    page = open_page(browser, pages[form], width, scheme)
    try:
        no_horizontal_scroll(page, width)
        results = page.evaluate(_TITLE_CHECK, TITLES)
        for result in results:
            assert result["found"], f"{result['title']!r} is not on the page"
            title = result["title"]
            assert result["width"] > 0 and result["height"] > 0, f"{title!r} has no size"
            assert not result["hidden"], f"{title!r} is hidden"
            assert result["fg"] != result["bg"], f"{title!r} is {result['fg']} on {result['bg']}"
            # WCAG's minimum for large text (the titles are 19 px bold): 3:1
            assert result["contrast"] >= 3, (
                f"{title!r}: contrast {result['contrast']:.2f} ({result['fg']} on {result['bg']})"
            )
        if form == "email":
            preheader = page.evaluate(
                """() => { const el = document.querySelector('.preheader'); const box = el.getBoundingClientRect();
                           return { display: getComputedStyle(el).display, area: box.width * box.height,
                                    text: el.textContent.trim() }; }"""
            )
            assert preheader["text"], "the preheader is empty"
            assert preheader["display"] == "none" and preheader["area"] == 0, preheader
            # what a reader sees first is the issue, not the preheader text
            shown = page.evaluate("document.body.innerText")
            assert "8 new: Getting From Grizzly" not in shown
        screenshot(page, f"issue-{form}-{width}-{scheme}")
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", ["feeds-index", "archive"])
def test_index_pages_fit_a_phone(browser: Any, pages: dict[str, Path], name: str, scheme: str) -> None:
    page = open_page(browser, pages[name], 375, scheme)
    try:
        no_horizontal_scroll(page, 375)
        text = page.evaluate("document.body.innerText")
        assert "Example Blog" in text
        if name == "archive":
            links = page.evaluate("[...document.querySelectorAll('li a')].map((a) => a.textContent.trim())")
            assert "Example Blog: 8 new posts, week of 15 April 2013" in links
        screenshot(page, f"{name}-375-{scheme}")
    finally:
        page.context.close()
