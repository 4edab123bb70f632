"""Concurrency: `syndicate.web:app` under gunicorn with several workers on one SQLite file,
taking subscribes, confirmations and unsubscribes while a real `syndicate send` runs
and a large CSV import holds the write lock. Nothing may be lost, no request may fail
with "database is locked", and whoever unsubscribed before their message was composed
must not get it.
"""

from __future__ import annotations

import csv
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import lxml.html
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from conftest import REPO_ROOT, build_site, copy_example_site
from test_mail import Recorder, SmtpServer
from test_subscribe import SECRET, link_in

from syndicate.config import load_config
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs
from syndicate.subscribers.tokens import make_token

WORKERS = 3
MEMBERS = 400  # subscribed before the send starts
NEWCOMERS = 30  # sign up through the form while it runs
LEAVERS = 40  # unsubscribe while it runs
IMPORTED = 30_000  # rows of the CSV imported at the same time
NOW = datetime(2013, 4, 29, 9, 0, tzinfo=UTC)


@dataclass
class TimedRecorder(Recorder):
    """Also notes when each recipient was given to the server (RCPT), by the monotonic clock."""

    rcpt_at: dict[str, list[float]] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self.rcpt_at.setdefault(address, []).append(time.monotonic())
        return await super().handle_RCPT(server, session, envelope, address, options)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(site: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    return {
        **clean,
        "SYNDICATE_SITE": str(site),
        "SYNDICATE_SECRET": SECRET.decode(),
        "PYTHONPATH": str(REPO_ROOT),
        "PYTHONUNBUFFERED": "1",
    }


class Http:
    def __init__(self, port: int) -> None:
        self.port = port

    def __call__(
        self, method: str, path: str, fields: list[tuple[str, str]] | None = None, client: str = ""
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if client:
            headers["X-Forwarded-For"] = client  # many readers behind one proxy
        try:
            conn.request(method, path, body=urlencode(fields).encode() if fields is not None else None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@pytest.fixture
def gunicorn_site(tmp_path: Path) -> Iterator[tuple[Path, Http, TimedRecorder, SmtpServer, Path]]:
    recorder = TimedRecorder()
    smtp = SmtpServer(recorder)
    site = copy_example_site(tmp_path / "site")
    shutil.rmtree(site.parent / "samples" / "newsletter")  # a newsletter that has not sent W16 yet
    site.write_text(
        site.read_text(encoding="utf-8") + f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n',
        encoding="utf-8",
    )
    build_site(load_config(site))
    port = free_port()
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"]
    command += ["--graceful-timeout", "5", "syndicate.web:app"]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, env=env(site), stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, log.read_text()
                time.sleep(0.1)
        yield site, Http(port), recorder, smtp, log
    finally:
        server.terminate()
        server.wait(20)
        smtp.stop()


def sign_up(http: Http, address: str, n: int) -> int:
    """GET the form, wait like a person, POST it: the status of the answer."""
    status, page = http("GET", "/subscribe", client=f"10.0.0.{n}")
    assert status == 200, page
    form = lxml.html.fromstring(page).xpath("//form")[0]
    hidden = [(i.get("name"), i.get("value") or "") for i in form.xpath(".//input[@type='hidden']")]
    time.sleep(2.2)  # the app's clock is real here: subscribe.MIN_SECONDS
    status, _ = http("POST", form.get("action"), [*hidden, ("email", address)], client=f"10.0.0.{n}")
    return status


@pytest.mark.slow
def test_signups_and_unsubscribes_during_a_send_and_an_import(
    gunicorn_site: tuple[Path, Http, TimedRecorder, SmtpServer, Path], tmp_path: Path
) -> None:
    site, http, recorder, _smtp, log = gunicorn_site
    db = site.parent / "subscribers.sqlite3"
    conn = subs.connect(db)
    members = [f"member{n:04d}@example.org" for n in range(MEMBERS)]
    for address in members:
        subs.add(conn, address, "", NOW)
    leavers = {address: subs.find(conn, address) for address in members[-LEAVERS:]}
    big = tmp_path / "big.csv"
    with big.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerows([f"imported{n:06d}@example.org", f"Imported {n}"] for n in range(IMPORTED))

    cli = [sys.executable, "-m", "syndicate"]
    sender = subprocess.Popen(
        [*cli, "send", "--week", "2013-W16", "--rate", "40", "--site", str(site)],
        env=env(site),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # the import starts once the send has planned its recipients (else it would mail the 30,000 too)
    deadline = time.monotonic() + 60
    while not sendlog.log_rows(conn, "2013-W16"):
        assert time.monotonic() < deadline and sender.poll() is None, "the send did not start"
        time.sleep(0.05)
    importer = subprocess.Popen(
        [*cli, "subscribers", "import", str(big), "--site", str(site)],
        env=env(site),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    newcomers = [f"new{n:03d}@example.org" for n in range(NEWCOMERS)]
    unsubscribed_at: dict[str, float] = {}

    def leave(address: str) -> int:
        sub = leavers[address]
        assert sub is not None
        status, _ = http("POST", f"/unsubscribe?token={make_token(SECRET, sub.id, sub.nonce)}", [])
        unsubscribed_at[address] = time.monotonic()
        return status

    with ThreadPoolExecutor(max_workers=12) as pool:
        signups = list(pool.map(sign_up, [http] * NEWCOMERS, newcomers, range(NEWCOMERS)))
        leaves = list(pool.map(leave, leavers))
    assert sender.poll() is None, "the send ended before the requests: make it longer (MEMBERS, --rate)"
    assert set(signups) == {200} and set(leaves) == {200}

    confirmations = {m["To"]: m for m in (r.message for r in recorder.received) if "Confirm" in str(m["Subject"])}
    assert set(confirmations) == set(newcomers)

    def confirm(address: str) -> int:
        return http("POST", link_in(confirmations[address], "/confirm"), [])[0]

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert set(pool.map(confirm, newcomers)) == {200}

    sender_out = sender.communicate(timeout=120)[0].decode()
    importer_out = importer.communicate(timeout=300)[0].decode()
    assert sender.returncode == 0, sender_out
    assert importer.returncode == 0 and f"{IMPORTED} added" in importer_out, importer_out

    conn = subs.connect(db)
    for address in newcomers:
        found = subs.find(conn, address)
        assert found is not None and found.status == "subscribed", address
    for address in leavers:
        found = subs.find(conn, address)
        assert found is not None and found.status == "unsubscribed", address
        # a message may be under way when the click lands, never one begun clearly after it
        late = [t for t in recorder.rcpt_at.get(address, []) if t > unsubscribed_at[address] + 0.5]
        assert late == [], f"{address} got the digest after unsubscribing"
    digests = [r for r in recorder.received if "new post" in str(r.message["Subject"])]
    counts: dict[str, int] = {}
    for message in digests:
        for rcpt in message.recipients:
            counts[rcpt] = counts.get(rcpt, 0) + 1
    assert max(counts.values()) == 1  # nobody twice
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "locked" not in text and "error answering" not in text and "unavailable" not in text, text
