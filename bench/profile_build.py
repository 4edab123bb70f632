"""Where a cold build's CPU goes, by stage, over the whole process tree (the build and its workers).

    python bench/profile_build.py --posts 10000 [--config feeds|full] [--runs 3]

Generates the benchmark corpus (bench/corpus.py; "feeds" is build_bench.py's
syndicate-feeds config, RSS + Atom and no newsletter; "full" is its syndicate
config, JSON Feed and 52 sent issues), then runs cold builds (--no-cache):
`--runs` of them timed alone, for the CPU seconds of the whole process tree
(user + system, workers included), and one under py-spy (`record
--subprocesses`, 100 samples a second per process, idle threads not sampled),
whose samples are sorted into stages (samples of a thread waiting on a lock,
pipe or queue are left out). Each stage's CPU seconds are its share of the
samples times the median CPU seconds of the timed builds. A sample
belongs to the first stage in STAGES that any frame of its stack matches, so
an import made while rendering counts as start-up, and YAML read in a
worker counts as front matter.

py-spy is no dependency of syndicate: `pip install py-spy` into the same
environment. Results: a table on stdout and bench/out/profile-<posts>-<config>.md.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from build_bench import (  # noqa: E402 (bench/ is not a package)
    OUT,
    REPO,
    WEEKS_SENT,
    _become_subreaper,
    machine_line,
    prepare_syndicate,
    record_sent_issues,
    run_measured,
    say,
    syndicate_tool,
)
from corpus import generate  # noqa: E402

TODAY = "2030-01-01"


# (stage, pattern any frame of a sample's stack may match); the first stage matched takes the sample
STAGES: list[tuple[str, str]] = [
    ("start-up: imports", r"^_find_and_load "),
    ("durable writes (syncfs, fsync)", r"^(make_durable|_syncfs) \(syndicate/durable\.py"),
    ("front matter (YAML, libyaml)", r"^(split_front_matter|parse_front_matter|load_yaml_front_matter) "),
    ("Markdown → HTML (cmark-gfm)", r"^(render_markdown|_gfm_to_html) "),
    ("sanitize (nh3)", r"^(sanitize_html|html_to_text|usable_base|_parses_as_base) "),
    ("feed items (bytes; feedgen for odd ones)", r"^(with_items|ItemStyle\.items|_fragments|json_fragments) "),
    ("newsletter issues (templates, premailer, MIME)", r"^(render_issue|_render_chunk|issue_files|start_digest) "),
    ("entry build (our Python: fields, links, ids, summary)", r"^(render_entry|read_post_bytes|render_files) "),
    (
        "feed assembly (shells, splicing, pack reads; partly in the writer threads)",
        r"^(plan_feeds|_write_feeds|PackReader\.read) |\(syndicate/feeds/documents\.py:",
    ),
    ("newsletter archive and feeds", r"^(\w+\.finish|_plan_archive|issue_entry) "),
    ("index page, OPML, subscribe pages", r"^(index_page|opml_document|plan_subscribe_pages) "),
    ("build cache and record saved", r"^(EntryCache\.save|_save_record|BuildRecord\.\w+) "),
    ("writing files", r"\(syndicate/(output|durable)\.py:\d+\)$"),
    ("scan (read and hash sources)", r"^scan_markdown "),
    ("between processes (pickling, pipes)", r"\((multiprocessing|concurrent)/"),
    ("start-up: config, CLI", r"^(load_config|<module>|main) "),
]


# Leaf frames where a thread waits (on a lock, a pipe, a queue) rather than computes. py-spy's own test for
# idle threads misses some of these; such samples are left out, as they cost no CPU.
WAITING = re.compile(
    r"^(Condition\.wait|_PollLikeSelector\.select|_worker|Connection\._recv|Connection\._send|Queue\.get|wait) "
    r"\((threading|selectors|concurrent/futures/thread|multiprocessing/connection|multiprocessing/queues)\.py"
)


def classify(raw: Path) -> tuple[Counter[str], int]:
    """py-spy's raw (collapsed-stack) output → samples per stage, and the total."""
    rules = [(stage, re.compile(pattern)) for stage, pattern in STAGES]
    stages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")[1:]  # the first names the process
        if not frames or WAITING.search(frames[-1]):
            continue
        n = int(count)
        total += n
        stage = next((s for s, rule in rules if any(rule.search(f) for f in frames)), "other")
        stages[stage] += n
    return stages, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--config", choices=("feeds", "full"), default="feeds")
    parser.add_argument("--runs", type=int, default=3, help="timed cold builds (the median CPU is used)")
    parser.add_argument("--syndicate", type=Path, default=REPO / ".venv" / "bin" / "syndicate")
    parser.add_argument("--work", type=Path, default=OUT / "profile")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(args.syndicate.parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy not found: pip install py-spy (into syndicate's environment)")
    _become_subreaper()
    say(f"machine: {machine_line()}")
    python, libraries = prepare_syndicate(args.syndicate)
    for line in libraries:
        say(line)
    shutil.rmtree(args.work, ignore_errors=True)
    corpus = generate(args.work / "corpus", args.posts)
    tool = syndicate_tool(corpus, args.work, args.syndicate, feeds_only=args.config == "feeds")
    if args.config == "full":
        record_sent_issues(python, tool.site, WEEKS_SENT)
    logs = args.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    samples = []
    for run in range(args.runs):
        shutil.rmtree(tool.output, ignore_errors=True)
        shutil.rmtree(tool.caches[0], ignore_errors=True)
        sample = run_measured(tool.command(True), tool.site, logs / f"cold-{run}.log")
        timing = f"{sample.seconds:.2f} s wall, {sample.cpu:.2f} s CPU, load {sample.load:.2f}"
        say(f"cold build {run + 1}/{args.runs}: {timing}")
        samples.append(sample)
    cpu = statistics.median(s.cpu for s in samples)
    wall = statistics.median(s.seconds for s in samples)
    shutil.rmtree(tool.output, ignore_errors=True)
    shutil.rmtree(tool.caches[0], ignore_errors=True)
    raw = args.work / "py-spy.txt"
    record = [py_spy, "record", "--subprocesses", "--rate", "100", "--format", "raw", "--output", str(raw), "--"]
    subprocess.run(record + tool.command(True), cwd=tool.site, capture_output=True, check=True)
    stages, total = classify(raw)
    rows = ["| stage | share | CPU s |", "|---|--:|--:|"]
    for stage, n in stages.most_common():
        rows.append(f"| {stage} | {100 * n / total:.1f} % | {cpu * n / total:.2f} |")
    rows.append(f"| **total** (median of {args.runs} cold builds; wall {wall:.2f} s) | 100 % | {cpu:.2f} |")
    print("\n".join(rows))
    loads = ", ".join(f"{s.load:.1f}" for s in samples)
    text = [
        f"# Cold build, {args.posts:,} posts, {args.config} config",
        "",
        f"{machine_line()}; load average before the timed builds: {loads}; {total:,} py-spy samples.",
        "",
        *rows,
    ]
    out = OUT / f"profile-{args.posts}-{args.config}.md"
    out.write_text("\n".join(text) + "\n", encoding="utf-8")
    say(f"wrote {out}")


if __name__ == "__main__":
    main()
