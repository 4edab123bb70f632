"""A year of sent newsletter issues for a benchmark corpus: the records `syndicate send` would write.

    python bench/sent_issues.py SITE [--weeks 52]

Run with the interpreter syndicate is installed in. It loads SITE's posts once,
then for each of the last WEEKS weeks of posts chooses the next issue as a send
on that week's following Monday at 09:00 would (the ledger's rules: each issue
carries what no earlier one did), and writes its record into the site's records
folder. Nothing is sent and no database is made. The config gets `[digest]
since` (the first issue's start), so the first record does not carry every
older post; the build then publishes exactly these WEEKS issues.
"""

from __future__ import annotations

import argparse
from datetime import datetime, time, timedelta
from pathlib import Path

from syndicate.build.compose import IssueChoice, SiteEntries, choose
from syndicate.build.ledger import write_record
from syndicate.config import load_config
from syndicate.newsletter.ledger import IssueRecord, Ledger, record_of


def record_year(site: Path, weeks: int = 52) -> int:
    """Write the records; returns how many were written (one a week with posts)."""
    probe = load_config(site / "syndicate.toml")
    entries = SiteEntries(probe, datetime(2100, 1, 1).date(), lambda _m: None)()
    newest = max(e.published for e in entries).astimezone(probe.site.timezone).date()
    last_monday = newest - timedelta(days=newest.weekday())  # the week of the newest post: not finished
    first_monday = last_monday - timedelta(weeks=weeks)
    config_path = site / "syndicate.toml"
    text = config_path.read_text(encoding="utf-8")
    if "[digest]" in text:
        raise SystemExit(f"{config_path} already has a [digest] table; sent_issues.py adds its own")
    config_path.write_text(text + f"\n[digest]\nsince = {first_monday.isoformat()}\n", encoding="utf-8")
    config = load_config(config_path)
    records: list[IssueRecord] = []
    for week in range(1, weeks + 1):
        now = datetime.combine(first_monday + timedelta(weeks=week), time(9), tzinfo=config.site.timezone)
        for draft in choose(config, Ledger(tuple(records)), entries, IssueChoice(now)):
            records.append(record_of(draft, config.digest.cadence, now))
    for record in records:
        write_record(config, record)
    return len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()
    print(f"recorded {record_year(args.site, args.weeks)} sent issues in {args.site}")


if __name__ == "__main__":
    main()
