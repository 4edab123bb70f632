"""Durable streamed writes: temporaries made durable in batches, then renamed; nothing half-done left behind."""

from __future__ import annotations

import os
import threading
from datetime import date
from pathlib import Path

import pytest
from conftest import make_site, output_files, post_text

from syndicate import output
from syndicate.build.site import build
from syndicate.durable import make_durable, write_temporary
from syndicate.errors import BuildError
from syndicate.output import OutputPlan, is_temporary, write_plan

TODAY = date(2030, 1, 1)


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if is_temporary(p.name)]


def test_streamed_durable_files_are_in_place_in_order_and_unchanged_ones_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "BATCH_FILES", 3)  # several batches, the last one partial
    out = tmp_path / "out"
    files = {f"tags/t{n}/rss.xml": f"<rss>{n}</rss>".encode() for n in range(8)}
    first = OutputPlan()
    first.stream_to(out, durable=True)
    for rel, data in files.items():
        first.add(rel, data, rel)
    report = write_plan(out, first, durable=True)
    assert list(report.written) == list(files)
    assert output_files(out) == {**files, ".syndicate-manifest": (out / ".syndicate-manifest").read_bytes()}
    assert not temporaries(out)

    stamp = 1_000_000_000_000_000_000
    os.utime(out / "tags/t0/rss.xml", ns=(stamp, stamp))
    second = OutputPlan()
    second.stream_to(out, durable=True)
    for rel, data in files.items():
        second.add(rel, data if rel != "tags/t5/rss.xml" else b"<rss>new</rss>", rel)
    report = write_plan(out, second, durable=True)
    assert report.written == ("tags/t5/rss.xml",) and report.unchanged == 7
    assert (out / "tags/t0/rss.xml").stat().st_mtime_ns == stamp
    assert (out / "tags/t5/rss.xml").read_bytes() == b"<rss>new</rss>"


def test_a_failed_write_leaves_its_batch_old_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "BATCH_FILES", 2)
    out = tmp_path / "out"
    old = {"a.xml": b"old a", "b.xml": b"old b", "c/x.xml": b"old c", "d.xml": b"old d"}
    write_plan(out, plan_of(old), durable=False)
    (out / "c").rename(out / "c-moved")
    (out / "c").write_bytes(b"a file where the folder was")  # c/x.xml cannot be written now
    plan = OutputPlan()
    plan.stream_to(out, durable=True)
    for rel in ("a.xml", "b.xml", "c/x.xml", "d.xml"):  # batches: [a, b] and [c/x, d]
        plan.add(rel, b"new " + rel.encode(), rel)
    with pytest.raises(OSError):
        plan.wait_for_writes()
    assert (out / "a.xml").read_bytes() == b"new a.xml" and (out / "b.xml").read_bytes() == b"new b.xml"
    assert (out / "d.xml").read_bytes() == b"old d", "a batch with a failed write renames nothing"
    assert not temporaries(out)


def plan_of(files: dict[str, bytes]) -> OutputPlan:
    plan = OutputPlan()
    for rel, data in files.items():
        plan.add(rel, data, rel)
    return plan


def test_make_durable_takes_files_in_many_folders(tmp_path: Path) -> None:
    made = [write_temporary(tmp_path / f"f{n}" / "x.xml", b"x" * n, fsync=False) for n in range(3)]
    make_durable(made)
    make_durable([])
    assert [p.read_bytes() for p in made] == [b"", b"x", b"xx"]


def test_a_durable_build_that_fails_midway_leaves_complete_files_and_no_temporary(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"a.md": post_text("A post", tags=["x"])})
    build(config, TODAY, lambda _message: None, durable=True)
    victim = config.output_dir / "tags" / "y" / "rss.xml"
    victim.parent.mkdir(parents=True)
    victim.write_text("mine")
    (tmp_path / "posts" / "b.md").write_text(post_text("B post", tags=["x", "y"]))
    with pytest.raises(BuildError, match="was not written by syndicate"):
        build(config, TODAY, lambda _message: None, durable=True)
    assert victim.read_text() == "mine"
    assert not temporaries(config.output_dir)
    # the feeds made before the refusal (the site's, then tag x's) are in place, complete
    assert b"B post" in (config.output_dir / "rss.xml").read_bytes()
    assert b"B post" in (config.output_dir / "tags" / "x" / "rss.xml").read_bytes()


def test_a_file_made_by_a_function_is_made_once_in_a_writer_thread_when_streaming(tmp_path: Path) -> None:
    made_in: list[str] = []

    def make() -> bytes:
        made_in.append(threading.current_thread().name)
        return b"<rss>made</rss>"

    plan = OutputPlan()
    plan.stream_to(tmp_path / "out", durable=True)
    plan.add("rss.xml", make, "the site feed", recipe="r1")
    plan.wait_until_made()
    assert len(made_in) == 1 and made_in[0].startswith("syndicate-write")
    write_plan(tmp_path / "out", plan, durable=True)
    assert (tmp_path / "out" / "rss.xml").read_bytes() == b"<rss>made</rss>"
    held = OutputPlan()
    held.add("rss.xml", make, "the site feed", recipe="r1")  # not streamed: made at once
    assert held.files["rss.xml"][0] == b"<rss>made</rss>" and len(made_in) == 2
