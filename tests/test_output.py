"""Writing the output directory: atomic replacement, only changed bytes, stale files, refused paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import build_site, make_site, output_files, post_text

from syndicate.errors import BuildError
from syndicate.output import MANIFEST, OutputPlan, atomic_write, safe_relative, write_plan


def plan_of(files: dict[str, bytes]) -> OutputPlan:
    plan = OutputPlan()
    for rel, data in files.items():
        plan.add(rel, data, f"test {rel}")
    return plan


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "feed.xml"
    atomic_write(target, b"one", durable=False)
    atomic_write(target, b"two", durable=True)
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["feed.xml"]
    assert (target.stat().st_mode & 0o777) == 0o644


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    target.write_bytes(b"old complete feed")

    with pytest.raises(TypeError):
        atomic_write(target, "not bytes", durable=False)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old complete feed"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.xml"], "the temporary file is cleaned up"


def test_atomic_write_replaces_a_read_only_file_through_rename(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    target.write_bytes(b"old")
    target.chmod(0o444)
    atomic_write(target, b"new", durable=False)
    assert target.read_bytes() == b"new"


def test_unchanged_bytes_are_not_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write_plan(out, plan_of({"rss.xml": b"<rss/>", "tags/a/rss.xml": b"<rss>a</rss>"}), durable=False)
    assert sorted(first.written) == ["rss.xml", "tags/a/rss.xml"]
    stamp = 1_000_000_000_000_000_000
    for rel in ("rss.xml", "tags/a/rss.xml"):
        os.utime(out / rel, ns=(stamp, stamp))
    inode = (out / "rss.xml").stat().st_ino
    second = write_plan(out, plan_of({"rss.xml": b"<rss/>", "tags/a/rss.xml": b"<rss>b</rss>"}), durable=False)
    assert second.written == ("tags/a/rss.xml",)
    assert second.unchanged == 1
    assert (out / "rss.xml").stat().st_mtime_ns == stamp
    assert (out / "rss.xml").stat().st_ino == inode
    assert (out / "tags/a/rss.xml").stat().st_mtime_ns != stamp
    assert (out / "tags/a/rss.xml").read_bytes() == b"<rss>b</rss>"


def test_same_size_different_bytes_are_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_plan(out, plan_of({"f.xml": b"aaaa"}), durable=False)
    report = write_plan(out, plan_of({"f.xml": b"bbbb"}), durable=False)
    assert report.written == ("f.xml",)
    assert (out / "f.xml").read_bytes() == b"bbbb"


def test_stale_files_are_removed_user_files_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_plan(
        out,
        plan_of({"rss.xml": b"1", "tags/old/rss.xml": b"2", "tags/old/atom.xml": b"3", "tags/keep/rss.xml": b"4"}),
        durable=False,
    )
    (out / "CNAME").write_text("blog.example.org")
    (out / "tags" / "old" / "notes.txt").write_text("mine")
    (out / "tags" / "keep" / "mine.txt").write_text("mine too")
    report = write_plan(out, plan_of({"rss.xml": b"1", "tags/keep/rss.xml": b"4"}), durable=False)
    assert sorted(report.removed) == ["tags/old/atom.xml", "tags/old/rss.xml"]
    assert sorted(output_files(out)) == sorted(
        [MANIFEST, "CNAME", "rss.xml", "tags/keep/mine.txt", "tags/keep/rss.xml", "tags/old/notes.txt"]
    )
    assert (out / MANIFEST).read_text().splitlines() == ["rss.xml", "tags/keep/rss.xml"]


def test_emptied_folders_are_pruned(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_plan(out, plan_of({"rss.xml": b"1", "tags/gone/deep/rss.xml": b"2"}), durable=False)
    write_plan(out, plan_of({"rss.xml": b"1"}), durable=False)
    assert not (out / "tags").exists()
    assert out.is_dir()


def test_without_a_manifest_nothing_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("someone else's site")
    (out / "old.xml").write_text("?")
    forced = plan_of({"rss.xml": b"1"})
    forced.force = True  # a first build into a folder of foreign files only goes ahead when told to
    write_plan(out, forced, durable=False)
    assert (out / "old.xml").exists()
    assert (out / "index.html").read_text() == "someone else's site"


def test_a_tampered_manifest_cannot_delete_outside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    write_plan(out, plan_of({"rss.xml": b"1"}), durable=False)
    (out / MANIFEST).write_text(f"rss.xml\n../victim.txt\n{victim}\n")
    write_plan(out, plan_of({"rss.xml": b"1"}), durable=False)
    assert victim.read_text() == "precious"


def test_temporaries_of_a_killed_build_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_plan(out, plan_of({"rss.xml": b"1", "tags/rss.xml": b"2"}), durable=False)
    (out / "tags" / ".syndicate-tmp.rss.xml.abc123.tmp").write_bytes(b"half")
    write_plan(out, plan_of({"rss.xml": b"1"}), durable=False)
    assert not (out / "tags" / ".syndicate-tmp.rss.xml.abc123.tmp").exists()


@pytest.mark.parametrize(
    "rel",
    [
        "../x.xml",
        "tags/../../x.xml",
        "/etc/passwd",
        "tags//x.xml",
        "./x.xml",
        "tags/./x.xml",
        "a\\..\\x.xml",
        "x\x00.xml",
        "",
    ],
)
def test_paths_that_could_escape_are_refused(rel: str) -> None:
    with pytest.raises(BuildError, match="refusing to write outside the output directory"):
        safe_relative(rel)
    with pytest.raises(BuildError):
        OutputPlan().add(rel, b"x", "test")


def test_ordinary_paths_are_accepted() -> None:
    assert str(safe_relative("tags/c-plus-plus/rss.xml")) == "tags/c-plus-plus/rss.xml"
    assert str(safe_relative("..hidden-but-fine.xml")) == "..hidden-but-fine.xml"


def test_two_producers_for_one_path(tmp_path: Path) -> None:
    plan = OutputPlan()
    plan.add("tags/x/rss.xml", b"1", "the tags feed 'x'")
    with pytest.raises(BuildError) as err:
        plan.add("tags/x/rss.xml", b"2", "the tags feed 'X!'")
    assert "the tags feed 'x'" in str(err.value) and "the tags feed 'X!'" in str(err.value)
    assert "tags/x/rss.xml" in str(err.value)


def test_a_failed_build_leaves_the_previous_output(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"a.md": post_text("A", tags=["x"])})
    build_site(config)
    before = output_files(config.output_dir)
    (tmp_path / "posts" / "b.md").write_text(
        post_text("B", "2013-04-16", slug="a"), encoding="utf-8"
    )  # same slug as a.md
    with pytest.raises(BuildError):
        build_site(config)
    assert output_files(config.output_dir) == before


def test_rebuilding_unchanged_site_writes_nothing(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"a.md": post_text("A", tags=["x"])})
    first = build_site(config)
    assert first.report.written
    second = build_site(config)
    assert second.report.written == ()
    assert second.report.removed == ()
