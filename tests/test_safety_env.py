"""Failures of the machine rather than the site (a full disk, a file where a folder should be,
dates out of range) end in one line and exit 1, with nothing half-written."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, post_text, write_site

from syndicate.cli.main import environment_failure

POSTS = {"a.md": post_text("A post", body="Words. " * 400, tags=["x"])}


def syndicate(
    *args: str | Path, file_limit: int | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own; `file_limit` caps the size of any file it writes."""

    def limit() -> None:
        if file_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # then an oversized write fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    env = {**(os.environ if env is None else env), "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-c", "from syndicate.cli.main import main; main()", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=limit, timeout=120)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


def test_a_write_the_file_system_refuses_is_one_line_and_leaves_no_half_file(tmp_path: Path) -> None:
    config = write_site(tmp_path / "site", POSTS)
    out = tmp_path / "out"
    line = one_line_error(syndicate("build", "--site", config, "--out", out, "--no-cache", file_limit=2000))
    assert "too large" in line and str(tmp_path) in line
    for path in out.rglob("*"):
        assert not path.name.startswith(".syndicate-tmp."), "no temporary left behind"
        if path.is_file() and path.name != ".syndicate-manifest.pending":
            assert path.stat().st_size < 2000, f"{path} was cut off"


def test_an_output_path_through_a_file_is_one_line(tmp_path: Path) -> None:
    config = write_site(tmp_path / "site", POSTS)
    (tmp_path / "a-file").write_text("x")
    line = one_line_error(syndicate("build", "--site", config, "--out", tmp_path / "a-file" / "out"))
    assert "a-file/out: a part of the path is a file, not a folder" in line


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "permission denied"),
        (errno.EIO, "Input/output error; check the path"),
    ],
)
def test_each_failure_says_what_to_do(number: int, words: str) -> None:
    line = environment_failure(OSError(number, os.strerror(number), "/srv/feeds/rss.xml"))
    assert line.startswith("/srv/feeds/rss.xml: ") and words in line and "\n" not in line


@pytest.mark.parametrize(
    "args",
    [
        ("digest", "--week", "9999-W52"),
        ("digest", "--since", "0001-01-01", "--until", "9999-12-31"),
        ("send", "--week", "9999-W52"),
        ("send", "--since", "0001-01-01", "--until", "9999-12-31"),
    ],
)
def test_periods_out_of_range_are_one_line(
    tmp_path: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_site(tmp_path / "site", POSTS)
    monkeypatch.setenv("SYNDICATE_SECRET", "s" * 40)
    assert "range" in one_line_error(syndicate(*args, "--site", config))
