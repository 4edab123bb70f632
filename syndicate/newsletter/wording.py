"""The words of an issue: its subject, headings, intro and preview line, in every cadence.

Every word goes through the site's catalog (`Config.words`, see language.py) and every count
through ngettext with the catalog's plural rules; English is the messages themselves.
"""

from __future__ import annotations

from syndicate.config import Cadence, Config
from syndicate.language import N_, Language
from syndicate.mail_settings import DEFAULT_SUBJECT
from syndicate.newsletter.contents import Issue
from syndicate.text import one_line

DIGEST_NAMES: dict[Cadence, str] = {
    "weekly": N_("Weekly digest"),
    "daily": N_("Daily digest"),
    "monthly": N_("Monthly digest"),
    "post": N_("New post"),
}

LIST_NAMES: dict[Cadence, str] = {
    "weekly": N_("weekly digest"),
    "daily": N_("daily digest"),
    "monthly": N_("monthly digest"),
    "post": N_("new-post emails"),
}


def digest_name(cadence: Cadence, words: Language) -> str:
    return words.gettext(DIGEST_NAMES[cadence])


def list_name(cadence: Cadence, words: Language) -> str:
    return words.gettext(LIST_NAMES[cadence])


def span_text(issue: Issue, words: Language) -> str:
    """The issue's days in a heading: "Monday 15 April to Sunday 21 April 2013", or one day."""
    first, last = issue.period.first_day, issue.period.last_day
    if first == last:
        return words.full_date(first)
    return words.gettext("%(start)s to %(end)s", start=words.long_date(first), end=words.full_date(last))


def period_text(issue: Issue, words: Language) -> str:
    """The period as a subject names it: "week of 15 April 2013", "16 April 2013", "April 2013"."""
    first, last = issue.period.first_day, issue.period.last_day
    if issue.cadence == "post" and issue.entries:
        return issue.entries[0].title
    if issue.cadence == "monthly" and first.day == 1 and first.month == last.month:
        return words.month_year(first)
    if first == last:
        return words.day_month_year(first)
    if issue.cadence == "weekly" and (last - first).days == 6 and first.isoweekday() == 1:
        return words.gettext("week of %(date)s", date=words.day_month_year(first))
    return words.gettext("%(start)s to %(end)s", start=words.day_month(first), end=words.day_month_year(last))


def new_posts(count: int, words: Language) -> str:
    """ "1 new post", "8 new posts", "1 neuer Beitrag": the catalog's plural rule."""
    return words.ngettext("%(num)d new post", "%(num)d new posts", count)


def reminder_subject(config: Config, issue: Issue) -> str:
    words = config.words
    first = issue.announcements[0]
    ends = first.post.announcement.ends if first.post.announcement else issue.period.last_day
    return one_line(
        words.gettext(
            "%(site)s: last chance, %(title)s ends %(date)s",
            site=config.site.title,
            title=first.title,
            date=words.long_date(ends),
        )
    )


def subject_for(config: Config, issue: Issue) -> str:
    if issue.reminder and issue.announcements:
        return reminder_subject(config, issue)
    words = config.words
    count = issue.post_count
    first = issue.period.first_day
    values = {
        "site": config.site.title,
        "count": count,
        "posts": words.ngettext("post", "posts", count),
        "new_posts": new_posts(count, words),
        "period": period_text(issue, words),
        "week": issue.key,
        "week_start": words.day_month_year(first),
    }
    default = words.ngettext(
        "%(site)s: %(num)d new post, %(period)s", "%(site)s: %(num)d new posts, %(period)s", count, **values
    )
    if config.digest.subject == DEFAULT_SUBJECT:  # the language's own, with its plural forms
        return one_line(default)
    try:
        return one_line(config.digest.subject.format(**values))
    except (KeyError, IndexError, ValueError):
        return one_line(default)


def intro_text(issue: Issue, words: Language) -> str:
    """The issue's first line: what is new, and whether an announcement runs."""
    if issue.reminder:
        return words.gettext(_REMINDERS[_period_kind(issue)])
    notes = len(issue.announcements)
    posts = new_posts(issue.post_count, words)
    period = words.gettext(_PERIODS[_period_kind(issue)], posts=posts)
    if not notes:
        return words.gettext("%(posts)s.", posts=period)
    return words.ngettext(
        "%(posts)s, and an announcement you may not want to miss.",
        "%(posts)s, and some announcements you may not want to miss.",
        notes,
        posts=period,
    )


_PERIODS = {
    "week": N_("%(posts)s this week"),
    "day": N_("%(posts)s today"),
    "month": N_("%(posts)s this month"),
    "post": N_("%(posts)s"),
    "since": N_("%(posts)s since the last issue"),
}
_REMINDERS = {
    "week": N_("No new posts this week, but a deadline is coming up."),
    "day": N_("No new posts today, but a deadline is coming up."),
    "month": N_("No new posts this month, but a deadline is coming up."),
    "post": N_("No new posts, but a deadline is coming up."),
    "since": N_("No new posts since the last issue, but a deadline is coming up."),
}


def _period_kind(issue: Issue) -> str:
    """What the intro says after "8 new posts": this week, today, this month, or since the last issue."""
    first, last = issue.period.first_day, issue.period.last_day
    if issue.cadence == "weekly" and (last - first).days == 6:
        return "week"
    if issue.cadence == "daily" and first == last:
        return "day"
    if issue.cadence == "monthly" and first.day == 1 and first.month == last.month:
        return "month"
    return "post" if issue.cadence == "post" else "since"


def preheader_for(issue: Issue, words: Language) -> str:
    """The inbox preview line: what is new, cut at a word boundary."""
    if issue.reminder:
        titles = "; ".join(e.title for e in issue.announcements)
        text = one_line(words.gettext("Last chance: %(titles)s", titles=titles))
    else:
        titles = "; ".join(e.title for e in issue.entries)
        count = issue.post_count
        text = one_line(words.ngettext("%(num)d new: %(titles)s", "%(num)d new: %(titles)s", count, titles=titles))
    if len(text) > 150:
        text = text[:150].rsplit(" ", 1)[0].rstrip(";:,") + "…"
    return text
