"""Real failures of the machine, not simulated ones: a full disk and a read-only output folder
in `build`, a full and a locked database in `send`. Each is one line and exit 1, leaves nothing
half-written (every output is its old or its new complete self, no temporary is left), and the
next run after the cause is gone succeeds.

The disk is a small tmpfs mounted for the test: root can write through chmod, so only a real
file system can refuse. Skipped where mounting is not allowed (not root, or in a container without
CAP_SYS_ADMIN), with the reason.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import output_files, post_text, write_site
from test_mail import SmtpServer, add_people, fresh_site, recorder, site_env, smtp_server
from test_safety_env import one_line_error, syndicate

from syndicate.subscribers import store as subs

__all__ = ["recorder", "smtp_server"]  # test_mail's fixtures, used here

TODAY = "2013-05-01"


class Mount:
    """A tmpfs of `size` at `where`, unmounted (lazily, if still busy) however the test ends."""

    def __init__(self, where: Path, size: str) -> None:
        self.where = where
        where.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            pytest.skip("needs root to mount a small tmpfs (chmod does not stop root, so only a real mount can)")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.decode().strip()}")

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.where)], check=True, capture_output=True)

    def unmount(self) -> None:
        if subprocess.run(["umount", str(self.where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(self.where)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Mount]:
    """512 KB, or the size a test names with @pytest.mark.parametrize("small_disk", [size], indirect=True)."""
    mount = Mount(tmp_path / "disk", getattr(request, "param", "512k"))
    try:
        yield mount
    finally:
        mount.unmount()


def posts(count: int) -> dict[str, str]:
    return {
        f"p{n:03d}.md": post_text(f"Post {n}", f"2013-04-{1 + n % 28:02d} 10:00:00", body=f"Words {n}. " * 1500)
        for n in range(count)
    }


def no_temporaries(folder: Path) -> None:
    left = [p for p in folder.rglob("*") if p.name.startswith(".syndicate-tmp.")]
    assert not left, f"temporaries left behind: {left}"


def assert_old_or_new(out: Path, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    """Every published file is whole: the bytes of the last good build, or of the one that failed."""
    for rel, data in output_files(out).items():
        if rel.startswith(".syndicate-manifest"):
            continue
        assert data in (old.get(rel), new.get(rel)), f"{rel} is half-written"


def reference(tmp_path: Path, count: int) -> dict[str, bytes]:
    """What a build of `count` posts writes, built on a disk with room."""
    config = write_site(tmp_path / f"reference-{count}", posts(count))
    done = syndicate("build", "--site", config, "--today", TODAY, "--no-cache")
    assert done.returncode == 0, done.stderr
    return published(config.parent / "public")


def published(out: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in output_files(out).items() if not rel.startswith(".syndicate-manifest")}


def test_a_full_disk_in_build_is_one_line_and_the_build_after_it_succeeds(tmp_path: Path, small_disk: Mount) -> None:
    out = small_disk.where / "out"
    config = write_site(tmp_path / "site", posts(3), output={"dir": str(out)})
    assert syndicate("build", "--site", config, "--today", TODAY).returncode == 0
    old, new = output_files(out), reference(tmp_path, 60)
    write_site(tmp_path / "site", posts(60), output={"dir": str(out)})  # twice what the disk holds

    line = one_line_error(syndicate("build", "--site", config, "--today", TODAY))
    assert "the disk is full; free some space" in line and str(out) in line
    assert_old_or_new(out, old, new)
    no_temporaries(small_disk.where)

    small_disk.remount("size=16m")  # space freed
    assert syndicate("build", "--site", config, "--today", TODAY).returncode == 0
    assert published(out) == new
    no_temporaries(small_disk.where)


@pytest.mark.parametrize("small_disk", ["2m"], indirect=True)
def test_a_site_on_a_full_disk_is_one_line_and_builds_once_there_is_room(tmp_path: Path, small_disk: Mount) -> None:
    """The build cache fills the disk too: its half-written files must not poison the next build."""
    site = small_disk.where / "site"
    config = write_site(site, posts(3))
    assert syndicate("build", "--site", config, "--today", TODAY).returncode == 0
    old, new = output_files(site / "public"), reference(tmp_path, 30)
    write_site(site, posts(30))
    filler = small_disk.where / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as handle:  # the disk is full when it stops
        while True:
            handle.write(b"\0" * 65536)

    line = one_line_error(syndicate("build", "--site", config, "--today", TODAY))
    assert "the disk is full" in line
    assert_old_or_new(site / "public", old, new)
    no_temporaries(small_disk.where)

    filler.unlink()
    small_disk.remount("size=16m")
    assert syndicate("build", "--site", config, "--today", TODAY).returncode == 0
    assert published(site / "public") == new


@pytest.mark.parametrize("small_disk", ["8m"], indirect=True)  # room to spare: this one is about read-only
def test_a_read_only_output_is_one_line_and_changes_nothing(tmp_path: Path, small_disk: Mount) -> None:
    out = small_disk.where / "out"
    config = write_site(tmp_path / "site", posts(3), output={"dir": str(out)})
    assert syndicate("build", "--site", config, "--today", TODAY).returncode == 0
    before = output_files(out)
    write_site(tmp_path / "site", posts(4), output={"dir": str(out)})
    small_disk.remount("ro")

    line = one_line_error(syndicate("build", "--site", config, "--today", TODAY))
    assert "read-only" in line and str(out) in line
    assert output_files(out) == before

    small_disk.remount("rw")
    assert syndicate("build", "--site", config, "--today", TODAY).returncode == 0
    assert published(out) == reference(tmp_path, 4)


WEEK = "2013-W16"


def send(config: Path, server: SmtpServer, *extra: str) -> subprocess.CompletedProcess[str]:
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(server.port), "--smtp-security", "none"]
    env = site_env()
    command = ["send", "--site", str(config), "--week", WEEK, "--today", "2013-04-30", *smtp, *extra]
    return syndicate(*command, env=env)


def test_a_full_database_in_send_is_one_line_and_the_send_after_it_succeeds(
    tmp_path: Path, small_disk: Mount, smtp_server: SmtpServer
) -> None:
    config = fresh_site(tmp_path)
    database = small_disk.where / "subscribers.sqlite3"
    config.path.write_text(f'database = "{database}"\n' + config.path.read_text())
    emails = add_people(subs.connect(database), 3)
    filler = small_disk.where / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as handle:
        while True:
            handle.write(b"\0" * 4096)

    line = one_line_error(send(config.path, smtp_server))
    assert "database" in line and "full" in line, line
    no_temporaries(small_disk.where)

    filler.unlink()
    done = send(config.path, smtp_server)
    assert done.returncode == 0, done.stderr
    received = smtp_server.handler.count()  # type: ignore[attr-defined]
    assert {address: received[address] for address in emails} == dict.fromkeys(emails, 1), "each exactly once"


def test_a_locked_database_in_send_is_one_line(tmp_path: Path, smtp_server: SmtpServer) -> None:
    config = fresh_site(tmp_path)
    assert config.database is not None
    add_people(subs.connect(config.database), 2)
    holder = sqlite3.connect(config.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process's long write, as an import would hold it
    try:
        started = time.monotonic()
        line = one_line_error(send(config.path, smtp_server))
        assert "in use by another process; try again" in line
        assert time.monotonic() - started < 60
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert send(config.path, smtp_server).returncode == 0
