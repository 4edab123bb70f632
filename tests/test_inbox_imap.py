"""`syndicate inbox imap://…` against a real Dovecot on loopback, started by the test with a
throwaway configuration (no system service). Debian's dovecot-imapd; .ci/run installs it."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_inbox import EXPECTED_STATUS, FIXTURES, NOW, SECRET, add_people, fixture_bytes, site, statuses

from syndicate.build.inbox import read_inbox
from syndicate.config import Config
from syndicate.delivery.imap import parse_imap_url
from syndicate.errors import DeliveryError

__all__ = ["site"]  # the fixture, shared with test_inbox.py
USER, PASSWORD = "reader", "s3cret-pass-for-tests"
DOVECOT = shutil.which("dovecot", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin")


@dataclass(frozen=True)
class Dovecot:
    port: int
    tls_port: int
    certificate: Path  # self-signed, for 127.0.0.1

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{USER}@127.0.0.1:{self.port}/{folder}"

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int, tls_port: int) -> str:
    # Dovecot's login processes refuse to run as root, and so do mail processes with uid 0: as root
    # (CI), those run as the users the package creates and mail belongs to nobody
    root_user = os.geteuid() == 0
    me, my_group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    login, internal, group = ("dovenull", "dovecot", "dovecot") if root_user else (me, me, my_group)
    uid, gid = (65534, 65534) if root_user else (os.getuid(), os.getgid())
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {group}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    if DOVECOT is None:
        if os.environ.get("CI"):
            pytest.fail("dovecot is not installed; .ci/run installs Debian's dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="syndicate-dovecot-"))  # short: Dovecot's sockets live in it
    root.chmod(0o755)
    (root / "home").mkdir()
    if os.geteuid() == 0:
        os.chown(root / "home", 65534, 65534)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    port, tls_port = _free_port(), _free_port()
    (root / "dovecot.conf").write_text(_config(root, port, tls_port), encoding="utf-8")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stderr=subprocess.PIPE)
    try:
        server = Dovecot(port, tls_port, root / "cert.pem")
        deadline = time.monotonic() + 15
        while True:
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline or process.poll() is not None:
                    log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
                    pytest.fail(f"dovecot did not start: {log[-2000:]}")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.communicate(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def fill_inbox(server: Dovecot, people: dict) -> None:  # type: ignore[type-arg]
    client = server.client()
    for fixture in sorted(FIXTURES.glob("*.eml")):
        data = fixture_bytes(fixture.name, people).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        status, _ = client.append("INBOX", None, None, data)
        assert status == "OK"
    client.logout()


def server_flags(server: Dovecot, folder: str = "INBOX") -> list[tuple[str, set[str]]]:
    """(subject, flags) of every message in the folder, as the server has them (\\Recent aside)."""
    client = server.client()
    client.select(folder, readonly=True)
    _, found = client.uid("SEARCH", "ALL")
    result: list[tuple[str, set[str]]] = []
    for uid in found[0].split():
        _, data = client.uid("FETCH", uid, "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        head, body = data[0][0].decode(), data[0][1].decode()
        flags = head.partition("FLAGS (")[2].partition(")")[0]
        result.append((body.strip().removeprefix("Subject: "), set(flags.split()) - {"\\Recent"}))
    client.logout()
    return result


def test_an_imap_folder_changes_exactly_the_right_subscribers(site: Config, dovecot: Dovecot) -> None:
    people = add_people(site)
    fill_inbox(dovecot, people)
    dry = read_inbox(site, dovecot.url(), SECRET, PASSWORD, NOW, dry_run=True)
    assert dry.handled == 10 and statuses(site) == dict.fromkeys(EXPECTED_STATUS, "subscribed")
    assert all(flags == set() for _, flags in server_flags(dovecot))  # a dry run marks nothing

    report = read_inbox(site, dovecot.url(), SECRET, PASSWORD, NOW, dry_run=False)
    assert statuses(site) == EXPECTED_STATUS
    assert (report.read, report.handled, report.ignored, len(report.unmatched)) == (16, 10, 4, 2)
    listed = server_flags(dovecot)
    assert len(listed) == 16  # nothing deleted
    flags = dict(listed)
    assert flags["Delivery Status Notification (Failure)"] == {"\\Seen", "\\Flagged"}
    assert flags["Undeliverable: Example Blog: 8 new posts, week of 15 April 2013"] == {"\\Seen", "\\Flagged"}
    assert flags["Automatic reply: Example Blog: 8 new posts, week of 15 April 2013"] == set()  # ignored
    assert flags["Re: Example Blog: 8 new posts, week of 15 April 2013"] == set()  # unmatched (and a vacation reply)
    assert sum(1 for _, f in listed if f == {"\\Seen", "\\Flagged"}) == 10

    again = read_inbox(site, dovecot.url(), SECRET, PASSWORD, NOW, dry_run=False)
    assert (again.handled, again.already, again.changes) == (0, 10, [])


def test_handled_messages_can_be_moved_to_a_folder(site: Config, dovecot: Dovecot) -> None:
    people = add_people(site)
    fill_inbox(dovecot, people)
    read_inbox(site, dovecot.url(), SECRET, PASSWORD, NOW, dry_run=False, move_to="Handled")
    assert statuses(site) == EXPECTED_STATUS
    assert len(server_flags(dovecot, "INBOX")) == 6 and len(server_flags(dovecot, "Handled")) == 10


def test_imap_errors_are_one_line(site: Config, dovecot: Dovecot) -> None:
    with pytest.raises(DeliveryError, match="refused reader"):
        read_inbox(site, dovecot.url(), SECRET, "wrong-password", NOW, dry_run=False)
    with pytest.raises(DeliveryError, match="no folder 'Nowhere'"):
        read_inbox(site, dovecot.url("Nowhere"), SECRET, PASSWORD, NOW, dry_run=False)
    with pytest.raises(DeliveryError, match="SYNDICATE_IMAP_PASSWORD is not set"):
        read_inbox(site, dovecot.url(), SECRET, "", NOW, dry_run=False)


def test_imap_urls() -> None:
    target = parse_imap_url("imaps://me%40example.org@mail.example.org/Bounces")
    assert (target.secure, target.host, target.port, target.user, target.folder) == (
        True,
        "mail.example.org",
        993,
        "me@example.org",
        "Bounces",
    )
    assert parse_imap_url("imap://me@127.0.0.1:1430").folder == "INBOX"
    for bad, why in [
        ("imap://me@mail.example.org/INBOX", "only for a server on this machine"),
        ("imaps://me:pw@mail.example.org/INBOX", "no password in the URL"),
        ("imaps://mail.example.org/INBOX", "imaps://USER@HOST/FOLDER"),
        ("imaps://me@mail.example.org:99999/", "port"),
    ]:
        with pytest.raises(DeliveryError, match=why):
            parse_imap_url(bad)


def test_imaps_checks_the_certificate(site: Config, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    people = add_people(site)
    fill_inbox(dovecot, people)
    url = f"imaps://{USER}@127.0.0.1:{dovecot.tls_port}/INBOX"
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent")  # trust nothing: a self-signed server is refused
    refused = r"cannot connect to the IMAP server 127\.0\.0\.1.*certificate verify failed"
    with pytest.raises(DeliveryError, match=refused):
        read_inbox(site, url, SECRET, PASSWORD, NOW, dry_run=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.certificate))  # as a real CA-signed certificate would be
    report = read_inbox(site, url, SECRET, PASSWORD, NOW, dry_run=False)
    assert report.handled == 10 and statuses(site) == EXPECTED_STATUS
