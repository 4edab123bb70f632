"""Fuzz the readers of outside input: front matter + Markdown (→ Post → Entry) and feeds (→ Posts).

A reader may only ever return posts or raise a SourceError; anything else (a warning included,
as under pytest) is a crash.
Crashes are counted (one line per distinct exception and place), their inputs saved in
bench/out/fuzz-crashes/, and the run goes on, so one run reports every kind it found.

Two engines:

- hypothesis (the default, installed with the test extras): structured documents and
  byte-level mutations of real posts and feeds, e.g.

      .venv/bin/python bench/fuzz.py --target markdown --examples 20000

- atheris (coverage-guided libFuzzer; a 35 MB wheel, so not in the test extras):

      .venv/bin/pip install -e ".[fuzz]"     # atheris
      .venv/bin/python bench/fuzz.py --engine atheris --target feed --runs 200000

Every crash found becomes a regression case in tests/test_hostile.py.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
CRASH_DIR = ROOT / "bench" / "out" / "fuzz-crashes"
TZ = ZoneInfo("America/Los_Angeles")


def markdown_seeds() -> list[bytes]:
    seeds = [p.read_bytes() for p in sorted((ROOT / "samples" / "posts").rglob("*.md"))]
    seeds += [p.read_bytes() for p in sorted((ROOT / "tests" / "data" / "markdown").rglob("*.md"))]
    seeds.append(
        b'+++\ntitle = "T"\ndate = 2013-04-15T10:00:00-07:00\ntags = ["a", "b"]\n+++\nBody with <b>HTML</b>.\n'
    )
    return seeds


def feed_seeds() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "tests" / "data" / "feeds").iterdir()) if p.is_file()]


def rst_seeds() -> list[bytes]:
    return [
        b"My title\n########\n\n:date: 2013-04-10 10:20\n:modified: 2013-04-11 18:40\n:tags: a, b\n"
        b":authors: Ann; Bob\n:summary: Short\n\nBody with *emphasis*, ``code`` and a `link <https://x.example/>`_.\n",
        b"Draft\n=====\n\n:date: 2013-04-14\n:status: draft\n\n.. note:: Not yet.\n\n.. image:: a.png\n",
        b"T\n=\n\n:date: 2013-04-14\n\n.. include:: /etc/passwd\n\n.. raw:: html\n\n   <script>x</script>\n",
    ]


def post_target(path: str) -> Callable[[], Callable[[bytes], int]]:
    """A post file's bytes (front matter and Markdown, or reStructuredText) → Post → Entry."""

    def make() -> Callable[[bytes], int]:
        from syndicate.errors import SourceError
        from syndicate.model import Author, Site
        from syndicate.render.entry import render_entry
        from syndicate.sources.markdown import read_post_bytes

        site = Site("Fuzz", "https://fuzz.example/", "d", "en", TZ, Author("A", "a@fuzz.example"))

        def run(data: bytes) -> int:
            try:
                post = read_post_bytes(data, path, TZ, "2013-04-15-fuzz")
            except SourceError:
                return 0
            if post is None:
                return 0
            if b"/etc/passwd" in data and b"root:" in post.body.encode():
                raise AssertionError("an rST include read a file from the disk")
            entry = render_entry(post, site)
            entry.published.astimezone(TZ).isoformat()
            return 1

        return run

    return make


def feed_target() -> Callable[[bytes], int]:
    from syndicate.errors import SourceError
    from syndicate.model import Author, Site
    from syndicate.render.entry import render_entry

    try:
        from syndicate.sources.feed import parse_feed_bytes
    except ImportError:
        raise SystemExit("syndicate.sources.feed.parse_feed_bytes is not there (yet): no feed target") from None
    site = Site("Fuzz", "https://fuzz.example/", "d", "en", TZ, Author("A", "a@fuzz.example"))

    def run(data: bytes) -> int:
        try:
            posts, _errors = parse_feed_bytes(data, "https://fuzz.example/feed.xml", TZ, lambda _message: None)
        except SourceError:
            return 0
        for post in posts:
            render_entry(post, site)
        return len(posts)

    return run


def wxr_seeds() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "tests" / "data" / "wxr").iterdir()) if p.is_file()]


def wxr_target() -> Callable[[bytes], int]:
    from syndicate.errors import SourceError
    from syndicate.sources.wxr import read_wxr

    def run(data: bytes) -> int:
        try:
            export = read_wxr(data, "https://fuzz.example/export.xml", TZ, lambda _message: None, pages=True)
        except SourceError:
            return 0
        return len(export.entries)

    return run


def csv_seeds() -> list[bytes]:
    return [
        b"email,name,tags\na@fuzz.example,Ann,SDN\n",
        b"email,name,tags,status,created,updated\n'=b@fuzz.example,'@Bob,'-x,subscribed,2013-04-01,2013-04-01\n",
        'email,name\n"c@fuzz.example","Zo\u00eb, ""q"""\n'.encode(),
    ]


def csv_target() -> Callable[[bytes], int]:
    import io
    import tempfile

    from syndicate.errors import SyndicateError
    from syndicate.subscribers import csvfile
    from syndicate.subscribers import store as subs

    conn = subs.connect(Path(tempfile.mkdtemp(prefix="fuzz-csv-")) / "s.sqlite3")
    now = datetime(2013, 4, 1, tzinfo=TZ)

    def run(data: bytes) -> int:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return 0  # import_csv refuses it before parsing
        try:
            report = csvfile.import_rows(conn, io.StringIO(text, newline=""), "fuzz.csv", now)
        except SyndicateError:
            return 0
        return report.added

    return run


def request_seeds() -> list[bytes]:
    return [
        b"GET /rss.xml\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\n\n",
        b"GET //tags\n\n",
        b"POST /unsubscribe?token=x\nTransfer-Encoding: chunked\n\naction=no",
        b"POST /subscribe\nContent-Type: multipart/form-data; boundary=b\n\n--b\r\n\r\nx\r\n--b--",
        b"POST /subscribe\nContent-Type: application/x-www-form-urlencoded\nX-Forwarded-For: 203.0.113.9, ::1\n"
        b"Cookie: a=b; c\n\nemail=a%40b.example&name=A&tags=x&tags=%FF&stamp=1.2.3",
        b"GET /confirm?token=abc.def&x=%00\nAccept-Encoding: gzip;q=0.5, br\n\n",
        b"POST /manage?token=abc\nContent-Type: application/x-www-form-urlencoded; charset=latin-1\n\n"
        b"action=save&tags=",
        b"POST /unsubscribe?token=a.b.c\nContent-Type: multipart/form-data; boundary=--x\n\n"
        b'----x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n----x--\r\n',
        b'GET /newsletter/\nIf-None-Match: W/"x", *\nRange: bytes=0-1\n\n',
        b"HEAD /feed.json\nIf-Modified-Since: Sun, 06 Nov 99999999999 08:49:37 GMT\n\n",
    ]


def request_target() -> Callable[[bytes], int]:
    """The WSGI app on a built example site: METHOD PATH, header lines, a blank line, the body.
    Anything but an answer (a 500 included) is a crash."""
    import io
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import build_site, copy_example_site

    from syndicate.config import load_config
    from syndicate.web.wsgi import make_app

    root = Path(tempfile.mkdtemp(prefix="fuzz-web-"))
    config = load_config(copy_example_site(root / "site"), output_dir=root / "out")
    build_site(config)
    app = make_app(config, preview=True, secret=b"fuzz-secret-0123456789abcdef")

    def run(data: bytes) -> int:
        head, _, body = data.partition(b"\n\n")
        first, *lines = head.decode("latin-1").split("\n")
        method, _, target = first.partition(" ")
        path, _, query = target.partition("?")
        environ = {
            "REQUEST_METHOD": method or "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(), "CONTENT_LENGTH": str(len(body)),
        }  # fmt: skip
        for line in lines:
            name, _, value = line.partition(":")
            key = name.strip().upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value.strip()
        status: list[int] = []
        app(environ, lambda s, _h, _e=None: status.append(int(s.split()[0])))  # type: ignore[arg-type,misc]
        if status[0] >= 500:
            raise AssertionError(f"HTTP {status[0]}: {environ['wsgi.errors'].getvalue()}")  # type: ignore[attr-defined]
        return 1

    return run


TARGETS = {
    "markdown": (post_target("posts/fuzz.md"), markdown_seeds),
    "rst": (post_target("posts/fuzz.rst"), rst_seeds),
    "feed": (feed_target, feed_seeds),
    "wxr": (wxr_target, wxr_seeds),
    "csv": (csv_target, csv_seeds),
    "request": (request_target, request_seeds),
}


# Pieces that open new paths in every reader: mutations insert them (hypothesis) or splice them (atheris's
# dictionary); the long number is past CPython's 4,300-digit limit on int().
TOKENS = [
    b"---\n", b"+++\n", b"\n", b"\r\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"&", b"*", b"!!", b"[", b"{",
    b"<!--", b"]]>", b"<![CDATA[", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"&a;", b"&#0;", b"&#xFFFE;", b"<script>",
    b"javascript:", b"date: ", b"title: ", b"tags: ", b"0001-01-01", b"9999-12-31T23:59:59-12:00", b"\xe2\x80\xae",
    b"<item>", b"</item>", b"<entry>", b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
    b"1" * 4400, b"[" * 2000, b"<b>" * 300, b"weight: ", b"email,name,tags\n", b"Transfer-Encoding: chunked\n",
]  # fmt: skip


class Tally:
    """Executions, accepted inputs and distinct crashes (by exception type and innermost frame)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.executions = 0
        self.accepted = 0
        self.crashes: Counter[str] = Counter()
        self.examples: dict[str, bytes] = {}
        self.started = time.perf_counter()

    def __call__(self, run: Callable[[bytes], int], data: bytes) -> None:
        self.executions += 1
        try:
            self.accepted += run(data) > 0
        except RecursionError:
            self.record("RecursionError", data)
        except Exception as exc:  # anything but a SourceError is what we are looking for
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            self.record(f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno} ({exc})"[:200], data)

    def record(self, key: str, data: bytes) -> None:
        if key not in self.crashes:
            self.examples[key] = data
            CRASH_DIR.mkdir(parents=True, exist_ok=True)
            name = f"{self.target}-{hashlib.sha256(data).hexdigest()[:12]}.bin"
            (CRASH_DIR / name).write_bytes(data)
            print(f"crash: {key}\n       input saved as {CRASH_DIR / name}", flush=True)
        self.crashes[key] += 1

    def report(self) -> None:
        seconds = time.perf_counter() - self.started
        crashes = sum(self.crashes.values())
        print(
            f"{self.target}: {self.executions} executions in {seconds:.1f} s "
            f"({self.executions / max(seconds, 1e-9):.0f}/s), {self.accepted} inputs accepted, "
            f"{crashes} crashes ({len(self.crashes)} distinct)",
            flush=True,
        )
        for key, count in self.crashes.most_common():
            print(f"  {count:6d} × {key}")


def run_hypothesis(target: str, examples: int, seed: int) -> Tally:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    make_run, make_seeds = TARGETS[target]
    run, seeds = make_run(), make_seeds()
    tally = Tally(target)

    def mutate(base: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
        data = bytearray(base)
        for position, cut, insert in edits:
            at = position % (len(data) + 1)
            data[at : at + cut] = insert
        return bytes(data)

    edit = st.tuples(
        st.integers(0, 1 << 16), st.integers(0, 16), st.one_of(st.sampled_from(TOKENS), st.binary(max_size=8))
    )
    mutated = st.builds(mutate, st.sampled_from(seeds), st.lists(edit, min_size=1, max_size=8))
    structured: st.SearchStrategy[bytes] = st.nothing()
    if target == "markdown":
        sys.path.insert(0, str(ROOT / "tests"))
        from test_properties import document  # the property test's generator of front matter documents

        structured = document.map(lambda text: text.encode("utf-8", "surrogatepass"))
    inputs = st.one_of(mutated, structured, st.binary(max_size=512))

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def fuzz(data: bytes) -> None:
        tally(run, data)

    fuzz()
    return tally


def run_atheris(target: str, runs: int, seconds: float) -> Tally:
    import atheris  # type: ignore[import-not-found,import-untyped,unused-ignore]

    with atheris.instrument_imports():
        make_run, make_seeds = TARGETS[target]
        run = make_run()
    corpus = CRASH_DIR.parent / f"fuzz-corpus-{target}"
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = make_seeds()
    # libFuzzer's dictionary takes pieces of up to 64 bytes: the longer ones go into the middle of a seed
    long = [
        seed[: len(seed) // 2] + token + seed[len(seed) // 2 :] for token in TOKENS if len(token) > 64 for seed in seeds
    ]
    for data in seeds + long:
        (corpus / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
    dictionary = CRASH_DIR.parent / "fuzz.dict"
    escaped = ("".join(f"\\x{byte:02x}" for byte in token) for token in TOKENS if len(token) <= 64)
    dictionary.write_text("".join(f'"{entry}"\n' for entry in escaped))
    tally = Tally(target)

    def one_input(data: bytes) -> None:
        tally(run, data)
        if tally.executions == runs or time.perf_counter() - tally.started > seconds:
            tally.report()  # libFuzzer ends the process with exit(): no atexit, so report here and stop
            sys.stdout.flush()
            os._exit(1 if tally.crashes else 0)
        if tally.executions % 100_000 == 0:
            tally.report()

    # -timeout: an input that runs 10 s is a hang, and libFuzzer saves it as a finding; -len_control=0: long
    # inputs from the start (limits such as int()'s 4,300 digits are never reached by growing slowly)
    options = [f"-runs={runs + 1}", "-max_len=65536", "-len_control=0", f"-dict={dictionary}"]
    options += ["-rss_limit_mb=4096", "-timeout=10", str(corpus)]
    atheris.Setup([sys.argv[0], *options], one_input)
    atheris.Fuzz()
    return tally  # not reached: libFuzzer exits the process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--engine", choices=["hypothesis", "atheris"], default="hypothesis")
    parser.add_argument("--examples", type=int, default=20_000, help="hypothesis: inputs per target")
    parser.add_argument("--runs", type=int, default=200_000, help="atheris: executions")
    parser.add_argument("--seconds", type=float, default=float("inf"), help="atheris: stop after this long")
    parser.add_argument("--seed", type=int, default=int(datetime.now().strftime("%Y%m%d")))
    args = parser.parse_args()
    targets = list(TARGETS) if args.target == "all" else [args.target]
    warnings.simplefilter("error")  # as under pytest: a library's warning (dateutil's, say) is a finding too
    if args.engine == "atheris":
        if len(targets) != 1:
            raise SystemExit("atheris fuzzes one target per process: pass --target markdown or --target feed")
        run_atheris(targets[0], args.runs, args.seconds)
        return
    found = 0
    for target in targets:
        tally = run_hypothesis(target, args.examples, args.seed)
        tally.report()
        found += len(tally.crashes)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
