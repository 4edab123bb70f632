"""A blogger's first hour (issue 16): init, new, check, finding the site, the words of
errors, summaries, slugs and dates, tried as a new user would."""

from __future__ import annotations

import subprocess
import tomllib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from conftest import build_site, make_site, post_text

from syndicate.build.scaffold import PLACEHOLDER_EMAIL
from syndicate.cli import main
from syndicate.errors import SourceError
from syndicate.model import Post
from syndicate.sources.markdown import read_post_bytes
from syndicate.text import slugify

LA = ZoneInfo("America/Los_Angeles")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_init_writes_author_email_machine_zone_and_gitignore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Lisbon")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "pt_PT.UTF-8")
    result = run("init", tmp_path / "blog", "--author", "Ann Lee", "--email", "ann@example.org")
    assert result.exit_code == 0, result.output
    config = tomllib.loads((tmp_path / "blog" / "syndicate.toml").read_text(encoding="utf-8"))
    assert config["site"]["author"] == {"name": "Ann Lee", "email": "ann@example.org"}
    assert config["site"]["timezone"] == "Europe/Lisbon"
    assert config["site"]["language"] == "pt-PT"  # so 03/04/2026 reads as 3 April there
    ignored = (tmp_path / "blog" / ".gitignore").read_text(encoding="utf-8")
    assert ".syndicate-cache/" in ignored and "subscribers.sqlite3" in ignored


def test_git_status_offers_neither_cache_nor_database(tmp_path: Path) -> None:
    site = tmp_path / "blog"
    assert run("init", site, "--author", "Ann", "--email", "ann@example.org").exit_code == 0
    assert run("build", "--site", site, "--today", "2024-01-02").exit_code == 0
    (site / "subscribers.sqlite3").write_bytes(b"")
    (site / "subscribers.sqlite3-wal").write_bytes(b"")
    subprocess.run(["git", "init", "-q", str(site)], check=True)
    status = subprocess.run(
        ["git", "-C", str(site), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert ".syndicate-cache" not in status and "subscribers.sqlite3" not in status, status
    assert "syndicate.toml" in status


def test_init_keeps_a_gitignore_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "blog").mkdir()
    (tmp_path / "blog" / ".gitignore").write_text("mine\n", encoding="utf-8")
    assert run("init", tmp_path / "blog").exit_code == 0
    assert (tmp_path / "blog" / ".gitignore").read_text(encoding="utf-8") == "mine\n"


def test_send_refuses_inits_placeholders_and_says_what_to_set(tmp_path: Path) -> None:
    site = tmp_path / "blog"
    assert run("init", site).exit_code == 0
    assert PLACEHOLDER_EMAIL in (site / "syndicate.toml").read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["send", "--site", str(site), "--week", "2024-W01", "--to", "me@example.org"])
    assert result.exit_code == 1
    assert "[site] author email" in result.output and "[site] postal_address" in result.output
    assert "Traceback" not in result.output


def test_commands_find_the_site_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "blog"
    assert run("init", site, "--author", "Ann", "--email", "ann@example.org").exit_code == 0
    monkeypatch.chdir(site / "posts")
    result = run("new", "From a subfolder", "--date", "2024-02-03T10:00:00")
    assert result.exit_code == 0, result.output
    assert (site / "posts" / "2024-02-03-from-a-subfolder.md").is_file()
    assert run("build", "--today", "2024-03-01").exit_code == 0
    assert (site / "public" / "rss.xml").is_file()


def test_new_splits_tags_like_front_matter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "blog"
    assert run("init", site, "--author", "Ann", "--email", "ann@example.org").exit_code == 0
    monkeypatch.chdir(site)
    result = run("new", "Two tags", "--tag", "Python, Rust", "--tag", "Go", "--date", "2024-02-03T10:00:00")
    assert result.exit_code == 0, result.output
    post = read_post_bytes((site / "posts" / "2024-02-03-two-tags.md").read_bytes(), "x.md", LA, "x")
    assert post is not None and post.tags == ("Python", "Rust", "Go")


def test_check_on_nothing_is_an_error(tmp_path: Path) -> None:
    result = run("check", tmp_path)
    assert result.exit_code == 1
    assert "no feeds in" in result.output and "syndicate build" in result.output


def test_summary_line_counts_future_posts(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {"now.md": post_text("Now", "2013-04-15 10:00:00"), "later.md": post_text("Later", "2013-06-01 10:00:00")},
    )
    result = run("build", "--site", config.root, "--today", "2013-04-30")
    assert result.exit_code == 0
    assert "from 1 post in" in result.output and "1 future post left out until their day" in result.output
    again = run("build", "--site", config.root, "--today", "2013-04-30")  # nothing changed: from the record
    assert "1 future post left out until their day" in again.output


# ---------------------------------------------------------------- dates, summaries, slugs, YAML words


def read(text: str, language: str = "en-GB") -> Post:
    post = read_post_bytes(text.encode("utf-8"), "posts/x.md", LA, "x", language=language)
    assert post is not None
    return post


@pytest.mark.parametrize(
    ("language", "day"), [("en-GB", date(2026, 4, 3)), ("de", date(2026, 4, 3)), ("en-US", date(2026, 3, 4))]
)
def test_day_and_month_follow_the_site_language(language: str, day: date) -> None:
    post = read("---\ntitle: T\ndate: 03/04/2026 10:00\n---\n", language)
    assert post.published.date() == day


@pytest.mark.parametrize("language", ["en", ""])
def test_an_ambiguous_day_and_month_is_refused_never_guessed(language: str) -> None:
    with pytest.raises(SourceError) as err:
        read("---\ntitle: T\ndate: 03/04/2026\n---\n", language)
    assert "could be 3 April or 4 March" in str(err.value) and err.value.line == 3


def test_an_unambiguous_day_and_month_needs_no_language() -> None:
    assert read("---\ntitle: T\ndate: 13/04/2026 10:00\n---\n", "en").published == datetime(2026, 4, 13, 10, tzinfo=LA)


def test_a_colon_in_a_title_is_explained_with_the_fix(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"x.md": "---\ntitle: Grizzly: a pattern\ndate: 2013-04-15\n---\nText.\n"})
    result = run("build", "--site", config.root, "--today", "2013-04-30")
    assert result.exit_code == 1
    assert "posts/x.md:2: YAML front matter: the value holds a colon and a space" in result.output
    assert 'put it in quotes: title: "Grizzly: a pattern"' in result.output


def test_a_post_that_opens_with_an_image_and_a_heading_summarises_its_first_text(tmp_path: Path) -> None:
    body = "![A photo](photo.jpg)\n\n## A heading\n\nThe first real words.\n\nMore words.\n"
    config = make_site(tmp_path, {"x.md": post_text("Opening with an image", body=body)})
    build_site(config)
    import json

    (item,) = json.loads((config.output_dir / "feed.json").read_bytes())["items"]
    assert item["summary"] == "The first real words."


def test_slugs_follow_the_language_of_their_text() -> None:
    assert slugify("日本語", "ja") == "nihongo"
    assert slugify("東京のブログ") == "toukyou-no-burogu"  # kana say Japanese whatever the site's language
    assert slugify("中文博客", "zh") == "zhong-wen-bo-ke"
    assert slugify("Über Größe", "de") == "ueber-groesse"
    assert slugify("Über") == "uber"
    post = read_post_bytes(b"---\ntitle: T\ndate: 2013-04-15 10:00\n---\n", "x.md", LA, "日本語", language="ja")
    assert post is not None and post.slug == "nihongo"  # a file named 日本語.md
