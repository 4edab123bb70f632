"""Build speed at 1,000, 10,000 and 30,000 posts: syndicate against Pelican and Hugo on the same corpus.

For each corpus size (bench/corpus.py: ~1,000 words a post, Zipf tags ≈ N/20, six
categories) and each tool, every run measures:

  cold         output and tool cache deleted, then a full build (syndicate: --no-cache)
  nothing      the same build again, nothing changed
  one changed  one post's body edited (a different, recent post each run), build again

each as wall-clock seconds of the command (interpreter start-up included), the CPU
seconds (user + system) of its whole process tree, and the peak memory: the highest
total RSS of the tool's process tree, sampled every 20 ms, or the kernel's ru_maxrss
when that is higher. Each figure is the median of the runs; "peak MB" is the highest
median over the three builds. syndicate's worker processes are children of a fork
server that may exit before them: this script adopts such orphans (Linux's child
subreaper) so that their CPU time is counted.

The machine is shared and its speed varies: the script prints the CPU model, the
load average and every tool's version (syndicate's Markdown, sanitizer, feed and
YAML libraries too), warns before any build that starts with a one-minute load
average above 0.5, and notes each tool's highest load in the table. Compare ratios
within one run, and CPU seconds rather than wall seconds when the load was high.
syndicate's modules are compiled to bytecode before anything is timed, as an
installed package's are (with PYTHONDONTWRITEBYTECODE set, as in this project's
shells, every run would otherwise compile them again in each process).

syndicate's outputs are also checked: the cached rebuilds must give byte-identical
files (every file hashed) to a cold build of the same posts, also after a build
killed half-way (SIGKILL) and then rerun with its cache.

The peers get equivalent feed settings, and nothing but feeds (bench/peers/):
RSS + Atom for the site and every tag and category, full content, 100 items.
"syndicate" is the full config: JSON Feed too, an index page and OPML, and one
year of sent newsletter issues (52 records written by bench/sent_issues.py before
anything is timed, as `syndicate send` would have; the build publishes each one's
web page, text and .eml). "syndicate-feeds" is syndicate asked for the peers' work
(RSS + Atom, no newsletter; it still writes its index page and OPML), for a
like-for-like comparison. Only the full "syndicate" run gets the byte-identical
checks. The notes give issue 17's targets: like-for-like cold ≥ 5× faster than
Hugo and ≥ 20× faster than Pelican at 10,000 posts, ≤ 0.35× Hugo at 1,000; the
full config ≤ 1.3× the like-for-like time; nothing changed ≤ 0.3 s, one post
changed ≤ 0.6 s and peak memory ≤ 300 MB at 10,000.
Pelican comes from PyPI into bench/out/pelican-venv; Hugo from Debian (apt-get).
A peer that cannot be installed is reported and skipped.

    .venv/bin/python bench/build_bench.py --posts 1000 10000 30000 --runs 3
    .venv/bin/python bench/build_bench.py --posts 1000 --runs 1 --tools syndicate

"Cold" means no tool cache; the operating system's file cache stays warm.
Outputs and caches are moved aside (one rename) rather than deleted between
runs, and deleted when the benchmark ends: on ext4 without a journal (this
machine's root file system) creating a file in the minutes after thousands
were deleted costs up to a millisecond, as the kernel steps over each recently
freed inode, so deleting between runs would time the last run's clean-up.
Where a build's CPU goes, stage by stage: bench/profile_build.py.
Results: a table on stdout and bench/out/results.md (bench/out/ is git-ignored).
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
PEERS = BENCH / "peers"
sys.path.insert(0, str(BENCH))

from corpus import generate  # noqa: E402 (bench/ is not a package)

TODAY = "2030-01-01"  # after every corpus date, so every post is published
TOOLS = ("syndicate", "syndicate-feeds", "pelican", "hugo")  # syndicate-feeds: the peers' settings
SCENARIOS = ("cold", "nothing", "one")
# Issue 17's targets for the full config ("syndicate") at 10,000 posts: seconds and MB.
TARGETS = {10_000: {"nothing": 0.3, "one": 0.6, "peak": 300.0}}
# ... and as ratios of cold builds (the machine's speed varies between runs; ratios within one run do not):
# (posts, numerator tool, denominator tool, highest allowed ratio)
RATIO_TARGETS = (
    (10_000, "syndicate-feeds", "hugo", 1 / 5),  # like-for-like at least 5× faster than Hugo
    (10_000, "syndicate-feeds", "pelican", 1 / 20),  # ... and 20× faster than Pelican
    (1_000, "syndicate-feeds", "hugo", 0.35),
    (10_000, "syndicate", "syndicate-feeds", 1.3),  # the full config (52 sent issues, JSON Feed) costs ≤ 30 % more
)
QUIET_LOAD = 0.5  # a one-minute load average above this before a build: warned about, the timings are noisy
WEEKS_SENT = 52  # the full config's sent issues: one year of the weekly newsletter (bench/sent_issues.py)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- running one command and measuring it --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    seconds: float
    peak_mb: float
    returncode: int
    output: str
    cpu: float = 0.0  # user + system seconds of the whole process tree
    load: float = 0.0  # the one-minute load average when the build started


def _tree_rss_kb(root: int) -> int:
    """Total resident memory of a process and all its descendants, in KB (0 when it is gone)."""
    total = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", "rb") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
            continue
    return total


def run_measured(
    command: Sequence[str], cwd: Path, log: Path, env: dict[str, str] | None = None, kill_after: float | None = None
) -> Sample:
    """Run a command to its end (or SIGKILL it after kill_after seconds); wall time and peak memory."""
    _reap_orphans()  # what earlier commands left (sent_issues.py's workers): not this command's CPU
    load = os.getloadavg()[0]
    if load > QUIET_LOAD:
        say(f"warning: load average {load:.2f} > {QUIET_LOAD} before this run: wall times will be noisy")
    with open(log, "wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        peak_kb = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_kb
            while not done.is_set():
                peak_kb = max(peak_kb, _tree_rss_kb(process.pid))
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        killer: threading.Timer | None = None
        if kill_after is not None:
            killer = threading.Timer(kill_after, lambda: os.killpg(process.pid, signal.SIGKILL))
            killer.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
        if killer is not None:
            killer.cancel()
        done.set()
        sampler.join()
    cpu = usage.ru_utime + usage.ru_stime + _reap_orphans()
    peak_kb = max(peak_kb, usage.ru_maxrss)  # Linux: KB; the largest single process of the tree
    output = log.read_text(encoding="utf-8", errors="replace")
    return Sample(seconds, peak_kb / 1024, process.returncode, output, cpu, load)


def _become_subreaper() -> bool:
    """Have orphaned descendants (worker processes whose parent, a forkserver, exited first) become
    this process's children, so that their CPU time is counted when they are reaped (Linux)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap_orphans(patience: float = 5.0) -> float:
    """Reap the descendants left to us after a command ended; their CPU seconds."""
    cpu = 0.0
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            pid, _status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break  # none left
        if pid == 0:
            time.sleep(0.01)  # one still exiting
            continue
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


# --- the tools -----------------------------------------------------------------------------------------


class Trash:
    """Folders moved aside (a rename: no inode is freed while builds are timed), deleted at the end.

    Outputs of 10,000 posts take about a gigabyte each, so when the disk runs low the
    trash is emptied at once and the log says that the next cold build pays for it.
    """

    LOW_DISK = 8 << 30  # bytes free below which folders are deleted rather than kept

    def __init__(self, root: Path) -> None:
        self.root = root

    def discard(self, folder: Path) -> None:
        if not folder.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(self.root).free < self.LOW_DISK:
            say(f"low on disk: deleting {folder} and the trash now; the next cold build pays for the clean-up")
            self.empty()
            shutil.rmtree(folder, ignore_errors=True)
            return
        holder = Path(tempfile.mkdtemp(dir=self.root))  # its own folder: no name left by a killed run can clash
        try:
            folder.rename(holder / folder.name)
        except OSError:  # another file system (a mount inside --work): delete it here
            shutil.rmtree(folder, ignore_errors=True)

    def empty(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


TRASH = Trash(OUT / "work" / ".trash")  # main() puts it under --work: a rename cannot cross file systems


@dataclass
class Tool:
    """One tool on one copy of the corpus: how to reset it, build it and where its posts are."""

    name: str
    site: Path  # the folder the tool runs in
    posts: Path  # the folder holding posts/YEAR/*.md (same relative paths for every tool)
    output: Path
    caches: tuple[Path, ...]
    command: Callable[[bool], list[str]]  # cold? → argv
    env: dict[str, str] | None = None

    def reset(self) -> None:
        for folder in (self.output, *self.caches):
            TRASH.discard(folder)


FEEDS_ONLY = "\n[digest]\nenabled = false\n"  # with formats = ["rss", "atom"]: what the peers are asked to build


def syndicate_tool(corpus: Path, work: Path, executable: Path, feeds_only: bool = False) -> Tool:
    """syndicate with the corpus's config; feeds_only: the peers' work (RSS + Atom, no newsletter)."""
    name = "syndicate-feeds" if feeds_only else "syndicate"
    site = work / name
    shutil.copytree(corpus, site)
    if feeds_only:
        config = site / "syndicate.toml"
        text = config.read_text(encoding="utf-8")
        edited = text.replace('formats = ["rss", "atom", "json"]', 'formats = ["rss", "atom"]')
        if edited == text:
            raise SystemExit("bench/corpus.py's config no longer lists the formats this script expects")
        config.write_text(edited + FEEDS_ONLY, encoding="utf-8")
    base = [str(executable), "build", "--today", TODAY]
    return Tool(
        name,
        site,
        site / "posts",
        site / "public",
        (site / ".syndicate-cache",),
        lambda cold: base + (["--no-cache"] if cold else []),
    )


FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def to_pelican(text: str) -> str:
    """The corpus's YAML front matter as Pelican's Markdown metadata (Key: value lines)."""
    match = FRONT.match(text)
    if match is None:
        raise ValueError("a corpus post without front matter")
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(": ")
        meta[key] = value.strip()
    title = meta["title"].strip('"')
    tags = meta["tags"].strip("[]")
    category = meta["categories"].strip("[]").split(", ")[0]
    head = f"Title: {title}\nDate: {meta['date']}\nTags: {tags}\nCategory: {category}\n"
    return head + "\n" + text[match.end() :]


def pelican_tool(corpus: Path, work: Path, venv: Path) -> Tool:
    site = work / "pelican"
    posts = site / "content" / "posts"
    for source in sorted((corpus / "posts").rglob("*.md")):
        target = posts / source.relative_to(corpus / "posts")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_pelican(source.read_text(encoding="utf-8")), encoding="utf-8")
    shutil.copy(PEERS / "pelican" / "pelicanconf.py", site / "pelicanconf.py")
    base = [str(venv / "bin" / "pelican"), "content", "-s", "pelicanconf.py", "-o", "output", "-q"]
    return Tool(
        "pelican",
        site,
        posts,
        site / "output",
        (site / "cache",),
        lambda cold: base + (["--ignore-cache"] if cold else []),
    )


def hugo_tool(corpus: Path, work: Path, executable: str) -> Tool:
    site = work / "hugo"
    shutil.copytree(PEERS / "hugo", site)
    shutil.copytree(corpus / "posts", site / "content" / "posts")
    cache = site / ".hugo-cache"
    base = [executable, "--quiet", "--cacheDir", str(cache), "--destination", "public"]
    return Tool(
        "hugo",
        site,
        site / "content" / "posts",
        site / "public",
        (cache, site / "resources"),
        lambda cold: base + (["--ignoreCache"] if cold else []),
    )


def ensure_pelican(install: bool) -> Path | None:
    venv = OUT / "pelican-venv"
    if (venv / "bin" / "pelican").exists():
        return venv
    if not install:
        say("pelican: not installed and --no-install given; skipped")
        return None
    say(f"pelican: installing from PyPI into {venv} (pip install pelican markdown)")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "pelican", "markdown"],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        why = (exc.stderr or "").strip()[-300:]
        say(f"pelican: cannot install ({exc.cmd[0]} exited {exc.returncode}: {why}); skipped")
        return None
    return venv


def ensure_hugo(install: bool) -> str | None:
    found = shutil.which("hugo")
    if found:
        return found
    if not install:
        say("hugo: not installed and --no-install given; skipped")
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        say("hugo: not installed, and apt-get is missing or we are not root; skipped (apt-get install hugo)")
        return None
    policy = subprocess.run(["apt-cache", "policy", "hugo"], capture_output=True, text=True).stdout
    if "Candidate:" not in policy or "Candidate: (none)" in policy:
        say("hugo: no Debian package candidate (apt-cache policy hugo); skipped")
        return None
    say("hugo: installing from Debian (apt-get install -y hugo)")
    result = subprocess.run(["apt-get", "install", "-y", "hugo"], capture_output=True, text=True)
    if result.returncode != 0 or shutil.which("hugo") is None:
        say(f"hugo: apt-get install failed: {result.stderr.strip()[-300:]}; skipped")
        return None
    return shutil.which("hugo")


def version_of(command: Sequence[str]) -> str:
    try:
        result = subprocess.run(list(command), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"


def machine_line() -> str:
    """The CPU model, cores, Python and load average: timings are comparable only on one machine."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    loads = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average {loads}"


LIBRARIES = ("cmarkgfm", "nh3", "feedgen", "lxml", "PyYAML", "premailer")


def prepare_syndicate(executable: Path) -> tuple[Path, list[str]]:
    """The interpreter syndicate runs in, with its modules compiled to bytecode, and its libraries' versions.

    An installed package comes with bytecode; a checkout run where PYTHONDONTWRITEBYTECODE is
    set (as in this project's shells) would compile every module from source on every run, in
    each worker process too: about a third of a 1,000-post build's CPU time.
    """
    python = executable.parent / "python"
    python = python if python.exists() else Path(sys.executable)
    code = (
        "import compileall, os, syndicate\n"
        "from importlib.metadata import version\n"
        "compileall.compile_dir(os.path.dirname(syndicate.__file__), quiet=1)\n"
        f"print(', '.join(f'{{n}} {{version(n)}}' for n in {LIBRARIES!r}))"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        say(f"syndicate: could not compile its modules ({result.stderr.strip()[-200:]}); timings include compiling")
        return python, []
    return python, [f"syndicate's libraries: {result.stdout.strip()}"]


def record_sent_issues(python: Path, site: Path, weeks: int) -> None:
    """The full config's year of sent issues (bench/sent_issues.py), written before anything is timed."""
    command = [str(python), str(BENCH / "sent_issues.py"), str(site), "--weeks", str(weeks)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench/sent_issues.py failed: {result.stderr.strip()[-500:]}")
    say(result.stdout.strip())


# --- edits and output checks ---------------------------------------------------------------------------


def edit_one(tool: Tool, run: int) -> str:
    """Append a sentence to one recent post's body: the newest post in run 0, then every seventh one back."""
    posts = sorted(tool.posts.rglob("*.md"))  # posts/YEAR/YYYY-MM-DD-post-N.md: oldest first
    target = posts[-1 - (7 * run) % len(posts)]
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"\nEdited for benchmark run {run + 1}: the cluster upgrade finished without a failover.\n")
    return str(target.relative_to(tool.posts))


def tree_hashes(root: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            hashes[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def compare(label: str, cold: dict[str, str], cached: dict[str, str]) -> list[str]:
    """One line per kind of difference between a cold tree and a cached one (empty: identical)."""
    if cold == cached:
        return []
    missing = sorted(set(cold) - set(cached))
    extra = sorted(set(cached) - set(cold))
    differ = sorted(rel for rel in set(cold) & set(cached) if cold[rel] != cached[rel])
    problems = []
    for what, paths in (("missing from", missing), ("only in", extra), ("different in", differ)):
        if paths:
            shown = ", ".join(paths[:4]) + (" …" if len(paths) > 4 else "")
            problems.append(f"{label}: {len(paths)} files {what} the cached build: {shown}")
    return problems


# --- one tool at one size ------------------------------------------------------------------------------


@dataclass
class Result:
    tool: str
    posts: int
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {s: [] for s in SCENARIOS})
    files: int = 0
    problems: list[str] = field(default_factory=list)  # outputs that differ
    notes: list[str] = field(default_factory=list)

    def seconds(self, scenario: str) -> float:
        return statistics.median(s.seconds for s in self.samples[scenario])

    def cpu(self, scenario: str) -> float:
        return statistics.median(s.cpu for s in self.samples[scenario])

    def load(self) -> float:
        """The highest load average seen before any of its builds."""
        return max(s.load for samples in self.samples.values() for s in samples)

    def peak_mb(self) -> float:
        return max(statistics.median(s.peak_mb for s in self.samples[scenario]) for scenario in SCENARIOS)


def build(tool: Tool, cold: bool, log: Path, kill_after: float | None = None) -> Sample:
    if cold:
        tool.reset()
    sample = run_measured(tool.command(cold), tool.site, log, tool.env, kill_after)
    if sample.returncode != 0 and kill_after is None:
        tail = "\n".join(sample.output.strip().splitlines()[-5:])
        raise RuntimeError(f"{tool.name} exited {sample.returncode} (log {log}):\n{tail}")
    return sample


def measure(tool: Tool, count: int, runs: int, logs: Path, crash_at: float) -> Result:
    result = Result(tool.name, count)
    check = tool.name == "syndicate"
    previous_one: dict[str, str] | None = None
    for run in range(runs):
        tag = f"{tool.name} {count:,} run {run + 1}/{runs}"
        cold = build(tool, True, logs / f"{tool.name}-{count}-r{run}-cold.log")
        result.samples["cold"].append(cold)
        say(f"{tag}: cold {cold.seconds:.2f} s, {cold.peak_mb:.0f} MB  {_summary(cold)}")
        if check and run == 0 and not any(path.exists() for path in tool.caches):
            note = "the --no-cache cold build left no cache, so 'nothing changed' includes filling it"
            say(f"{tool.name} {count:,}: note: {note}")
            result.notes.append(note)
        cold_tree = tree_hashes(tool.output) if check else {}
        if previous_one is not None:
            result.problems += compare(f"run {run}: one-changed rebuild vs cold", cold_tree, previous_one)
        nothing = build(tool, False, logs / f"{tool.name}-{count}-r{run}-nothing.log")
        result.samples["nothing"].append(nothing)
        say(f"{tag}: nothing changed {nothing.seconds:.2f} s, {nothing.peak_mb:.0f} MB  {_summary(nothing)}")
        if check:
            result.problems += compare(
                f"run {run + 1}: nothing-changed rebuild vs cold", cold_tree, tree_hashes(tool.output)
            )
        edited = edit_one(tool, run)
        one = build(tool, False, logs / f"{tool.name}-{count}-r{run}-one.log")
        result.samples["one"].append(one)
        say(f"{tag}: one changed ({edited}) {one.seconds:.2f} s, {one.peak_mb:.0f} MB  {_summary(one)}")
        if check:
            previous_one = tree_hashes(tool.output)
    result.files = sum(1 for path in tool.output.rglob("*") if path.is_file())
    if check and previous_one is not None:
        say(f"{tool.name} {count:,}: cold build to check the last cached rebuild")
        build(tool, True, logs / f"{tool.name}-{count}-verify-cold.log")
        result.problems += compare(f"run {runs}: one-changed rebuild vs cold", tree_hashes(tool.output), previous_one)
        if crash_at > 0:
            result.problems += crash_check(tool, count, runs, logs, crash_at, result)
    return result


def crash_check(tool: Tool, count: int, run: int, logs: Path, crash_at: float, result: Result) -> list[str]:
    """Kill builds part-way (SIGKILL), rerun with the cache, and compare with a cold build of the same posts.

    Two crashes, each after a fresh edit: a --no-cache build killed at crash_at of the cold time
    (most files and cache entries being written), and a cached build killed at crash_at of the
    one-changed time.
    """
    problems: list[str] = []
    crashes = (("--no-cache build", True, result.seconds("cold")), ("cached build", False, result.seconds("one")))
    for number, (what, cold, seconds) in enumerate(crashes):
        edited = edit_one(tool, run + number)
        name = f"{tool.name}-{count}-crash{number + 1}"
        argv = tool.command(cold)
        killed = run_measured(argv, tool.site, logs / f"{name}-killed.log", tool.env, kill_after=seconds * crash_at)
        state = f"killed after {seconds * crash_at:.2f} s" if killed.returncode < 0 else "finished before the kill"
        rerun = build(tool, False, logs / f"{name}-rerun.log")
        cached = tree_hashes(tool.output)
        build(tool, True, logs / f"{name}-cold.log")
        found = compare(f"after a killed {what}", tree_hashes(tool.output), cached)
        verdict = "identical to cold" if not found else "DIFFERS from cold"
        say(f"{tool.name} {count:,}: crash check: edited {edited}, {what} {state}, rerun {_summary(rerun)}: {verdict}")
        problems += found
    return problems


def _summary(sample: Sample) -> str:
    lines = [line for line in sample.output.strip().splitlines() if line.startswith("built ")]
    return f"[{lines[-1].split(' → ')[0]}]" if lines else ""


# --- the table -----------------------------------------------------------------------------------------


def table(results: list[Result], runs: int) -> list[str]:
    header = [
        "tool", "posts", "cold s", "cold CPU s", "nothing changed s", "one changed s", "peak MB", "files",
        "load", "cold ×", "nothing ×", "one ×", "memory ×",
    ]  # fmt: skip
    rows = [header, ["---"] * len(header)]
    base = {r.posts: r for r in results if r.tool == "syndicate"}
    for r in sorted(results, key=lambda r: (r.posts, TOOLS.index(r.tool))):
        ours = base.get(r.posts)
        figures = [r.seconds("cold"), r.seconds("nothing"), r.seconds("one"), r.peak_mb()]
        if ours is None or r.tool.startswith("syndicate"):
            ratios = ["—"] * 4
        else:
            mine = [ours.seconds("cold"), ours.seconds("nothing"), ours.seconds("one"), ours.peak_mb()]
            ratios = [f"{theirs / max(own, 1e-9):.1f}" for theirs, own in zip(figures, mine, strict=True)]
        rows.append(
            [
                r.tool,
                f"{r.posts:,}",
                f"{figures[0]:.2f}",
                f"{r.cpu('cold'):.2f}",
                *(f"{x:.2f}" for x in figures[1:3]),
                f"{figures[3]:.0f}",
                f"{r.files:,}",
                f"{r.load():.1f}",
                *ratios,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        if row[0] == "---":
            cells = ["-" * w if i < 2 else "-" * (w - 1) + ":" for i, w in enumerate(widths)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Median of {runs} run{'s' if runs != 1 else ''}; × = peer / syndicate (higher: syndicate is faster/smaller); "
        "CPU = user + system seconds of the whole process tree; load = the highest one-minute load average "
        "seen before any of the tool's builds."
    )
    return lines


def same_work_lines(results: list[Result]) -> list[str]:
    """The peers against syndicate asked for the same work (RSS + Atom only, no newsletter)."""
    lines = []
    for ours in (r for r in results if r.tool == "syndicate-feeds"):
        peers = [r for r in results if r.posts == ours.posts and not r.tool.startswith("syndicate")]
        ratios = ", ".join(f"{r.tool} {r.seconds('cold') / max(ours.seconds('cold'), 1e-9):.1f}×" for r in peers)
        lines.append(
            f"same work as the peers at {ours.posts:,} posts (syndicate-feeds: RSS + Atom, no newsletter): "
            f"cold {ours.seconds('cold'):.2f} s" + (f"; the peers' cold builds take {ratios} as long" if ratios else "")
        )
    return lines


def target_lines(results: list[Result]) -> list[str]:
    names = {"cold": "cold", "nothing": "nothing changed", "one": "one changed", "peak": "peak memory"}
    lines = []
    for r in results:
        if r.tool != "syndicate" or r.posts not in TARGETS:
            continue
        parts = []
        for key, limit in TARGETS[r.posts].items():
            value = r.peak_mb() if key == "peak" else r.seconds(key)
            unit = "MB" if key == "peak" else "s"
            mark = "ok" if value <= limit else "MISSED"
            parts.append(f"{names[key]} {value:.2f} {unit} (≤ {limit:g}) {mark}")
        lines.append(f"syndicate targets at {r.posts:,} posts: " + "; ".join(parts))
    found = {(r.posts, r.tool): r for r in results}
    for posts, mine, theirs, limit in RATIO_TARGETS:
        a, b = found.get((posts, mine)), found.get((posts, theirs))
        if a is None or b is None:
            continue
        ratio = a.seconds("cold") / max(b.seconds("cold"), 1e-9)
        mark = "ok" if ratio <= limit else "MISSED"
        lines.append(
            f"target at {posts:,} posts: {mine} cold / {theirs} cold = {ratio:.3f} (≤ {limit:.3g}"
            + (f", i.e. ≥ {1 / limit:.3g}× faster" if limit < 1 else "")
            + f") {mark}"
        )
    return lines


# --- main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--posts", type=int, nargs="+", default=[1000, 10000], help="corpus sizes (default 1000 10000; 30000 too)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported (default 3)")
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS), help="tools to run (default all)")
    parser.add_argument(
        "--syndicate", type=Path, default=REPO / ".venv" / "bin" / "syndicate", help="syndicate executable"
    )
    parser.add_argument(
        "--work", type=Path, default=OUT / "work", help="where corpora and outputs go (default bench/out/work)"
    )
    parser.add_argument("--no-install", action="store_true", help="skip peers that are not installed yet")
    parser.add_argument(
        "--crash-at",
        type=float,
        default=0.5,
        help="kill a cached build after this share of its time, then check (0: off)",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    TRASH.root = args.work / ".trash"
    atexit.register(TRASH.empty)  # also after a failure; a killed run's trash goes at the next run's end

    reaping = _become_subreaper()
    machine = machine_line()
    say(f"machine: {machine}")
    if not reaping:
        say("note: cannot adopt orphaned worker processes here; syndicate's CPU seconds miss its workers'")
    pelican_venv = ensure_pelican(not args.no_install) if "pelican" in args.tools else None
    hugo = ensure_hugo(not args.no_install) if "hugo" in args.tools else None
    python, libraries = prepare_syndicate(args.syndicate)
    versions = [f"syndicate: {version_of([str(args.syndicate), '--version'])}", *libraries]
    if pelican_venv:
        versions.append(f"pelican: {version_of([str(pelican_venv / 'bin' / 'pelican'), '--version'])}")
    if hugo:
        versions.append(f"hugo: {version_of([hugo, 'version'])}")
    for line in versions:
        say(line)

    results: list[Result] = []
    problems: list[str] = []
    notes: list[str] = []
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for count in args.posts:
        work = args.work / f"{count}"
        TRASH.discard(work)
        say(f"corpus: generating {count:,} posts in {work}")
        corpus = generate(work / "corpus", count)
        tools: list[Tool] = []
        if "syndicate" in args.tools:
            tools.append(syndicate_tool(corpus, work, args.syndicate))
            record_sent_issues(python, tools[-1].site, WEEKS_SENT)
        if "syndicate-feeds" in args.tools:
            tools.append(syndicate_tool(corpus, work, args.syndicate, feeds_only=True))
        if pelican_venv:
            tools.append(pelican_tool(corpus, work, pelican_venv))
        if hugo:
            tools.append(hugo_tool(corpus, work, hugo))
        for tool in tools:
            try:
                result = measure(tool, count, args.runs, logs, args.crash_at)
            except RuntimeError as exc:
                say(f"{tool.name} {count:,}: failed, left out of the table: {exc}")
                problems.append(f"{tool.name} at {count:,} posts failed: {exc}")
                continue
            results.append(result)
            problems += [f"{tool.name} at {count:,} posts: {p}" for p in result.problems]
            notes += [f"{tool.name} at {count:,} posts: {n}" for n in result.notes]
            tool.reset()  # into the trash, deleted when the benchmark ends

    lines = table(results, args.runs)
    notes = target_lines(results) + same_work_lines(results) + notes
    noisy = [r for r in results if r.load() > QUIET_LOAD]
    if noisy:
        worst = max(r.load() for r in noisy)
        notes.append(
            f"{len(noisy)} of {len(results)} tool runs had builds start at a load average above {QUIET_LOAD} "
            f"(up to {worst:.1f}): their wall times are noisy; the CPU column is steadier"
        )
    checked = any(r.tool == "syndicate" for r in results)
    if checked:
        notes.append(
            "byte-identical check (cached rebuilds vs cold builds, every file hashed"
            + (", also after a killed build" if args.crash_at > 0 else "")
            + "): "
            + ("all identical" if not any(r.problems for r in results) else "DIFFERENCES, see below")
        )
    print()
    print("\n".join(lines))
    print()
    for line in notes + problems:
        print(line)
    markdown = [
        "# Build benchmark",
        "",
        f"`python bench/build_bench.py --posts {' '.join(map(str, args.posts))} --runs {args.runs}` "
        f"on {machine}, {time.strftime('%Y-%m-%d')}.",
        "",
        *[f"- {v}" for v in versions],
        "",
        *lines,
        "",
        "Every tool builds RSS + Atom for the site and every tag and category, full content, 100 items a feed;",
        f"syndicate also writes JSON Feed, {WEEKS_SENT} sent newsletter issues (web page, text and .eml each),",
        "an index page and OPML (the peers write feeds only); syndicate-feeds is syndicate without JSON Feed",
        "and the newsletter (its index page and OPML remain). Wall-clock seconds including start-up; CPU seconds",
        "of the whole process tree; peak MB is the whole process tree's resident memory.",
        "",
        *[f"- {line}" for line in notes + problems],
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text("\n".join(markdown) + "\n", encoding="utf-8")
    print(f"\nwrote {OUT / 'results.md'}")


if __name__ == "__main__":
    main()
