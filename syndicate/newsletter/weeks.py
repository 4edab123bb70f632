"""Which days an issue covers: ISO weeks in the site's time zone, custom windows, and the issue keys
(`2013-W16`, `2013-04-15..2013-04-21`) that name them in the archive and the send log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from syndicate.config import Config
from syndicate.model import Entry


@dataclass(frozen=True, slots=True)
class Week:
    """An ISO week in the site's time zone: [Monday 00:00, next Monday 00:00)."""

    year: int
    week: int
    start: datetime  # aware, Monday 00:00 local
    end: datetime  # aware, the next Monday 00:00 local (exclusive)
    label: str = ""  # set for a custom window (--since/--until) instead of a whole week

    @property
    def key(self) -> str:
        return self.label or f"{self.year}-W{self.week:02d}"

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return self.end.date() - timedelta(days=1)


def week_of(moment: datetime, tz: ZoneInfo) -> Week:
    """The week an instant belongs to; every instant belongs to exactly one."""
    local = moment.astimezone(tz)
    year, week, _ = local.isocalendar()
    return iso_week(year, week, tz)


def iso_week(year: int, week: int, tz: ZoneInfo) -> Week:
    monday = date.fromisocalendar(year, week, 1)
    # wall-clock midnights; zoneinfo gives each its own UTC offset, so DST weeks are 167 or 169 hours
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    nxt = monday + timedelta(days=7)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return Week(year, week, start, end)


def parse_week(text: str, tz: ZoneInfo) -> Week:
    """'2013-W16' → that Week. Raises ValueError with a message for the user."""
    try:
        year_s, week_s = text.strip().upper().split("-W")
        return iso_week(int(year_s), int(week_s), tz)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO week; write it like 2013-W16") from None


def parse_days(since: str, until: str) -> tuple[date, date]:
    """The first and last day of a custom window. Raises ValueError with a message for the user."""
    try:
        return date.fromisoformat(since), date.fromisoformat(until)
    except ValueError:
        raise ValueError("--since and --until take dates like 2013-04-15") from None


def days_window(first: date, last: date, tz: ZoneInfo) -> Week:
    """Whole days [first, last] as an issue's window, keyed `first..last`."""
    if last < first:
        raise ValueError(f"--until {last} is before --since {first}")
    start = datetime.combine(first, time(), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
    iso = first.isocalendar()
    return Week(iso.year, iso.week, start, end, label=f"{first.isoformat()}..{last.isoformat()}")


def chosen_window(tz: ZoneInfo, week: str | None, since: str | None, until: str | None) -> Week:
    """The window named by --week, or by --since and --until. Raises ValueError for the user."""
    if week:
        return parse_week(week, tz)
    return days_window(*parse_days(str(since), str(until)), tz)


def last_week(today: date, tz: ZoneInfo) -> Week:
    """The week before the one `today` is in: what a weekly job sends by default."""
    return week_of(datetime.combine(today - timedelta(days=7), time(12), tzinfo=tz), tz)


def in_archive(config: Config, week: Week) -> bool:
    """True when the build publishes this week's issue: [digest] since starts the archive with that day's week."""
    since = config.digest.since
    return since is None or week.end.astimezone(config.site.timezone).date() > since


def in_window(entries: Iterable[Entry], start: datetime, end: datetime) -> list[Entry]:
    """Entries published in [start, end), oldest first (the order a digest reads in)."""
    chosen = [e for e in entries if start <= e.published < end]
    return sorted(chosen, key=lambda e: (e.published, e.id))
