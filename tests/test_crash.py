"""Crash safety: `syndicate build` killed with SIGKILL at many random moments.

A site of 300 posts (bench/corpus.py) moves between two versions of its inputs, A and B
(B edits a title, a body and the tags of three posts, deletes one and adds one with a new
tag in a new week, so files change, appear and disappear). Reference outputs of A and B
come from clean `--no-cache` builds into folders of their own.

Each round starts from a complete build of one version, switches the inputs (or not),
starts `python -m syndicate build`, kills it after a random delay spread over a build's
duration, and checks that every output file is byte for byte its old or its new complete
version. Then the inputs may change once more (an author reverting an edit after the
crash), the build runs to completion, and the output must equal the clean build of the
inputs it was given: every file, byte for byte, and no stray temporary file.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO_ROOT, output_files

from syndicate.build.site import build
from syndicate.config import load_config
from syndicate.output import MANIFEST, PENDING, OutputPlan, write_plan
from syndicate.store.record import BuildRecord

sys.path.insert(0, str(REPO_ROOT / "bench"))
from corpus import generate  # the benchmark's synthetic blog

ROUNDS = 50
TODAY = "2030-01-01"
TEMPORARY = re.compile(r"^\..+\.tmp$")  # what atomic_write writes before its rename


def make_site(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The corpus, its dates drawn together into 13 weeks (so every build renders a dozen digest
    issues, not 400, and a round stays short); returns the posts of versions A and B (path → text)."""
    generate(root, 300)
    posts = sorted((root / "posts").rglob("*.md"))
    version_a: dict[str, str] = {}
    for i, path in enumerate(posts):
        when = datetime(2014, 1, 6, 8) + timedelta(hours=7 * i)
        text = re.sub(r"(?m)^date: .*$", f"date: {when:%Y-%m-%dT%H:%M:%S}+01:00", path.read_text(), count=1)
        version_a[path.relative_to(root).as_posix()] = text
    names = sorted(version_a)
    version_b = dict(version_a)
    version_b[names[10]] = re.sub(r'(?m)^title: "', 'title: "Edited: ', version_b[names[10]], count=1)
    version_b[names[20]] += "\nA paragraph added after the first build.\n"
    del version_b[names[30]]
    version_b[names[40]] = re.sub(r"(?m)^tags: \[", "tags: [crash, ", version_b[names[40]], count=1)
    version_b["posts/2014/2014-06-02-added.md"] = (
        '---\ntitle: "A post added later"\ndate: 2014-06-02T09:00:00+02:00\ntags: [Kill Test]\n---\nNew.\n'
    )
    return version_a, version_b


def use(root: Path, version: dict[str, str]) -> None:
    """Make the posts folder hold exactly `version`, touching only files that differ."""
    for path in list((root / "posts").rglob("*.md")):
        if path.relative_to(root).as_posix() not in version:
            path.unlink()
    for rel, text in version.items():
        path = root / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def clean_build(root: Path, out: Path) -> dict[str, bytes]:
    """A --no-cache build into a fresh folder: the reference every other build must equal."""
    config = load_config(root / "syndicate.toml", output_dir=out)
    build(config, date.fromisoformat(TODAY), lambda _message: None, use_cache=False, durable=False)
    return output_files(out)


def build_again(root: Path) -> None:
    """The build after a crash, run to completion (in this process: what `syndicate build` calls, minus start-up)."""
    config = load_config(root / "syndicate.toml", output_dir=root / "out")
    build(config, date.fromisoformat(TODAY), lambda _message: None, durable=False)


def start_build(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "syndicate", "build", "--site", str(root), "--out", str(root / "out"), "--today", TODAY],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes any worker process with it
    )


def kill(proc: subprocess.Popen[bytes]) -> str:
    """SIGKILL the build and every process it started; what it had written to stderr."""
    with contextlib.suppress(ProcessLookupError):  # it may have finished already
        os.killpg(proc.pid, signal.SIGKILL)
    _, stderr = proc.communicate()
    return stderr.decode("utf-8", "replace")


def complete(proc: subprocess.Popen[bytes]) -> None:
    _, stderr = proc.communicate()
    assert proc.returncode == 0, stderr.decode("utf-8", "replace")


def leftovers(name: str) -> bool:
    """What a killed build may leave and the next one clears: temporary files and its journal of paths."""
    return bool(TEMPORARY.match(name)) or name == PENDING


def temporaries(out: Path) -> list[str]:
    return [name for _, _, names in os.walk(out) for name in names if leftovers(name)]


def assert_old_or_new(out: Path, old: dict[str, bytes], new: dict[str, bytes]) -> bool:
    """Every file is complete: its old bytes or its new bytes. True when the output is a mix of both."""
    found = {rel: data for rel, data in output_files(out).items() if not leftovers(Path(rel).name)}
    for rel, data in found.items():
        versions = [ref[rel] for ref in (old, new) if rel in ref]
        assert versions, f"{rel} belongs to neither build"
        assert data in versions, f"{rel} is neither its old nor its new version ({len(data)} bytes)"
    missing = (old.keys() & new.keys()) - found.keys()
    assert not missing, f"files both builds make went missing: {sorted(missing)[:5]}"
    return found != old and found != new


@pytest.mark.slow
def test_a_killed_build_leaves_old_or_new_files_and_the_next_build_is_clean(tmp_path: Path) -> None:
    root = tmp_path / "site"
    versions = dict(zip("AB", make_site(root), strict=True))
    refs = {}
    for name, version in versions.items():
        use(root, version)
        refs[name] = clean_build(root, tmp_path / f"reference-{name}")
    assert refs["A"] != refs["B"] and refs["A"].keys() != refs["B"].keys()

    # one complete build of A, then one of B to measure how long a build with changes takes
    use(root, versions["A"])
    complete(start_build(root))
    assert output_files(root / "out") == refs["A"]
    # one build from A to B, timed: its whole duration, and when it starts to change the output
    # (the build record is deleted just before the first write); the kills are spread over that
    use(root, versions["B"])
    record = BuildRecord.open(root, "", root / "out", enabled=True).path
    assert record is not None and record.exists()
    started = time.perf_counter()
    proc = start_build(root)
    while proc.poll() is None and record.exists():
        time.sleep(0.002)
    writing = time.perf_counter() - started
    complete(proc)
    duration = time.perf_counter() - started
    assert output_files(root / "out") == refs["B"]
    # and a build that follows a killed one (no build record: everything is regenerated) back to A
    record.unlink()
    use(root, versions["A"])
    started = time.perf_counter()
    complete(start_build(root))
    duration = max(duration, time.perf_counter() - started)
    assert output_files(root / "out") == refs["A"]
    earliest = min(writing, duration) * 0.8

    rng = random.Random(20130415)
    current, mixed, changed = "A", 0, 0
    for round_ in range(ROUNDS):
        target = current if rng.random() < 0.2 else "AB".replace(current, "")  # mostly a change, sometimes not
        use(root, versions[target])
        proc = start_build(root)
        time.sleep(rng.uniform(earliest, duration))
        stderr = kill(proc)
        assert "Traceback" not in stderr, stderr
        mixed += assert_old_or_new(root / "out", refs[current], refs[target])
        changed += output_files(root / "out") != refs[current]

        after = rng.choice("AB")  # the author may change the posts again before the next build
        use(root, versions[after])
        build_again(root)
        got = output_files(root / "out")
        assert not temporaries(root / "out"), round_
        assert got.keys() == refs[after].keys(), (
            round_,
            sorted(got.keys() - refs[after].keys())[:5],
            sorted(refs[after].keys() - got.keys())[:5],
        )
        assert got == refs[after], (round_, [rel for rel in got if got[rel] != refs[after][rel]][:5])
        current = after
    print(
        f"\n{ROUNDS} kills in {earliest:.2f}-{duration:.2f} s: {changed} after a write, {mixed} left old and new files"
    )


def test_files_of_a_build_killed_before_its_manifest_are_removed_by_the_next(tmp_path: Path) -> None:
    """The deterministic case behind the random kills: a build writes a new tag's feed and dies before
    writing its manifest; the author reverts the change; the next build must still remove that feed."""
    out = tmp_path / "out"
    first = OutputPlan()
    first.add("rss.xml", b"old", "the site feed")
    write_plan(out, first, durable=False)

    killed = OutputPlan()
    killed.stream_to(out, durable=False)
    killed.add("rss.xml", b"new", "the site feed")
    killed.add("tags/new-tag/rss.xml", b"new tag", "the tag feed")  # ... and SIGKILL here, before write_plan
    assert (out / PENDING).read_text().splitlines() == ["tags/new-tag/rss.xml"]

    after = OutputPlan()
    after.stream_to(out, durable=False)
    after.add("rss.xml", b"old", "the site feed")
    report = write_plan(out, after, durable=False)
    assert report.removed == ("tags/new-tag/rss.xml",)
    assert output_files(out) == {MANIFEST: b"rss.xml\n", "rss.xml": b"old"}  # no journal, no empty folders
