"""`syndicate import` of a WordPress export (WXR): every post, drafts, categories apart from tags, authors,
guids as ids, pages only when asked, images downloaded over real HTTP, the redirect map, and never
overwriting a post that another source (or a person) wrote."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import build_site, post_text, write_site
from import_server import Answer, serving

from syndicate.build.importing import ImportExtras, import_feed
from syndicate.cli.main import main
from syndicate.config import load_config
from syndicate.errors import SourceError
from syndicate.model import Author, Post
from syndicate.sources.markdown import read_markdown_dir
from syndicate.sources.wxr import is_wxr, read_wxr
from syndicate.sources.wxr_content import autop, wordpress_html

EXPORT = Path(__file__).parent / "data" / "wxr" / "harbour-notes.wordpress.xml"
LONDON = ZoneInfo("Europe/London")
BST = timezone(timedelta(hours=1))
SITE = "https://harbour.example.net"
UPLOADS = f"{SITE}/wp-content/uploads/2019/07/"


def read(pages: bool = False) -> tuple[dict[str, Post], list[str]]:
    warnings: list[str] = []
    export = read_wxr(EXPORT.read_bytes(), str(EXPORT), LONDON, warnings.append, pages=pages)
    return {e.post.id or "": e.post for e in export.entries}, warnings


def png(width: int = 1, height: int = 1) -> bytes:
    """A real (tiny) PNG file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


# ---------------------------------------------------------------- reading the export


def test_every_post_with_its_guid_dates_categories_tags_and_author() -> None:
    posts, warnings = read()
    assert sorted(posts) == [f"{SITE}/?p={n}" for n in (101, 102, 103, 104, 105, 106)]
    ferry = posts[f"{SITE}/?p=101"]
    assert ferry.title == "Ferry timetable changes for the summer"
    assert ferry.slug == "ferry-timetable-changes"
    assert ferry.published == datetime(2019, 7, 8, 8, 30, tzinfo=BST)  # the offset post_date_gmt shows
    assert ferry.updated == datetime(2019, 7, 9, 10, 0, tzinfo=BST)
    assert ferry.categories == ("Ferries", "News") and ferry.tags == ("Timetable",)  # kept apart
    assert ferry.authors == (Author("Mara Quayle"),)  # the display name; the account's email stays private
    assert ferry.image == UPLOADS + "harbour-at-dawn.jpg"  # the featured image, through _thumbnail_id
    assert ferry.summary == "<p>The first ferry leaves twenty minutes earlier.</p>"
    assert ferry.url is None and not ferry.draft
    cafe = posts[f"{SITE}/?p=102"]
    assert cafe.slug == "cafe-reopens"  # post_name caf%c3%a9-reopens
    assert cafe.tags == ("Food",) and cafe.categories == ("News",)  # post_format is neither
    assert cafe.authors == (Author("Tom Harrow"),)
    assert any("password-protected" in w and "#post-104" in w for w in warnings)


def test_drafts_pending_private_and_protected_posts_are_drafts() -> None:
    posts, _ = read()
    drafts = {ident for ident, post in posts.items() if post.draft}
    assert drafts == {f"{SITE}/?p=103", f"{SITE}/?p=104", f"{SITE}/?p=105"}
    notes = posts[f"{SITE}/?p=103"]
    assert notes.slug == "notes-for-the-winter-timetable"  # an unsaved draft has no post_name
    assert notes.published == datetime(2019, 10, 2, 11, 0, tzinfo=LONDON)  # no GMT date: the site's zone


def test_pages_attachments_menus_and_trash_are_left_out_and_counted() -> None:
    export = read_wxr(EXPORT.read_bytes(), "x.xml", LONDON, lambda m: None)
    assert all(e.kind == "post" for e in export.entries)
    skipped = dict(export.skipped)
    assert skipped["page (pass --pages)"] == 1
    assert skipped["nav_menu_item"] == 1 and skipped["post with status trash"] == 1
    assert export.attachments == (UPLOADS + "harbour-at-dawn.jpg", UPLOADS + "old-slipway.png")
    assert export.shortcodes == ("playlist",)
    with_pages, _ = read(pages=True)
    about = with_pages[f"{SITE}/?page_id=2"]
    assert about.title == "About the harbour" and about.slug == "about"


def test_classic_editor_text_gets_wordpress_paragraphs_and_captions_become_figures() -> None:
    posts, _ = read()
    body = posts[f"{SITE}/?p=101"].body
    assert body.startswith(
        "<p>From Monday the first ferry leaves at <strong>06:40</strong>, twenty minutes earlier than before.<br>\n"
        "The last one still leaves at 22:10.</p>\n<figure><a "
    )
    assert "<figcaption>The harbour at dawn, before the first ferry</figcaption></figure>" in body
    assert "[caption" not in body and "<p><h2>" not in body and "<h2>Weekends</h2>" in body
    assert body.endswith('<p>Tickets are sold <a href="/tickets/">on the quay</a>.</p>')
    block = posts[f"{SITE}/?p=102"].body  # block editor: already HTML, no paragraphs added
    assert block.count("<p>") == 2 and "<p><!--" not in block


def test_galleries_show_their_images_and_media_become_links() -> None:
    posts, _ = read()
    regatta = posts[f"{SITE}/?p=106"].body
    assert (
        f'<figure class="gallery"><img src="{UPLOADS}harbour-at-dawn.jpg" alt="">'
        f'<img src="{UPLOADS}old-slipway.png" alt=""></figure>'
    ) in regatta
    assert '<p>[playlist type="audio" ids="77,78"]</p>' in regatta  # needs WordPress: left as it is
    attached = {None: ["https://x.example/a.jpg"], ("9",): []}
    html, left = wordpress_html("[gallery]\n\n[gallery ids='9']", lambda ids: attached[tuple(ids) if ids else None])
    assert (
        html
        == '<figure class="gallery"><img src="https://x.example/a.jpg" alt=""></figure>\n<p>[gallery ids=\'9\']</p>'
    )
    assert left == ("gallery",)
    html, _ = wordpress_html('[audio mp3="https://x.example/show.mp3"][/audio]')
    assert html == '<p><a href="https://x.example/show.mp3">Listen: show.mp3</a></p>'


def test_entities_in_names_and_the_teaser_before_more() -> None:
    data = (
        EXPORT.read_bytes()
        .replace(b'nicename="ferries"><![CDATA[Ferries]]>', b'nicename="ferries"><![CDATA[Ferries &amp; Boats]]>')
        .replace(b"<![CDATA[Summer regatta photos]]>", b"<![CDATA[Sails &amp; oars]]>")
        .replace(b"What a day on the water.\n", b"What a day on the water.\n<!--more-->\n")
    )
    export = read_wxr(data, "x.xml", LONDON, lambda m: None)
    posts = {e.wp_id: e.post for e in export.entries}
    assert posts["101"].categories == ("Ferries & Boats", "News")
    assert posts["106"].title == "Sails & oars"
    assert posts["106"].summary == "<p>What a day on the water.</p>"
    assert posts["101"].summary == "<p>The first ferry leaves twenty minutes earlier.</p>"  # the excerpt comes first


def test_autop_keeps_pre_blocks_whole() -> None:
    assert autop("one\n\n<pre>a\n\nb</pre>\n\ntwo\nthree") == "<p>one</p>\n<pre>a\n\nb</pre>\n<p>two<br>\nthree</p>"
    assert autop("Watch:\n\nhttps://video.example.org/v/1") == (
        '<p>Watch:</p>\n<p><a href="https://video.example.org/v/1">https://video.example.org/v/1</a></p>'
    )
    html, left = wordpress_html('[embed]https://video.example.org/v/1[/embed]\n\n[audio src="x.mp3"]')
    assert '<a href="https://video.example.org/v/1">' in html and left == ("audio",)  # no absolute URL to link


def test_not_an_export() -> None:
    assert not is_wxr((Path(__file__).parent / "data" / "feeds" / "rss20.xml").read_bytes())
    with pytest.raises(SourceError, match="not well-formed XML"):
        read_wxr(b"a WordPress export, it said", "broken.xml", LONDON, lambda m: None)
    no_version = EXPORT.read_bytes().replace(b"<wp:wxr_version>1.2</wp:wxr_version>", b"")
    with pytest.raises(SourceError, match="not a WordPress export"):
        read_wxr(no_version, "x.xml", LONDON, lambda m: None)


def test_broken_exports_are_read_as_far_as_they_go() -> None:
    """Exports often hold control characters pasted from word processors, or end early (a timed-out download)."""
    warnings: list[str] = []
    pasted = EXPORT.read_bytes().replace(b"twenty minutes earlier", b"twenty\x0b minutes\x1f earlier")
    export = read_wxr(pasted, "pasted.xml", LONDON, warnings.append)
    assert len(export.entries) == 6 and "twenty minutes earlier" in export.entries[0].post.body
    assert "pasted.xml: characters that XML does not allow (control characters) were dropped" in warnings
    cut = EXPORT.read_bytes()[: EXPORT.read_bytes().index(b"<title><![CDATA[Old news]]>")]
    export = read_wxr(cut, "cut.xml", LONDON, warnings.append)
    assert len(export.entries) == 6
    assert any(
        w.startswith("cut.xml: not well-formed XML at line ") and "imported what could be read" in w for w in warnings
    )


def test_a_guid_copied_onto_another_post_loses_no_post() -> None:
    copied = EXPORT.read_bytes().replace(
        b'<guid isPermaLink="false">https://harbour.example.net/?p=106</guid>',
        b'<guid isPermaLink="false">https://harbour.example.net/?p=101</guid>',
    )
    warnings: list[str] = []
    export = read_wxr(copied, "x.xml", LONDON, warnings.append)
    assert [e.post.id for e in export.entries if e.wp_id in ("101", "106")] == [f"{SITE}/?p=101", f"{SITE}/?p=106"]
    assert (
        f"x.xml#post-106: its guid '{SITE}/?p=101' is another post's too; imported with the id '{SITE}/?p=106'"
        in warnings
    )


def test_untitled_posts_take_their_first_words() -> None:
    untitled = EXPORT.read_bytes().replace(b"<![CDATA[Summer regatta photos]]>", b"")
    export = read_wxr(untitled, "x.xml", LONDON, lambda m: None)
    assert [e.post.title for e in export.entries if e.wp_id == "106"] == [
        "What a day on the water. The race commentary, recorded from the pier: [playlist…"
    ]


def test_a_local_export_may_be_bigger_than_a_feed(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    padding = b"<!-- " + b"x" * 3000 + b" -->\n"
    big.write_bytes(EXPORT.read_bytes().replace(b"<channel>", b"<channel>" + padding))
    result = import_feed(str(big), tmp_path / "p", tz=LONDON, warn=lambda m: None, max_bytes=2000, durable=False)
    assert result.count("create") == 6
    feed = tmp_path / "feed.xml"
    feed.write_bytes((Path(__file__).parent / "data" / "feeds" / "rss20.xml").read_bytes() + padding)
    with pytest.raises(SourceError, match="larger than 2000 bytes"):
        import_feed(str(feed), tmp_path / "q", tz=LONDON, warn=lambda m: None, max_bytes=2000, durable=False)


def test_entities_in_an_export_are_never_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret-text", encoding="utf-8")
    doctype = (
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}"><!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
    ).encode()
    data = EXPORT.read_bytes().replace(b"<rss version", doctype + b"<rss version", 1)
    data = data.replace(b"<![CDATA[Ferry timetable changes for the summer]]>", b"Ferry &xxe; &c;")
    warnings: list[str] = []
    export = read_wxr(data, "xxe.xml", LONDON, warnings.append)
    text = " ".join(f"{e.post.title} {e.post.body}" for e in export.entries)
    assert "the-secret-text" not in text and "aaaaaaaaaa" not in text
    assert len(export.entries) == 6
    assert any("declares its own XML entities" in w for w in warnings)


def test_wxr_1_0_namespaces_read_the_same() -> None:
    old = EXPORT.read_bytes().replace(b"wordpress.org/export/1.2/", b"wordpress.org/export/1.0/")
    export = read_wxr(old, "old.xml", LONDON, lambda m: None)
    assert len(export.entries) == 6
    assert export.entries[0].post.summary == "<p>The first ferry leaves twenty minutes earlier.</p>"


# ---------------------------------------------------------------- the import command


def test_import_writes_drafts_as_drafts_that_read_back(tmp_path: Path) -> None:
    config = write_site(tmp_path / "site", {}, site={"timezone": "Europe/London"})
    runner = CliRunner()
    into = tmp_path / "site" / "posts" / "imported"
    result = runner.invoke(main, ["import", str(EXPORT), "--into", str(into), "--site", str(config)])
    assert result.exit_code == 0, result.output
    assert "imported 6 items: 6 new, 0 changed, 0 unchanged" in result.output
    assert "not imported: 1 × page (pass --pages)" in result.output
    assert "left as text, as they need WordPress to show: [playlist]" in result.output
    posts = {p.id: p for p in read_markdown_dir(into, LONDON) if isinstance(p, Post)}
    assert {i for i, p in posts.items() if p.draft} == {f"{SITE}/?p=103", f"{SITE}/?p=104", f"{SITE}/?p=105"}
    ferry = posts[f"{SITE}/?p=101"]
    assert (ferry.categories, ferry.tags, ferry.authors) == (
        ("Ferries", "News"),
        ("Timetable",),
        (Author("Mara Quayle"),),
    )
    assert ferry.extra["imported_from"] == SITE
    text = (into / "2019-07-08-ferry-timetable-changes.md").read_text(encoding="utf-8")
    assert '<a href="https://harbour.example.net/tickets/">' in text  # relative links resolved against the old site
    again = runner.invoke(main, ["import", str(EXPORT), "--into", str(into), "--site", str(config)])
    assert "imported 6 items: 0 new, 0 changed, 6 unchanged" in again.output
    pages = runner.invoke(main, ["import", str(EXPORT), "--into", str(into), "--site", str(config), "--pages"])
    assert "imported 7 items: 1 new, 0 changed, 6 unchanged" in pages.output
    assert (into / "2019-01-01-about.md").exists()


def test_an_edit_in_a_new_export_updates_the_same_file(tmp_path: Path) -> None:
    into = tmp_path / "posts"
    first = import_feed(str(EXPORT), into, tz=LONDON, warn=lambda m: None, durable=False)
    assert first.count("create") == 6
    edited = tmp_path / "export-2.xml"
    edited.write_bytes(EXPORT.read_bytes().replace(b"twenty minutes earlier than before", b"half an hour earlier"))
    second = import_feed(str(edited), into, tz=LONDON, warn=lambda m: None, durable=False)
    assert [p.path.name for p in second.files if p.action == "update"] == ["2019-07-08-ferry-timetable-changes.md"]
    assert "half an hour earlier" in (into / "2019-07-08-ferry-timetable-changes.md").read_text(encoding="utf-8")
    assert len(list(into.glob("*.md"))) == 6


def test_an_export_as_a_site_source_publishes_no_draft(tmp_path: Path) -> None:
    config_path = write_site(tmp_path / "site", {})
    text = config_path.read_text(encoding="utf-8").replace('[content]\nposts = "posts"\n', "")
    config_path.write_text(text + f'\n[[sources]]\nfeed = "{EXPORT}"\n', encoding="utf-8")
    config = load_config(config_path, output_dir=tmp_path / "out")
    result = build_site(config, today=date(2024, 1, 1))
    assert result.errors == () and result.posts == 3
    rss = (tmp_path / "out" / "rss.xml").read_text(encoding="utf-8")
    assert rss.count("<item>") == 3
    assert "Ferry timetable changes" in rss and "Board minutes" not in rss and "Harbour dues" not in rss
    assert "https://blog.example.org/2019/07/08/ferry-timetable-changes/" in rss  # the new site's permalink
    assert (tmp_path / "out" / "categories" / "ferries" / "rss.xml").exists()


# ---------------------------------------------------------------- never overwriting what import did not write


def test_an_id_taken_by_a_hand_written_post_is_refused_naming_both(tmp_path: Path) -> None:
    mine = post_text("My own post", "2019-07-01 10:00:00", "Written by hand.", id=f"{SITE}/?p=101")
    config = write_site(tmp_path / "site", {"mine.md": mine})
    into = tmp_path / "site" / "posts" / "imported"
    result = CliRunner().invoke(main, ["import", str(EXPORT), "--into", str(into), "--site", str(config)])
    assert result.exit_code == 1
    mine_path = tmp_path / "site" / "posts" / "mine.md"
    assert f"{EXPORT}#post-101: its id '{SITE}/?p=101' is already the id of {mine_path}" in result.output
    assert "a post this import did not write" in result.output
    assert "1 item could not be imported" in result.output
    assert mine_path.read_text(encoding="utf-8") == mine
    assert len(list(into.glob("*.md"))) == 5  # the others are imported


def test_a_file_imported_from_another_source_is_never_overwritten(tmp_path: Path) -> None:
    into = tmp_path / "posts"
    import_feed(str(EXPORT), into, tz=LONDON, warn=lambda m: None, durable=False)
    before = {p: p.read_bytes() for p in into.glob("*.md")}
    other = tmp_path / "other.xml"
    other.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Other</title><link>https://other.example.org/</link>'
        "<description>d</description><item><title>Not the ferry</title>"
        f'<guid isPermaLink="false">{SITE}/?p=101</guid><pubDate>Mon, 08 Jul 2019 07:30:00 +0000</pubDate>'
        "<description>Something else.</description></item></channel></rss>",
        encoding="utf-8",
    )
    result = import_feed(str(other), into, tz=LONDON, warn=lambda m: None, durable=False)
    assert result.files == ()
    ferry = into / "2019-07-08-ferry-timetable-changes.md"
    assert [str(e) for e in result.errors] == [
        f"{other}#item-1: its id '{SITE}/?p=101' is already the id of {ferry}, "
        f"a post imported from {SITE}; not imported, and that file left as it is: give one of the two another id"
    ]
    assert {p: p.read_bytes() for p in into.glob("*.md")} == before


def test_a_file_without_imported_from_is_not_taken_for_ours(tmp_path: Path) -> None:
    into = tmp_path / "posts"
    import_feed(str(EXPORT), into, tz=LONDON, warn=lambda m: None, durable=False)
    path = into / "2019-07-20-cafe-reopens.md"
    path.write_text(path.read_text(encoding="utf-8").replace(f"imported_from: {SITE}\n", ""), encoding="utf-8")
    result = import_feed(str(EXPORT), into, tz=LONDON, warn=lambda m: None, durable=False)
    assert len(result.errors) == 1
    assert f"add `imported_from: {SITE}` to its front matter" in str(result.errors[0])


# ---------------------------------------------------------------- the redirect map


def test_redirect_map_in_nginx_and_netlify_forms(tmp_path: Path) -> None:
    config = write_site(
        tmp_path / "site", {}, site={"url": "https://harbour.example.net/", "permalink": "/posts/{slug}/"}
    )
    into = tmp_path / "site" / "posts" / "imported"
    result = CliRunner().invoke(main, ["import", str(EXPORT), "--into", str(into), "--site", str(config)])
    assert result.exit_code == 0, result.output
    netlify = (tmp_path / "site" / "_redirects").read_text(encoding="utf-8")
    assert netlify.splitlines()[1:] == [
        "/2019/07/08/ferry-timetable-changes/  /posts/ferry-timetable-changes/  301",
        "/2019/07/20/caf%c3%a9-reopens/  /posts/cafe-reopens/  301",
        "/2019/08/20/regatta-photos/  /posts/regatta-photos/  301",
        "/  p=101  /posts/ferry-timetable-changes/  301",
        "/  p=102  /posts/cafe-reopens/  301",
        "/  p=106  /posts/regatta-photos/  301",
    ]  # drafts (103, 104, 105) have no public address to redirect
    nginx = (tmp_path / "site" / "redirects.nginx").read_text(encoding="utf-8")
    assert "map $request_uri $syndicate_redirect {" in nginx
    assert '    "/2019/07/08/ferry-timetable-changes/" "/posts/ferry-timetable-changes/";' in nginx
    assert '    "/2019/07/08/ferry-timetable-changes" "/posts/ferry-timetable-changes/";' in nginx
    assert '    "/?p=106" "/posts/regatta-photos/";' in nginx
    assert "if ($syndicate_redirect) { return 301 $syndicate_redirect; }" in nginx


def test_the_library_writes_no_redirect_map_unless_given_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = import_feed(str(EXPORT), Path("posts"), tz=LONDON, warn=lambda m: None, durable=False)
    assert result.count("create") == 6 and not any("redirect" in note for note in result.notes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posts"]


def test_redirect_files_that_syndicate_did_not_write_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "_redirects").write_text("/shop  /store  301\n", encoding="utf-8")
    with pytest.raises(SourceError, match="is not a file syndicate wrote"):
        import_feed(
            str(EXPORT),
            tmp_path / "posts",
            tz=LONDON,
            warn=lambda m: None,
            durable=False,
            extras=ImportExtras(redirects=tmp_path),
        )
    assert (tmp_path / "_redirects").read_text(encoding="utf-8") == "/shop  /store  301\n"
    assert not (tmp_path / "posts").exists()  # refused before anything was written


# ---------------------------------------------------------------- images


def served_export(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "export.xml"
    path.write_bytes(EXPORT.read_bytes().replace(SITE.encode() + b"/wp-content/", base.encode() + b"/wp-content/"))
    return path


def test_images_are_downloaded_once_and_links_point_at_them(tmp_path: Path) -> None:
    with serving() as server:
        uploads = "/wp-content/uploads/2019/07/"
        server.answers[uploads + "harbour-at-dawn-640x427.jpg"] = Answer(JPEG, "image/jpeg")
        server.answers[uploads + "harbour-at-dawn.jpg"] = Answer(JPEG + b"big", "image/jpeg")
        server.answers[uploads + "old-slipway.png"] = Answer(png(), "application/octet-stream")  # sniffed, not trusted
        export = served_export(tmp_path, server.base)
        config = write_site(tmp_path / "site", {})
        into = tmp_path / "site" / "posts" / "imported"
        images = tmp_path / "site" / "static" / "images"
        args = ["import", str(export), "--into", str(into), "--site", str(config), "--images", str(images)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert f"images: 3 downloaded, 0 already there, 0 kept at their old address → {images}" in result.output
        files = sorted(p.name for p in images.iterdir())
        assert len(files) == 3 and files[0].startswith("harbour-at-dawn-") and files[2].startswith("old-slipway-")
        assert (images / files[2]).read_bytes() == png()
        ferry = (into / "2019-07-08-ferry-timetable-changes.md").read_text(encoding="utf-8")
        small = next(f for f in files if f.startswith("harbour-at-dawn-640x427-"))
        assert f'<img src="/static/images/{small}" alt="The harbour at dawn" width="640" height="427">' in ferry
        assert "srcset" not in ferry
        full = next(f for f in files if f.startswith("harbour-at-dawn-") and f != small)
        assert f"image: /static/images/{full}\n" in ferry  # the featured image too
        asked = len(server.asked)
        again = CliRunner().invoke(main, [*args, "--images-url", "/images"])
        assert "images: 0 downloaded, 3 already there" in again.output
        assert len(server.asked) == asked  # nothing fetched twice
        assert f'src="/images/{small}"' in (into / "2019-07-08-ferry-timetable-changes.md").read_text(encoding="utf-8")


def test_images_too_big_or_not_images_keep_their_links(tmp_path: Path) -> None:
    with serving() as server:
        uploads = "/wp-content/uploads/2019/07/"
        server.answers[uploads + "harbour-at-dawn-640x427.jpg"] = Answer(JPEG + b"\x00" * 5000, "image/jpeg")
        server.answers[uploads + "old-slipway.png"] = Answer(b"<html>login</html>", "image/png")
        export = served_export(tmp_path, server.base)
        warnings: list[str] = []
        result = import_feed(
            str(export),
            tmp_path / "posts",
            tz=LONDON,
            warn=warnings.append,
            durable=False,
            extras=ImportExtras(images=tmp_path / "images", max_image_bytes=1000),
        )
        assert result.errors == ()
        assert "images: 0 downloaded, 0 already there, 3 kept at their old address" in result.notes[-1]
        assert any("larger than 1000 bytes" in w for w in warnings)
        assert any("old-slipway.png: not a JPEG, PNG" in w for w in warnings)
        assert any("HTTP 404" in w for w in warnings)  # the featured image is not served
        cafe = (tmp_path / "posts" / "2019-07-20-cafe-reopens.md").read_text(encoding="utf-8")
        assert f'src="{server.base}{uploads}old-slipway.png"' in cafe
        assert not any((tmp_path / "images").glob("*"))


def test_attachments_download_the_whole_media_library(tmp_path: Path) -> None:
    with serving() as server:
        uploads = "/wp-content/uploads/2019/07/"
        for name in ("harbour-at-dawn-640x427.jpg", "harbour-at-dawn.jpg"):
            server.answers[uploads + name] = Answer(JPEG, "image/jpeg")
        server.answers[uploads + "old-slipway.png"] = Answer(png(), "image/png")
        export = served_export(tmp_path, server.base)
        missing = CliRunner().invoke(main, ["import", str(export), "--into", str(tmp_path / "p"), "--attachments"])
        assert missing.exit_code == 1 and "give --images DIR too" in missing.output
        result = import_feed(
            str(export),
            tmp_path / "posts",
            tz=LONDON,
            warn=lambda m: None,
            durable=False,
            extras=ImportExtras(images=tmp_path / "images", attachments=True, pages=True),
        )
        assert len(list((tmp_path / "images").iterdir())) == 3
        assert result.count("create") == 7


def test_dry_run_downloads_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with serving() as server:
        export = served_export(tmp_path, server.base)
        result = CliRunner().invoke(main, ["import", str(export), "--into", "p", "--images", "i", "--dry-run"])
        assert result.exit_code == 0, result.output
        assert "would write 4 redirects to ." in result.output  # café's slug and the three ?p= addresses
        assert "images: 3 would download" in result.output
        assert server.asked == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.xml"]


def test_undated_export_items_take_the_export_date_never_1970(tmp_path: Path) -> None:
    text = (
        EXPORT.read_bytes()
        .replace(b"<wp:post_date><![CDATA[2019-07-20 17:05:00]]></wp:post_date>", b"<wp:post_date></wp:post_date>")
        .replace(b"<wp:post_date_gmt><![CDATA[2019-07-20 16:05:00]]></wp:post_date_gmt>", b"")
    )
    warnings: list[str] = []
    export = read_wxr(text, "x.xml", LONDON, warnings.append)
    cafe = next(e.post for e in export.entries if e.post.slug == "cafe-reopens")
    assert cafe.published.astimezone(UTC) < datetime(2023, 12, 1, 9, 15, 42, tzinfo=UTC)
    assert cafe.published.year == 2023
    assert any("dated from the export's pubDate" in w for w in warnings)
