"""How long composing one digest issue takes: the example site's summit week, 2013-W16.

Composing = choosing the week's posts and running announcements, rendering the
email HTML (premailer inlining included), the plain text and the web page, and
writing the complete MIME message. Reading the site is done once, outside the
timing. The first run also pays for importing premailer and compiling the
templates, which is what one `syndicate digest` invocation costs; the median of
the later runs is the steady cost per issue in a build. Target: under 1 s.

    .venv/bin/python bench/digest_bench.py [--runs 15] [--week 2013-W16]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory

from syndicate.build.loading import load_site
from syndicate.config import load_config
from syndicate.newsletter.contents import collect_issue
from syndicate.newsletter.issue import render_issue
from syndicate.newsletter.message import Recipient, build_message, personalize
from syndicate.newsletter.periods import parse_week

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="timed runs after the first (default 15)")
    parser.add_argument("--week", default="2013-W16", help="ISO week to compose (default 2013-W16)")
    args = parser.parse_args()

    with TemporaryDirectory() as out:
        config = load_config(REPO_ROOT / "syndicate.toml", output_dir=Path(out))
        site, errors = load_site(config, date(2013, 4, 30), lambda message: None)
        if errors:
            raise SystemExit(f"the example site has errors: {errors[0]}")
        week = parse_week(args.week, config.site.timezone)

        def compose() -> int:
            issue = collect_issue(site.entries, week)
            if issue is None:
                raise SystemExit(f"{args.week} has no posts")
            rendered = render_issue(config, issue)
            return len(build_message(config, rendered, None).as_bytes())

        started = time.perf_counter()
        size = compose()
        first_ms = (time.perf_counter() - started) * 1000
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            compose()
            timings.append((time.perf_counter() - started) * 1000)

        # personalising is per recipient, after premailer: it should cost next to nothing
        issue = collect_issue(site.entries, week)
        assert issue is not None
        rendered = render_issue(config, issue)
        count = 200
        started = time.perf_counter()
        for n in range(count):
            personalize(config, rendered, Recipient(f"reader{n}@example.net", f"Reader {n}"), issue.date).as_bytes()
        per_recipient_ms = (time.perf_counter() - started) * 1000 / count

    median = statistics.median(timings)
    print(f"compose {args.week} ({rendered.post_count} posts, {size / 1024:.1f} KB .eml), premailer included:")
    rows = [
        ("first run (imports, template compile)", f"{first_ms:8.1f} ms"),
        (f"median of {args.runs} runs", f"{median:8.1f} ms  (min {min(timings):.1f}, max {max(timings):.1f})"),
        ("personalise one recipient", f"{per_recipient_ms:8.2f} ms"),
    ]
    for label, value in rows:
        print(f"  {label + ':':<40}{value}")
    verdict = "OK" if max(first_ms, median) < TARGET_MS else "TOO SLOW"
    print(f"  target < {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
