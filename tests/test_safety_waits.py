"""Bounded waits: one deadline over a whole download, kept by a timer whatever the server
trickles; FIFOs, devices and sockets are never opened for posts or imports; links leading
out of the posts folder are skipped with a warning."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import build_site, make_site, post_text

from syndicate.errors import FetchError
from syndicate.sources.fetch import Limits, fetch

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n"


def trickle(conn: socket.socket, data: bytes, stop: threading.Event) -> None:
    with conn:
        for i in range(len(data)):
            if stop.wait(0.05):
                return
            try:
                conn.sendall(data[i : i + 1])
            except OSError:
                return


@pytest.fixture
def trickling() -> Iterator[str]:
    """A server that sends one byte every 50 ms: /headers trickles its headers, anything else its body."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            request = conn.recv(4096)
            if request.startswith(b"GET /headers"):
                payload = HEADERS + b"<rss/>" * 100
            else:
                conn.sendall(HEADERS)
                payload = b"<rss>" + b" " * 100000
            threading.Thread(target=trickle, args=(conn, payload, stop), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


@pytest.mark.parametrize("path", ["/headers", "/body"])
def test_a_trickling_server_is_cut_off_at_the_deadline(trickling: str, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took longer than 1 s"):
        fetch(trickling + path, limits=Limits(deadline=1.0, read_timeout=5.0))
    assert time.monotonic() - started < 1.5


def test_a_fifo_named_as_a_feed_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "feed.xml"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(FetchError, match="device, FIFO or socket"):
        fetch(str(fifo))
    assert time.monotonic() - started < 1


def test_a_socket_named_as_a_feed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        with pytest.raises(FetchError, match=r"cannot read|device, FIFO or socket"):
            fetch(str(path))
    finally:
        server.close()


def test_a_fifo_or_an_outside_link_among_the_posts_never_stops_the_build(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text(post_text("My diary"), encoding="utf-8")
    config = make_site(tmp_path / "site", {"a.md": post_text("A post")})
    posts = tmp_path / "site" / "posts"
    os.mkfifo(posts / "pipe.md")
    (posts / "leak.md").symlink_to(secret)
    (posts / "inside.md").symlink_to(posts / "a.md")  # a link within the folder is fine
    warnings: list[str] = []
    started = time.monotonic()
    result = build_site(config, warnings=warnings)
    assert time.monotonic() - started < 30
    assert result.posts == 2
    assert any("leak.md" in w and "outside the posts folder" in w for w in warnings), warnings
    assert not any(b"My diary" in p.read_bytes() for p in config.output_dir.rglob("*") if p.is_file())


def test_importing_subscribers_from_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from syndicate.errors import DeliveryError
    from syndicate.subscribers import csvfile
    from syndicate.subscribers import store as subs

    fifo = tmp_path / "list.csv"
    os.mkfifo(fifo)
    conn = subs.connect(tmp_path / "s.sqlite3")
    with pytest.raises(DeliveryError, match="device, FIFO or socket"):
        csvfile.import_csv(conn, fifo, datetime(2013, 4, 1, tzinfo=UTC))


def test_ctrl_c_gives_up_on_a_silent_smtp_server_at_once(tmp_path: Path) -> None:
    """A server that takes the connection and never says a word: send waits on it, and Ctrl+C ends that wait."""
    import signal
    import subprocess
    import sys

    from test_mail import WEEK, add_people, connect, fresh_site, site_env

    site = fresh_site(tmp_path)
    add_people(connect(site), 3)
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.extend(iter(lambda: silent.accept()[0], None)), daemon=True).start()
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(silent.getsockname()[1]), "--smtp-security", "none"]
    command = [sys.executable, "-m", "syndicate", "send", "--site", str(site.path), "--week", WEEK, *smtp]
    sender = subprocess.Popen(command, env=site_env(), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert accepted, "send never connected"
        time.sleep(0.5)  # well inside its wait for the greeting
        asked = time.monotonic()
        sender.send_signal(signal.SIGINT)
        _, stderr = sender.communicate(timeout=30)
        assert time.monotonic() - asked < 5, "within about two seconds; the margin is for a loaded machine"
        assert sender.returncode != 0 and "interrupted" in stderr and "Traceback" not in stderr, stderr
    finally:
        sender.kill()
        silent.close()
        for conn in accepted:
            conn.close()
