"""The committed feeds/ is exactly what `syndicate build` writes for the example site."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import copy_example_site, output_files

from syndicate.cli.main import main


def test_committed_feeds_equal_a_fresh_build(repo_root: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "feeds"
    # what a user runs in the repository root, on a copy of the site (so no build cache helps) and into another folder
    config = copy_example_site(tmp_path / "site")
    result = CliRunner().invoke(main, ["build", "--site", str(config), "--out", str(fresh)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    committed = output_files(repo_root / "feeds")
    built = output_files(fresh)
    missing = sorted(set(built) - set(committed))
    extra = sorted(set(committed) - set(built))
    differing = sorted(rel for rel in set(built) & set(committed) if built[rel] != committed[rel])
    problems = [f"not in feeds/: {rel}" for rel in missing]
    problems += [f"in feeds/ but no longer built: {rel}" for rel in extra]
    problems += [f"differs: {rel}" for rel in differing]
    assert not problems, (
        "feeds/ is out of date; run `syndicate build` in the repository root to refresh it:\n  " + "\n  ".join(problems)
    )


def test_the_example_site_has_what_the_design_promises(repo_root: Path) -> None:
    feeds = repo_root / "feeds"
    for rel in ("rss.xml", "atom.xml", "feed.json", "index.html", "feeds.opml", "categories/general/atom.xml"):
        assert (feeds / rel).is_file(), rel
    assert len(list((repo_root / "samples" / "posts").rglob("*.md"))) == 10
