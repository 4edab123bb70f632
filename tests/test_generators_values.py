"""Every value front matter can hold survives the worker processes (issue 16: `version: 3.0`
became a SourceFloat that could not be pickled, and the build died with BrokenProcessPool)."""

from __future__ import annotations

import pickle
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import build_site, make_site
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicate.build.render_posts import LoadedEntry
from syndicate.build.render_posts import render_files as _render_files
from syndicate.build.workers import WorkerPool
from syndicate.errors import SourceError
from syndicate.sources.markdown import PostPlace, read_post_bytes

# every YAML type the safe loader builds, written as bloggers write them
YAML_VALUES = """\
version: 3.0
precise: 1.10
count: 42
big: 123456789012345678901234567890
negative: -7
flag: true
nothing: null
tilde: ~
day: 2013-04-15
moment: 2013-04-15 10:00:00
aware: 2001-12-14t21:59:43.10-05:00
text: plain words
quoted: "10:00"
folded: >
  two lines
  made one
listed: [1, two, 3.5, false]
nested: {a: {b: [1, {c: d}]}}
set: !!set {b, a}
binary: !!binary aGVsbG8=
omap: !!omap [{one: 1}, {two: 2}]
pairs: !!pairs [{k: 1}, {k: 2}]
anchor: &shared {x: 1}
alias: *shared
not_a_number: .nan
infinite: .inf
"""

TOML_VALUES = """\
version = 3.0
count = 42
huge = 9223372036854775807
flag = false
inf = inf
nan = nan
exponent = 6.02e23
offset = 1979-05-27T07:32:00-08:00
local = 1979-05-27T07:32:00
day = 1979-05-27
time = 07:32:00
listed = [1, "two", 3.5]
inline = { a = 1, b = { c = [true] } }
[[tables]]
name = "first"
[[tables]]
name = "second"
"""


def yaml_post(n: int) -> str:
    return f"---\ntitle: YAML {n}\ndate: 2013-04-{n % 28 + 1:02d} 10:{n % 60:02d}:00\n{YAML_VALUES}---\nText {n}.\n"


def toml_post(n: int) -> str:
    return f"+++\ntitle = 'TOML {n}'\ndate = 2013-04-{n % 28 + 1:02d}T11:{n % 60:02d}:00\n{TOML_VALUES}+++\nText {n}.\n"


def test_every_yaml_and_toml_value_pickles_back_the_same() -> None:
    for text in (yaml_post(1), toml_post(1)):
        post = read_post_bytes(text.encode("utf-8"), "posts/x.md", build_tz(), "x")
        assert post is not None
        back = pickle.loads(pickle.dumps(post))
        assert repr(back.extra) == repr(post.extra)
        assert str(back.extra["version"]) == "3.0"


def test_every_yaml_and_toml_value_survives_the_worker_processes(tmp_path: Path) -> None:
    """Posts rendered in real worker processes come back whole (no quiet fall-back to this process)."""
    config = make_site(tmp_path, {})
    jobs = [
        (f"key{n}", f"posts/p{n}.md", text.encode("utf-8"), PostPlace(f"p{n}"))
        for n, text in enumerate([yaml_post(1), toml_post(2)])
    ]
    with WorkerPool() as workers:
        pool = workers.get()
        assert pool is not None, "this machine cannot start worker processes; the test would prove nothing"
        (results,) = list(pool.map(_render_files, [jobs], [config.site], [None]))
    assert all(isinstance(r, LoadedEntry) for r in results), results
    for result in results:
        assert isinstance(result, LoadedEntry)
        extra = result.entry.post.extra
        assert str(extra["version"]) == "3.0"
        assert extra["listed"][:2] == (1, "two")


def test_a_site_of_such_posts_builds(tmp_path: Path) -> None:
    posts = {f"y{n}.md": yaml_post(n) for n in range(20)} | {f"t{n}.md": toml_post(n) for n in range(20)}
    result = build_site(make_site(tmp_path, posts))
    assert result.errors == () and result.posts == 40


def build_tz() -> ZoneInfo:
    return ZoneInfo("UTC")


# ---------------------------------------------------------------- any input: a post, nothing, or one clear line

SUFFIXES = (".md", ".html", ".rst")
header_line = st.one_of(
    st.sampled_from(["Title: T", "Date: 2013-04-15", "Tags: a; b, c", ":date: 03/04/2013", ":authors: A; B"]),
    st.sampled_from(["date: 2023-01-29 18:30:22 2023 -0800", "date: Last Modified", "date: 13/04/2026", "{", "}"]),
    st.text(max_size=40),
)
loose_document = st.builds(
    lambda lines, body: "\n".join([*lines, "", body]), st.lists(header_line, max_size=8), st.text(max_size=120)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loose_document, st.sampled_from(SUFFIXES), st.sampled_from(["", "en", "en-US", "de", "ja"]))
@example("Title\n#####\n\n:date: 2013-04-15\n\n.. include:: /etc/passwd\n", ".rst", "en")
@example('{"title": "T", "date": "2013-04-15"}\nBody', ".md", "")
@example("\n\n---\ntitle: T\ndate: 2013-04-15\n---\n", ".html", "")
def test_any_file_of_any_generator_gives_a_post_nothing_or_one_clear_line(text: str, suffix: str, lang: str) -> None:
    try:
        post = read_post_bytes(
            text.encode("utf-8", "surrogatepass"), f"posts/x{suffix}", build_tz(), "x", language=lang
        )
    except SourceError as exc:
        assert exc.path == f"posts/x{suffix}"
        assert "\n" not in str(exc) and "Traceback" not in str(exc)
        return
    if post is not None:
        assert post.title and post.published.tzinfo is not None
        assert "root:" not in post.body
