"""WebSub: tell each hub of [feeds] hubs which feeds the last build changed (`syndicate ping`, `build --ping`).

Every build records the URLs of the feeds whose bytes it wrote (output.py's
WriteReport.written: a feed written again with the same bytes is not among them),
tag and category feeds included, in the build cache; a build that changed nothing
records an empty list. `ping` then sends each hub one publish request naming them
all (`hub.mode=publish` and one `hub.url` per feed, as the PubSubHubbub 0.4 hubs and
their WebSub successors take it), with a bounded timeout, and says one line per hub.
Archive documents (RFC 5005) are not pinged: a hub's subscribers follow the feeds.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from syndicate import __version__
from syndicate.build.front import changed_feeds_record
from syndicate.config import Config
from syndicate.errors import BuildError, Warn
from syndicate.feeds.archives import is_archive_page
from syndicate.feeds.formats import FILE_NAMES
from syndicate.output import write_if_changed

PING_TIMEOUT = 10.0  # seconds for each hub's connection and answer
_FEED_FILES = frozenset(FILE_NAMES.values())


@dataclass(frozen=True, slots=True)
class HubAnswer:
    hub: str
    ok: bool
    line: str  # what the command prints for this hub


def changed_feed_urls(config: Config, written: Sequence[str]) -> list[str]:
    """The URLs of the subscription feeds among the paths a build wrote, in path order."""
    rels = sorted(rel for rel in written if rel.rsplit("/", 1)[-1] in _FEED_FILES and not is_archive_page(rel))
    return [config.output_url + rel for rel in rels]


def record_changed_feeds(config: Config, written: Sequence[str], warn: Warn, *, durable: bool = True) -> None:
    """Keep the feeds this build changed for `ping` (replacing the last build's list)."""
    urls = changed_feed_urls(config, written)
    path = changed_feeds_record(config.root)
    try:
        write_if_changed(path, "".join(f"{url}\n" for url in urls).encode("utf-8"), durable=durable)
    except OSError as exc:
        warn(f"{path}: cannot record the changed feeds for 'syndicate ping': {exc.strerror or exc}")


def last_changed_feeds(config: Config) -> list[str] | None:
    """The feeds the last build changed; None when no build has recorded any."""
    try:
        text = changed_feeds_record(config.root).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return [line for line in text.splitlines() if line]


def _notify(hub: str, topics: Sequence[str], timeout: float) -> HubAnswer:
    body = urlencode([("hub.mode", "publish"), *(("hub.url", topic) for topic in topics)]).encode("ascii")
    request = urllib.request.Request(  # noqa: S310 (hubs are checked to be http(s) URLs in config.py)
        hub,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": f"syndicate/{__version__}"},
    )
    feeds = "1 feed" if len(topics) == 1 else f"{len(topics)} feeds"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the answer's open connection
        return HubAnswer(hub, False, f"hub {hub}: not notified: it answered HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            reason = f"no answer within {timeout:g} s"
        elif isinstance(exc.reason, OSError) and exc.reason.strerror:
            reason = exc.reason.strerror  # "Connection refused", not "[Errno 111] Connection refused"
        else:
            reason = str(exc.reason)
        return HubAnswer(hub, False, f"hub {hub}: not notified: {reason}")
    except TimeoutError:
        return HubAnswer(hub, False, f"hub {hub}: not notified: no answer within {timeout:g} s")
    except OSError as exc:
        return HubAnswer(hub, False, f"hub {hub}: not notified: {exc.strerror or exc}")
    return HubAnswer(hub, True, f"hub {hub}: notified of {feeds} (HTTP {status})")


def ping_hubs(hubs: Sequence[str], topics: Sequence[str], timeout: float = PING_TIMEOUT) -> list[HubAnswer]:
    """One publish request to each hub naming every topic; one answer per hub, in order."""
    return [_notify(hub, topics, timeout) for hub in hubs]


def ping_last_build(config: Config, timeout: float = PING_TIMEOUT) -> tuple[list[str], list[HubAnswer]]:
    """The feeds the last build changed, and each configured hub's answer (none when nothing changed)."""
    topics = last_changed_feeds(config)
    if topics is None:
        raise BuildError("no build recorded its changed feeds yet; run 'syndicate build' first (or 'build --ping')")
    if not topics or not config.feeds.hubs:
        return topics, []
    return topics, ping_hubs(config.feeds.hubs, topics, timeout)
