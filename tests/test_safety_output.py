"""The output folder is syndicate's alone: it deletes and overwrites only what it wrote,
cleans only its own temporaries, and refuses folders that hold the site or another site."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import build_site, make_site, post_text, write_site

from syndicate.cli.main import main
from syndicate.config import load_config
from syndicate.errors import BuildError, ConfigError
from syndicate.output import MANIFEST, OutputPlan, write_plan

POSTS = {"a.md": post_text("A post", tags=["x"])}


def plan_of(files: dict[str, bytes], *, force: bool = False) -> OutputPlan:
    plan = OutputPlan(force=force)
    for rel, data in files.items():
        plan.add(rel, data, f"test {rel}")
    return plan


def test_a_first_build_into_a_folder_of_foreign_files_stops_and_names_one(tmp_path: Path) -> None:
    config = make_site(tmp_path, POSTS)
    config.output_dir.mkdir()
    (config.output_dir / "index.html").write_text("my own page")
    with pytest.raises(BuildError, match=r"syndicate did not write, such as index\.html; .*--force"):
        build_site(config)
    assert [p.name for p in config.output_dir.iterdir()] == ["index.html"], "nothing was written"
    assert (config.output_dir / "index.html").read_text() == "my own page"


def test_force_adopts_the_folder(tmp_path: Path) -> None:
    config_path = write_site(tmp_path, POSTS)
    out = tmp_path / "public"
    out.mkdir()
    (out / "rss.xml").write_text("an old hand-made feed")
    (out / "CNAME").write_text("blog.example.org")
    refused = CliRunner().invoke(main, ["build", "--site", str(config_path)])
    assert refused.exit_code == 1 and "such as CNAME" in refused.output
    done = CliRunner().invoke(main, ["build", "--site", str(config_path), "--force"])
    assert done.exit_code == 0, done.output
    assert (out / "rss.xml").read_bytes().startswith(b"<?xml"), "the feed it makes replaced the old one"
    assert (out / "CNAME").read_text() == "blog.example.org", "a file it does not make stays"
    assert "rss.xml" in (out / MANIFEST).read_text().splitlines()
    assert "CNAME" not in (out / MANIFEST).read_text().splitlines()


def test_a_file_the_manifest_does_not_list_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_plan(out, plan_of({"rss.xml": b"1"}), durable=False)
    (out / "index.html").write_text("hand-written")
    with pytest.raises(BuildError, match=r"index\.html was not written by syndicate"):
        write_plan(out, plan_of({"rss.xml": b"2", "index.html": b"generated"}), durable=False)
    assert (out / "index.html").read_text() == "hand-written"
    assert (out / "rss.xml").read_bytes() == b"1", "a refused build changes nothing"
    write_plan(out, plan_of({"rss.xml": b"2", "index.html": b"generated"}, force=True), durable=False)
    assert (out / "index.html").read_bytes() == b"generated"


def test_a_streamed_build_refuses_a_foreign_file_too(tmp_path: Path) -> None:
    config = make_site(tmp_path, POSTS)
    build_site(config)
    victim = config.output_dir / "tags" / "y" / "rss.xml"
    victim.parent.mkdir(parents=True)
    victim.write_text("mine")
    (tmp_path / "posts" / "b.md").write_text(post_text("B post", tags=["y"]))
    with pytest.raises(BuildError, match=r"tags/y/rss\.xml was not written by syndicate"):
        build_site(load_config(config.path))
    assert victim.read_text() == "mine"


def test_only_syndicate_temporaries_are_cleaned_and_only_where_it_writes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_plan(out, plan_of({"rss.xml": b"1", "tags/x/rss.xml": b"2"}), durable=False)
    ours = [out / ".syndicate-tmp.rss.xml.k1ll3d.tmp", out / "tags" / "x" / ".syndicate-tmp.rss.xml.abc.tmp"]
    theirs = [out / ".bashrc.tmp", out / "tags" / "x" / ".notes.tmp", out / "mine" / ".syndicate-tmp.a.b.tmp"]
    for path in ours + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    write_plan(out, plan_of({"rss.xml": b"1", "tags/x/rss.xml": b"2"}), durable=False)
    assert not any(p.exists() for p in ours)
    assert all(p.exists() for p in theirs), "a folder syndicate never wrote into is not walked"


def config_error(tmp_path: Path, out: str | Path, **extra: dict[str, object]) -> str:
    path = write_site(tmp_path / "site", POSTS, output={"dir": str(out)}, **extra)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("/", "whole disk or your home folder"),
        (".", "contains the posts directory"),
        ("..", "contains the posts directory"),
        ("posts", "is inside the posts directory"),
        ("posts/public", "is inside the posts directory"),
        ("templates", "is inside the templates folder"),
        ("themes", "contains the templates folder"),
        (".git", "is a hidden folder"),
        (".git/public", "is inside a version-control folder"),
        ("vendor/.hg/out", "is inside a version-control folder"),
    ],
)
def test_output_folders_that_are_not_syndicates_alone_are_config_errors(
    tmp_path: Path, out: str, expected: str
) -> None:
    message = config_error(tmp_path, out, content={"templates": "templates" if out != "themes" else "themes/t"})
    assert expected in message and "[output] dir" in message and "\n" not in message


@pytest.mark.parametrize("out", [".", "..", "/"])
def test_a_feed_only_site_cannot_publish_its_own_folder(tmp_path: Path, out: str) -> None:
    path = write_site(tmp_path / "site", {}, output={"dir": out})
    text = path.read_text().replace('posts = "posts"\n', "")
    path.write_text(text + '\n[[sources]]\nfeed = "https://example.org/feed.xml"\n')
    with pytest.raises(ConfigError, match=r"contains the site's folder|whole disk"):
        load_config(path)


def test_home_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    assert "home folder" in config_error(tmp_path, tmp_path / "home")
    (tmp_path / "public").symlink_to(tmp_path / "home")  # a link to home is home
    assert "home folder" in config_error(tmp_path / "other", tmp_path / "public")


def test_the_database_can_never_be_published(tmp_path: Path) -> None:
    path = write_site(tmp_path / "site", POSTS)
    path.write_text('database = "public/subscribers.sqlite3"\n' + path.read_text())
    with pytest.raises(ConfigError, match="contains the subscriber database"):
        load_config(path)


def test_two_sites_cannot_share_an_output_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    first = load_config(write_site(tmp_path / "one", POSTS, output={"dir": str(shared)}))
    build_site(first)
    site = {"url": "https://other.example.org/"}
    second = write_site(tmp_path / "two", POSTS, output={"dir": str(shared)}, site=site)
    with pytest.raises(ConfigError, match=r"holds the output of another site, https://blog\.example\.org/; "):
        load_config(second)
    assert len(list(shared.iterdir())) > 10, "the other site's files are untouched"
    moved = tmp_path / "moved"
    (tmp_path / "one").rename(moved)
    build_site(load_config(moved / "syndicate.toml"))  # the same site, moved: still its own folder
    (shared / MANIFEST).unlink()  # the way out the message names
    assert load_config(second).output_dir == shared


def test_a_send_adds_its_issue_beside_foreign_files_but_never_over_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "newsletter" / "2013-W16").mkdir(parents=True)
    (out / "CNAME").write_text("blog.example.org")
    (out / "newsletter" / "2013-W16" / "index.html").write_text("mine")
    plan = OutputPlan(whole_folder=False)  # as `send` publishes an issue's files
    plan.stream_to(out, durable=False)
    plan.add("newsletter/2013-W16/issue.txt", b"text", "issue")
    with pytest.raises(BuildError, match=r"newsletter/2013-W16/index\.html was not written by syndicate"):
        plan.add("newsletter/2013-W16/index.html", b"page", "issue")
    plan.close_journal()
    assert (out / "newsletter" / "2013-W16" / "index.html").read_text() == "mine"
    assert (out / "newsletter" / "2013-W16" / "issue.txt").read_bytes() == b"text"
