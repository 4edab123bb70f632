"""The build cache's stored feed items (syndicate/store/packs.py): damage means rendering again, never wrong bytes.

Every post's RSS, Atom and JSON Feed items are kept in pack files beside the
cached entries, and feeds are assembled from them. A pack that is lost or cut
short must make the build render those posts again and still give exactly the
bytes of a clean build; packs nobody points into any more must not pile up.
"""

from __future__ import annotations

import pickle
import re
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO_ROOT, output_files

from syndicate.build.site import build
from syndicate.config import load_config
from syndicate.store.layout import CACHE_DIR, FORMAT
from syndicate.store.packs import SUFFIX, pack_size

sys.path.insert(0, str(REPO_ROOT / "bench"))
from corpus import generate  # the benchmark's synthetic blog

TODAY = date(2030, 1, 1)


def site_of(root: Path, posts: int = 40) -> Path:
    generate(root, posts)
    return root


def run(root: Path, out: Path, *, use_cache: bool = True) -> dict[str, bytes]:
    config = load_config(root / "syndicate.toml", output_dir=out)
    build(config, TODAY, lambda _message: None, use_cache=use_cache, durable=False)
    return output_files(out)


def packs(root: Path) -> dict[str, int]:
    folder = root / CACHE_DIR / f"items-v{FORMAT}"
    return {p.name: p.stat().st_size for p in sorted(folder.glob("*" + SUFFIX))}


def referenced(root: Path) -> set[str]:
    """Every pack a cached entry points into, read straight from the entry shards."""
    names: set[str] = set()
    for path in (root / CACHE_DIR / f"entries-v{FORMAT}").glob("*.pickle"):
        _salt, entries = pickle.loads(path.read_bytes())
        names.update(pack for _entry, stored in entries.values() if stored is not None for pack in stored.packs())
    return names


def test_feeds_from_stored_items_equal_a_clean_build(tmp_path: Path) -> None:
    root = site_of(tmp_path / "site")
    reference = run(root, tmp_path / "clean", use_cache=False)
    stored = packs(root)
    assert stored and all(size == pack_size(name) for name, size in stored.items())
    # outputs gone, cache kept: every feed is assembled from the packs alone
    assert run(root, tmp_path / "again") == reference
    assert b"<item>" in reference["rss.xml"] and b'"content_html"' in reference["feed.json"]


def test_a_lost_or_cut_pack_means_rendering_again(tmp_path: Path) -> None:
    root = site_of(tmp_path / "site")
    reference = run(root, tmp_path / "clean", use_cache=False)
    folder = root / CACHE_DIR / f"items-v{FORMAT}"
    names = sorted(packs(root))
    assert names, "a build with the cache stores its feed items"
    (folder / names[0]).unlink()
    if len(names) > 1:
        cut = folder / names[-1]
        cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    assert run(root, tmp_path / "after-damage") == reference
    assert all(size == pack_size(name) for name, size in packs(root).items()), "the damaged pack was not replaced"


def test_packs_of_edited_posts_do_not_pile_up(tmp_path: Path) -> None:
    root = site_of(tmp_path / "site")
    out = tmp_path / "out"
    run(root, out)
    first = packs(root)
    post = sorted((root / "posts").rglob("*.md"))[5]
    for edit in range(3):
        post.write_text(post.read_text(encoding="utf-8") + f"\nEdit number {edit}.\n", encoding="utf-8")
        latest = run(root, out)
    now = packs(root)
    assert set(now) == referenced(root), "a pack no cached post points into was kept (or one in use was removed)"
    assert len(now) <= len(first) + 3  # the edited post's newest packs (one per format), none for earlier edits
    assert re.search(rb"Edit number 2\.", latest["rss.xml"])
    assert run(root, tmp_path / "clean", use_cache=False) == latest


def test_a_second_build_of_the_same_site_waits_for_the_first(tmp_path: Path) -> None:
    """Builds share the cache (and prune its packs), so one waits while another holds the site's lock."""
    import fcntl
    import os
    import queue
    import subprocess
    import threading

    root = site_of(tmp_path / "site", posts=12)
    lock = root / CACHE_DIR / "build.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running build holds it
    lines: queue.Queue[str] = queue.Queue()
    command = [sys.executable, "-m", "syndicate", "build", "--site", str(root), "--today", "2030-01-01"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None and proc.stdout is not None
        reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True)
        reader.start()
        try:
            # held until the second build says it waits (however slowly it starts on a busy machine)
            first = lines.get(timeout=60)
            assert "waiting for another build of this site" in first
            assert proc.poll() is None, "the second build did not wait for the lock"
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        out = proc.stdout.read()
        proc.wait(timeout=60)
        reader.join(timeout=10)
    assert proc.returncode == 0, "".join(lines.queue)
    assert "built" in out and (root / "public" / "rss.xml").exists()


def test_a_site_whose_cache_cannot_be_kept_still_builds_the_same(tmp_path: Path) -> None:
    """A read-only checkout (here: `.syndicate-cache` is a file): one warning, then the same outputs."""
    import shutil
    import subprocess

    root = site_of(tmp_path / "site", posts=12)
    reference = run(root, tmp_path / "reference", use_cache=False)
    shutil.rmtree(root / CACHE_DIR)
    (root / CACHE_DIR).write_text("not a folder\n", encoding="utf-8")
    command = [sys.executable, "-m", "syndicate", "build", "--site", str(root), "--out", str(tmp_path / "out")]
    proc = subprocess.run(
        [*command, "--today", "2030-01-01"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot keep the build cache here" in proc.stderr and "building without it" in proc.stderr
    assert output_files(tmp_path / "out") == reference
    assert (root / CACHE_DIR).read_text(encoding="utf-8") == "not a folder\n"


def test_a_new_library_version_makes_a_new_salt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any installed distribution's version is in the salt: an upgraded renderer renders every post again."""
    from syndicate.store.digests import build_salt, installed_distributions

    before = build_salt(b"config", [])
    assert any(name.startswith("feedgen-") for name in installed_distributions())
    (tmp_path / "cmarkgfm-9999.1.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "cmarkgfm-9999.1.dist-info" in installed_distributions()
    assert build_salt(b"config", []) != before
    assert build_salt(b"config", []) == build_salt(b"config", [])


HEAVY = ("feedgen", "lxml", "jinja2", "nh3", "cmarkgfm", "yaml", "premailer", "multiprocessing", "babel.dates")


def test_a_build_with_nothing_to_do_imports_no_renderer(tmp_path: Path) -> None:
    """The nothing-changed answer (build/front.py) comes before the renderers and writers are imported: a
    fresh `syndicate build` with nothing to do loads none of them, and one with a changed post does."""
    import os
    import subprocess

    root = site_of(tmp_path / "site")
    for path in (root / "posts").rglob("*"):  # older than the build: no time a change could hide in
        os.utime(path, (1e9, 1e9))
    probe = (
        "import sys; from syndicate.cli.main import main; sys.argv = ['syndicate', 'build', '--site', sys.argv[1],"
        " '--today', '2030-01-01']\ntry:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )

    def loaded() -> str:
        done = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True, check=True)
        return done.stdout.splitlines()[-1]

    assert loaded() != "[]"  # the first build renders: the probe sees the renderers
    assert loaded() == "[]"
    post = sorted((root / "posts").rglob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert "nh3" in loaded()
