"""Posts handed to the worker processes while the scan reads on (build/rendering.py, issue 17):
the same results as rendering them in this process, in file order, errors and all; a worker
that dies leaves nothing unrendered."""

from __future__ import annotations

import os
import signal
from datetime import date
from pathlib import Path

import pytest
from conftest import make_site, output_files, post_text

from syndicate.build import rendering
from syndicate.build.render_posts import LoadedEntry
from syndicate.build.render_posts import render_files as _render_files
from syndicate.build.rendering import EarlyRenders
from syndicate.build.scan import scan_markdown
from syndicate.build.site import build
from syndicate.build.workers import PARALLEL_MIN, WorkerPool
from syndicate.config import Config, load_config
from syndicate.errors import SourceError
from syndicate.store.entries import EntryCache

COUNT = PARALLEL_MIN + 130  # enough to start the workers, and some tasks after that


def _posts() -> dict[str, str]:
    posts = {
        f"p{n:04d}.md": post_text(f"Post {n}", f"2013-04-{1 + n % 28:02d} 10:{n % 60:02d}:00", f"Body **{n}**.")
        for n in range(COUNT)
    }
    posts["p0450.md"] = "---\ntitle: [unclosed\n---\nBroken front matter.\n"  # an error among the early ones
    posts["p0451.html"] = "<p>A page, not a post.</p>\n"  # no post at all
    return posts


def _site(tmp_path: Path) -> Config:
    return make_site(tmp_path, _posts())


def _by_key(results: list[LoadedEntry | SourceError | None]) -> list[object]:
    """What a result says, comparable across processes."""
    return [r.entry if isinstance(r, LoadedEntry) else (str(r) if isinstance(r, SourceError) else r) for r in results]


def test_early_renders_equal_rendering_here_and_use_the_workers(tmp_path: Path) -> None:
    config = _site(tmp_path)
    with WorkerPool() as workers:
        early = EarlyRenders(config, EntryCache(None, ""), workers)
        files, errors = scan_markdown(config, take=early.take)
        assert errors == []
        assert all(f.taken and f.data is None for f in files), "every file read should be taken, its bytes let go"
        assert workers.get() is not None and early._pool is not None, "the workers never started: nothing tested"
        done = early.results()
    here, _ = scan_markdown(config)
    expected = _render_files([(f.key, f.shown, f.data or b"", f.place) for f in here if f.place], config.site)
    assert len(here) == len(files) == COUNT + 1
    assert _by_key([done[f.key] for f in files]) == _by_key(expected)
    assert sum(isinstance(r, SourceError) for r in expected) == 1
    assert sum(r is None for r in expected) == 1


def test_a_worker_killed_midway_loses_no_post(tmp_path: Path) -> None:
    config = _site(tmp_path)
    with WorkerPool() as workers:
        early = EarlyRenders(config, EntryCache(None, ""), workers)
        files, _ = scan_markdown(config, take=early.take)
        pool = workers.get()
        assert pool is not None
        for pid in list(pool._processes):  # the pool breaks: every task not yet in is rendered here
            os.kill(pid, signal.SIGKILL)
        done = early.results()
    assert len(done) == len(files)
    assert sum(isinstance(r, LoadedEntry) for r in done.values()) == COUNT - 1


def test_a_big_site_builds_the_same_with_or_without_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _site(tmp_path / "a")
    result = build(config, date(2013, 5, 1), lambda _: None, keep_going=True)
    assert result.posts == COUNT - 1 and len(result.errors) == 1
    assert "p0450.md" in str(result.errors[0])
    alone = load_config(_site(tmp_path / "b").path)
    monkeypatch.setattr(rendering, "PARALLEL_MIN", 10**9)  # every post rendered in this process
    build(alone, date(2013, 5, 1), lambda _: None, keep_going=True)
    assert output_files(config.output_dir) == output_files(alone.output_dir)


def test_the_model_pickles_whole_by_its_quick_state(tmp_path: Path) -> None:
    """model.quick_pickling: every field comes back (posts travel to workers and into the cache this way)."""
    import pickle

    from syndicate.model import Author, Enclosure, Entry

    config = make_site(tmp_path, {"x.md": post_text("A title", tags=["a", "b"], image="/i.png", author="Ann")})
    files, _ = scan_markdown(config)
    (loaded,) = _render_files([(f.key, f.shown, f.data or b"", f.place) for f in files if f.place], config.site)
    assert isinstance(loaded, LoadedEntry)
    entry = Entry(
        loaded.entry.post,
        "id",
        "https://x.example/",
        "T",
        "<p>x</p>",
        "<p>s</p>",
        "s",
        loaded.entry.updated,
        None,
        ("a",),
    )
    for value in (
        loaded,
        entry,
        Author("Ann", "ann@example.org", "https://ann.example/"),
        Enclosure("https://x.example/a.mp3", 3, "audio/mpeg"),
    ):
        back = pickle.loads(pickle.dumps(value))
        assert back == value and type(back) is type(value)
    assert loaded.entry.post.tags == ("a", "b")
    with pytest.raises(pickle.UnpicklingError):
        Author.__new__(Author).__setstate__(("only a name",))  # type: ignore[attr-defined]
