"""The words of an issue: its subject, headings, intro and preview line, in every cadence.

Plurals go through gettext's ngettext, so a translation catalogue can take over later;
without one it gives English.
"""

from __future__ import annotations

from datetime import date
from gettext import ngettext

from syndicate.config import Cadence, Config
from syndicate.newsletter.contents import Issue
from syndicate.text import one_line


def long_date(day: date) -> str:
    """A day as the issue pages and the archive head it: "Monday 15 April"."""
    return f"{day:%A} {day.day} {day:%B}"


DIGEST_NAMES: dict[Cadence, str] = {
    "weekly": "Weekly digest",
    "daily": "Daily digest",
    "monthly": "Monthly digest",
    "post": "New post",
}


def span_text(issue: Issue) -> str:
    """The issue's days in a heading: "Monday 15 April to Sunday 21 April 2013", or one day."""
    first, last = issue.period.first_day, issue.period.last_day
    if first == last:
        return f"{long_date(first)} {first.year}"
    return f"{long_date(first)} to {long_date(last)} {last.year}"


def period_text(issue: Issue) -> str:
    """The period as a subject names it: "week of 15 April 2013", "16 April 2013", "April 2013"."""
    first, last = issue.period.first_day, issue.period.last_day
    if issue.cadence == "post" and issue.entries:
        return issue.entries[0].title
    if issue.cadence == "monthly" and first.day == 1 and first.month == last.month:
        return f"{first:%B %Y}"
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if issue.cadence == "weekly" and (last - first).days == 6 and first.isoweekday() == 1:
        return f"week of {first.day} {first:%B %Y}"
    return f"{first.day} {first:%B} to {last.day} {last:%B %Y}"


def count_text(count: int, singular: str, plural: str) -> str:
    """ "1 new post", "8 new posts": gettext's plural rule (English until a catalogue is installed)."""
    return f"{count} {ngettext(singular, plural, count)}"


def reminder_subject(config: Config, issue: Issue) -> str:
    first = issue.announcements[0]
    ends = first.post.announcement.ends if first.post.announcement else issue.period.last_day
    return one_line(f"{config.site.title}: last chance, {first.title} ends {long_date(ends)}")


def subject_for(config: Config, issue: Issue) -> str:
    if issue.reminder and issue.announcements:
        return reminder_subject(config, issue)
    count = issue.post_count
    first = issue.period.first_day
    values = {
        "site": config.site.title,
        "count": count,
        "posts": ngettext("post", "posts", count),
        "period": period_text(issue),
        "week": issue.key,
        "week_start": f"{first.day} {first:%B %Y}",
    }
    try:
        return one_line(config.digest.subject.format(**values))
    except (KeyError, IndexError, ValueError):
        return one_line(f"{config.site.title}: {count_text(count, 'new post', 'new posts')}, {values['period']}")


LIST_NAMES: dict[Cadence, str] = {
    "weekly": "weekly digest",
    "daily": "daily digest",
    "monthly": "monthly digest",
    "post": "new-post emails",
}


def intro_text(issue: Issue) -> str:
    """The issue's first line: what is new, and whether an announcement runs."""
    phrase = _period_phrase(issue)
    if issue.reminder:
        return f"No new posts{phrase}, but a deadline is coming up."
    notes = len(issue.announcements)
    extra = ""
    if notes:
        extra = f", and {'an announcement' if notes == 1 else 'some announcements'} you may not want to miss"
    return f"{count_text(issue.post_count, 'new post', 'new posts')}{phrase}{extra}."


def _period_phrase(issue: Issue) -> str:
    """What the intro says after "8 new posts": this week, today, this month, or since the last issue."""
    first, last = issue.period.first_day, issue.period.last_day
    if issue.cadence == "weekly" and (last - first).days == 6:
        return " this week"
    if issue.cadence == "daily" and first == last:
        return " today"
    if issue.cadence == "monthly" and first.day == 1 and first.month == last.month:
        return " this month"
    return "" if issue.cadence == "post" else " since the last issue"


def preheader_for(issue: Issue) -> str:
    """The inbox preview line: what is new, cut at a word boundary."""
    if issue.reminder:
        text = one_line("Last chance: " + "; ".join(e.title for e in issue.announcements))
    else:
        text = one_line(f"{issue.post_count} new: " + "; ".join(e.title for e in issue.entries))
    if len(text) > 150:
        text = text[:150].rsplit(" ", 1)[0].rstrip(";:,") + "…"
    return text
