"""The weekly digest: week windows, what an issue holds, announcements, the command, Gmail's size limit."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_TODAY, REPO_ROOT, make_site, post_text
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.build.compose import compose_issue
from syndicate.build.loading import load_site
from syndicate.cli.main import main
from syndicate.config import Config, load_config
from syndicate.errors import SyndicateError
from syndicate.model import Announcement, Entry, Post, Site
from syndicate.newsletter.contents import collect_issue
from syndicate.newsletter.issue import GMAIL_CLIP_BYTES, Rendered, render_issue
from syndicate.newsletter.periods import Period, in_window, iso_week, parse_week, week_of
from syndicate.render.entry import render_entry
from syndicate.text import short_hash

ZONES = ["America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Apia", "UTC"]
HOUR = timedelta(hours=1)

# The summit week, from the sample posts' front matter: day → (title, presenter, affiliation)
SESSIONS: dict[date, list[tuple[str, str | None, str | None]]] = {
    date(2013, 4, 15): [
        ("Getting From Grizzly to Havana: a DevOps Upgrade Pattern", "Rob Hirschfeld", "Dell (Crowbar)"),
        ("Nicira NVP Deep Dive", "Dan Wendlandt (standing in for Brad Hedlund)", "Nicira (VMware)"),
    ],
    date(2013, 4, 16): [
        ("Considerations for Building a Private Cloud, Folsom Update", "Ryan Richard", "Rackspace"),
        ("Building HA OpenStack with Puppet in 20 Minutes", "Boris Renski (demo by Roman)", "Mirantis"),
    ],
    date(2013, 4, 17): [
        ("OpenStack Capacity Planning", None, None),
        ("Networking in the Cloud: An SDN Primer", "Ben Cherian", "Midokura"),
    ],
    date(2013, 4, 18): [
        ("OpenStack Back to the Enterprise: Keep Calm and Boldly Go", "Florian Otel", "HP Cloud Services"),
        (
            "More Reliable, More Resilient, More Redundant: OpenStack High Availability in Grizzly and Beyond",
            "Florian Haas",
            "Hastexo",
        ),
    ],
}
GIVEAWAY = "Win a Signed Copy of VMware vSphere Design, 2nd Edition"
GIVEAWAY_RULES = [
    "To enter, leave a comment on this post saying why the book would help you.",
    "Use a valid e-mail address with your comment; winners are contacted by e-mail.",
    "A winner who does not reply with a shipping address within 48 hours is replaced by another entrant.",
    "Open to residents of the continental United States only.",
]
INDEX_POST = "Liveblogs from the 2013 OpenStack Summit"


def words(text: str) -> str:
    """Text with every run of whitespace made one space (wrapped lines read as one)."""
    return " ".join(text.split())


# --- week windows -------------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def week_hours(week: Period) -> float:
    # aware datetimes with the same tzinfo subtract as wall clocks; convert to UTC for real elapsed time
    return (utc(week.end) - utc(week.start)) / HOUR


def previous_week(week: Period, tz: ZoneInfo) -> Period:
    before = week.first_day - timedelta(days=1)
    return iso_week(*before.isocalendar()[:2], tz)


def next_week(week: Period, tz: ZoneInfo) -> Period:
    after = week.last_day + timedelta(days=1)
    return iso_week(*after.isocalendar()[:2], tz)


def entry_at(moment: datetime, site: Site, title: str = "A post", body: str = "Text.", **fields: object) -> Entry:
    slug = f"p-{utc(moment):%Y%m%d%H%M%S}-{short_hash(title)}"
    return render_entry(Post(source=slug, title=title, published=moment, slug=slug, body=body, **fields), site)  # type: ignore[arg-type]


def site_in(tz: ZoneInfo) -> Site:
    from syndicate.model import Author

    return Site("T", "https://blog.example.org/", "d", "en", tz, Author("A", "a@example.org"))


instants = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(moment=instants, zone=st.sampled_from(ZONES))
def test_every_instant_is_in_exactly_one_week(moment: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    week = week_of(moment, tz)
    local = moment.astimezone(tz)
    # the week is the ISO week of the local calendar date, Monday to Sunday
    year, number = local.isocalendar()[:2]
    assert week.key == f"{year}-W{number:02d}"
    assert week.first_day.weekday() == 0 and week.first_day <= local.date() <= week.last_day
    # the instant is inside its window, compared as instants (UTC) and as the site's wall clock
    assert utc(week.start) <= utc(moment) < utc(week.end)
    assert week.start <= local < week.end
    # the neighbours touch it with no gap and no overlap, and do not hold the instant
    before, after = previous_week(week, tz), next_week(week, tz)
    assert utc(before.end) == utc(week.start) and utc(week.end) == utc(after.start)
    assert not utc(before.start) <= utc(moment) < utc(before.end)
    assert not utc(after.start) <= utc(moment) < utc(after.end)
    # the selection used by digests agrees: the entry is in this week's window and no neighbour's
    site = site_in(tz)
    for published in (moment, local):
        entry = entry_at(published, site)
        assert in_window([entry], week.start, week.end) == [entry]
        assert in_window([entry], before.start, before.end) == []
        assert in_window([entry], after.start, after.end) == []
    # a week is 168 hours minus whatever the clocks jumped forward during it
    jump = week.end.utcoffset() - week.start.utcoffset()  # type: ignore[operator]
    assert utc(week.end) - utc(week.start) == timedelta(hours=168) - jump
    assert parse_week(week.key, tz) == week


@settings(max_examples=200, deadline=None)
@given(
    wall=st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2040, 12, 31)),
    fold=st.sampled_from([0, 1]),
    zone=st.sampled_from(ZONES),
)
def test_wall_clock_times_from_front_matter_land_in_one_week(wall: datetime, fold: int, zone: str) -> None:
    """Naive front-matter dates take the site's zone, including repeated and skipped wall times."""
    tz = ZoneInfo(zone)
    moment = wall.replace(tzinfo=tz, fold=fold)
    site = site_in(tz)
    entry = entry_at(moment, site)
    week = week_of(moment, tz)
    holding = [w for w in (previous_week(week, tz), week, next_week(week, tz)) if in_window([entry], w.start, w.end)]
    assert holding == [week]


@pytest.mark.parametrize(
    ("zone", "year", "week", "hours"),
    [
        ("America/Los_Angeles", 2013, 10, 167),  # clocks forward on Sunday 10 March 2013
        ("America/Los_Angeles", 2013, 16, 168),  # the summit week
        ("America/Los_Angeles", 2013, 44, 169),  # clocks back on Sunday 3 November 2013
        ("Europe/Berlin", 2013, 13, 167),  # Sunday 31 March 2013
        ("Europe/Berlin", 2013, 43, 169),  # Sunday 27 October 2013
        ("Australia/Lord_Howe", 2013, 40, 167.5),  # half-hour DST starts Sunday 6 October 2013
        ("Australia/Lord_Howe", 2013, 14, 168.5),  # and ends Sunday 7 April 2013
        ("Pacific/Apia", 2011, 52, 144),  # Samoa skipped Friday 30 December 2011
        ("UTC", 2013, 16, 168),
    ],
)
def test_week_lengths_follow_the_clock_changes(zone: str, year: int, week: int, hours: float) -> None:
    tz = ZoneInfo(zone)
    window = iso_week(year, week, tz)
    assert week_hours(window) == hours
    assert window.start.astimezone(tz).strftime("%a %H:%M") == "Mon 00:00"
    assert window.end.astimezone(tz).strftime("%a %H:%M") == "Mon 00:00"


def test_sunday_23_59_59_and_monday_midnight_are_in_different_issues(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "sunday.md": post_text("Last thing on Sunday", "2013-04-21 23:59:59"),
            "monday.md": post_text("First thing on Monday", "2013-04-22 00:00:00"),
            # the same Sunday instant written in UTC: 06:59:59Z is 23:59:59 in Los Angeles (PDT)
            "utc.md": post_text("Sunday written in UTC", "2013-04-22T06:59:59+00:00"),
        },
    )
    site, errors = load_site(config, EXAMPLE_TODAY, print)
    assert errors == []
    tz = config.site.timezone
    w16 = collect_issue(site.entries, parse_week("2013-W16", tz))
    w17 = collect_issue(site.entries, parse_week("2013-W17", tz))
    assert w16 is not None and w17 is not None
    assert sorted(e.title for e in w16.entries) == ["Last thing on Sunday", "Sunday written in UTC"]
    assert [d.day for d in w16.days] == [date(2013, 4, 21)]
    assert [e.title for e in w17.entries] == ["First thing on Monday"]
    assert [d.day for d in w17.days] == [date(2013, 4, 22)]


def test_parse_week_reads_iso_weeks() -> None:
    tz = ZoneInfo("America/Los_Angeles")
    week = parse_week("2013-W16", tz)
    assert (week.first_day, week.last_day) == (date(2013, 4, 15), date(2013, 4, 21))
    assert parse_week(" 2013-w16 ", tz) == week
    assert parse_week("2020-W53", tz).first_day == date(2020, 12, 28)  # a 53-week year
    for bad in ("2013-16", "2013-W54", "2013-W00", "W16", "2013-Wxx", "", "2019-W53"):
        with pytest.raises(ValueError, match="is not an ISO week"):
            parse_week(bad, tz)


# --- the sample's summit week ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(REPO_ROOT / "syndicate.toml", output_dir=tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def w16(sample_config: Config) -> Rendered:
    rendered = compose_issue(sample_config, EXAMPLE_TODAY, print, week="2013-W16")
    assert rendered is not None
    return rendered


def test_summit_week_holds_the_eight_sessions_grouped_by_day(w16: Rendered) -> None:
    issue = w16.issue
    assert issue.key == "2013-W16"
    assert [d.day for d in issue.days] == list(SESSIONS)
    for day in issue.days:
        assert sorted(e.title for e in day.entries) == sorted(t for t, _, _ in SESSIONS[day.day])
    assert issue.post_count == 8
    assert INDEX_POST not in [e.title for e in issue.entries]
    assert GIVEAWAY not in [e.title for e in issue.entries]  # published on 1 April: it runs as an announcement
    assert [e.title for e in issue.announcements] == [GIVEAWAY]
    assert w16.subject == "Example Blog: 8 new posts, week of 15 April 2013"
    assert w16.detail == "full" and w16.warnings == ()


def _days_and_posts(page: str) -> dict[str, list[tuple[str, str]]]:
    """Read the rendered issue back: day heading → [(post title, byline)] in page order."""
    tree = lxml.html.fromstring(page)
    found: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for element in tree.iter("h2", "div"):
        classes = (element.get("class") or "").split()
        if element.tag == "h2" and "day" in classes:
            current = words(element.text_content())
            found[current] = []
        elif element.tag == "div" and "post" in classes:
            title = words(element.find(".//h3").text_content())
            byline = words(element.find_class("byline")[0].text_content())
            found[current].append((title, byline))
    return found


@pytest.mark.parametrize("form", ["email_html", "web_html"])
def test_summit_week_html_reads_back_by_day_with_presenters(w16: Rendered, form: str) -> None:
    found = _days_and_posts(getattr(w16, form))
    assert list(found) == ["Monday 15 April", "Tuesday 16 April", "Wednesday 17 April", "Thursday 18 April"]
    for day, heading in zip(SESSIONS, found, strict=True):
        assert sorted(t for t, _ in found[heading]) == sorted(t for t, _, _ in SESSIONS[day])
        bylines = dict(found[heading])
        for title, presenter, affiliation in SESSIONS[day]:
            if presenter is None:
                assert re.fullmatch(r"\d{1,2}:\d\d [ap]m", bylines[title]), bylines[title]
            else:
                assert bylines[title].startswith(f"{presenter}, {affiliation} · ")


@pytest.mark.parametrize("form", ["email_html", "web_html", "email_text"])
def test_giveaway_runs_with_all_rules_and_its_deadline(w16: Rendered, form: str) -> None:
    body = getattr(w16, form)
    flat = words(lxml.html.fromstring(body).text_content()) if form != "email_text" else words(body)
    assert GIVEAWAY in flat
    for rule in GIVEAWAY_RULES:
        assert rule in flat
    assert "ends Monday 15 April" in flat
    assert "Five signed print copies of VMware vSphere Design, 2nd Edition" in flat


def test_summit_week_text_names_every_session_and_presenter(w16: Rendered) -> None:
    flat = words(w16.email_text)
    for sessions in SESSIONS.values():
        for title, presenter, affiliation in sessions:
            assert title in flat
            if presenter:
                assert f"by {presenter}, {affiliation}" in flat
    assert INDEX_POST not in flat
    # days in order, Monday to Thursday
    positions = [
        w16.email_text.index(label)
        for label in ("MONDAY 15 APRIL", "TUESDAY 16 APRIL", "WEDNESDAY 17 APRIL", "THURSDAY 18 APRIL")
    ]
    assert positions == sorted(positions)


def test_the_index_post_is_in_the_next_week(sample_config: Config) -> None:
    rendered = compose_issue(sample_config, EXAMPLE_TODAY, print, week="2013-W17")
    assert rendered is not None
    assert [e.title for e in rendered.issue.entries] == [INDEX_POST]
    assert rendered.issue.announcements == ()  # the giveaway ended on 15 April


def test_a_week_with_only_a_running_announcement_gets_a_reminder(sample_config: Config) -> None:
    # 8-14 April: nothing was posted, and the giveaway ends on Monday 15 April, the next week
    rendered = compose_issue(sample_config, EXAMPLE_TODAY, print, week="2013-W15")
    assert rendered is not None and rendered.issue.reminder
    assert [e.title for e in rendered.issue.announcements] == [GIVEAWAY]
    assert rendered.subject == f"Example Blog: last chance, {GIVEAWAY} ends Monday 15 April"
    text = words(rendered.email_text)
    assert "No new posts this week, but a deadline is coming up." in text
    assert "Last chance: ends Monday 15 April." in text and GIVEAWAY_RULES[0] in text
    page = lxml.html.fromstring(rendered.web_html)
    assert "Last chance: ends Monday 15 April" in words(page.text_content())
    # a week with neither posts nor a deadline near has no issue
    with pytest.raises(SyndicateError, match="no posts in 2013-W10"):
        compose_issue(sample_config, EXAMPLE_TODAY, print, week="2013-W10")


def test_reminders_can_be_switched_off(tmp_path: Path) -> None:
    promo = post_text("Promo", "2013-04-01 09:00:00", announcement={"starts": "2013-04-01", "ends": "2013-04-15"})
    config = make_site(tmp_path, {"promo.md": promo}, digest={"reminders": False})
    with pytest.raises(SyndicateError, match="no posts in 2013-W15"):
        compose_issue(config, EXAMPLE_TODAY, print, week="2013-W15")


# --- announcements ----------------------------------------------------------------------------

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    ("starts", "ends", "runs"),
    [
        (date(2013, 4, 1), date(2013, 4, 15), True),  # ends on the week's Monday: still on for that day
        (date(2013, 4, 1), date(2013, 4, 14), False),  # ended the Sunday before
        (date(2013, 4, 21), date(2013, 4, 30), True),  # starts on the week's Sunday
        (date(2013, 4, 22), date(2013, 4, 30), False),  # starts the Monday after
        (date(2013, 4, 1), date(2013, 5, 30), True),  # runs right through the week
        (date(2013, 4, 17), date(2013, 4, 17), True),  # a single day inside the week
        (date(2013, 4, 14), date(2013, 4, 14), False),  # a single day, the Sunday before
    ],
)
def test_announcements_run_in_weeks_their_inclusive_window_overlaps(starts: date, ends: date, runs: bool) -> None:
    site = site_in(LA)
    post = entry_at(datetime(2013, 4, 16, 12, tzinfo=LA), site, "A session")
    promo = entry_at(
        datetime(2013, 3, 1, 9, tzinfo=LA), site, "A contest", announcement=Announcement(starts, ends, ("Be nice.",))
    )
    issue = collect_issue([post, promo], parse_week("2013-W16", LA))
    assert issue is not None
    assert [e.title for e in issue.announcements] == (["A contest"] if runs else [])


def test_announcement_days_are_in_the_site_time_zone(tmp_path: Path) -> None:
    """In Berlin the week starts 9 hours before it does in Los Angeles; a window ending on Sunday is over by then."""
    posts = {
        "session.md": post_text("A session", "2013-04-16 12:00:00"),
        "contest.md": post_text(
            "A contest",
            "2013-04-01 09:00:00",
            announcement={"starts": "2013-04-01", "ends": "2013-04-14", "rules": ["x"]},
        ),
    }
    for zone in ("Europe/Berlin", "Pacific/Apia"):
        folder = tmp_path / zone.replace("/", "-")
        config = make_site(folder, posts, site={"timezone": zone})
        site, errors = load_site(config, EXAMPLE_TODAY, print)
        assert errors == []
        issue = collect_issue(site.entries, parse_week("2013-W16", config.site.timezone))
        assert issue is not None and issue.announcements == ()
        before = collect_issue(site.entries, parse_week("2013-W14", config.site.timezone))
        assert before is not None and [e.title for e in before.announcements] == ["A contest"]


def test_several_announcements_are_ordered_by_deadline(tmp_path: Path) -> None:
    site = site_in(LA)
    post = entry_at(datetime(2013, 4, 16, 12, tzinfo=LA), site, "A session")
    late = entry_at(
        datetime(2013, 3, 1, tzinfo=LA), site, "Late", announcement=Announcement(date(2013, 4, 1), date(2013, 5, 1))
    )
    soon = entry_at(
        datetime(2013, 3, 2, tzinfo=LA), site, "Soon", announcement=Announcement(date(2013, 4, 1), date(2013, 4, 19))
    )
    issue = collect_issue([late, post, soon], parse_week("2013-W16", LA))
    assert issue is not None
    assert [e.title for e in issue.announcements] == ["Soon", "Late"]


# --- tags and empty weeks ------------------------------------------------------------------------


def test_tag_filter_keeps_posts_with_that_tag_or_category(sample_config: Config) -> None:
    site, _ = load_site(sample_config, EXAMPLE_TODAY, print)
    week = parse_week("2013-W16", sample_config.site.timezone)
    sdn = collect_issue(site.entries, week, tags=frozenset({"sdn"}))
    assert sdn is not None and [e.title for e in sdn.entries] == ["Networking in the Cloud: An SDN Primer"]
    networking = collect_issue(site.entries, week, tags=frozenset({"Networking"}))
    assert networking is not None
    assert sorted(e.title for e in networking.entries) == [
        "Networking in the Cloud: An SDN Primer",
        "Nicira NVP Deep Dive",
    ]
    general = collect_issue(site.entries, week, tags=frozenset({"General"}))  # a category
    assert general is not None and general.post_count == 8
    assert collect_issue(site.entries, week, tags=frozenset({"Gardening"})) is None


def test_the_build_publishes_the_sent_issues_only(tmp_path: Path) -> None:
    from conftest import build_site, record_sent_issue

    config = make_site(
        tmp_path,
        {"a.md": post_text("Early", "2013-04-02 10:00:00"), "b.md": post_text("Late", "2013-04-17 10:00:00")},
    )
    build_site(config)
    newsletter = config.output_dir / "newsletter"
    assert not [p for p in newsletter.iterdir() if p.is_dir()]  # nothing was sent: no issue pages
    archive = lxml.html.fromstring((newsletter / "index.html").read_bytes())
    assert not archive.xpath("//ol/li")
    # W16 is sent (its record written as `send` writes it); W14 never was
    record_sent_issue(config, datetime(2013, 4, 22, 9, tzinfo=config.site.timezone), "2013-W16")
    build_site(config)
    assert sorted(p.name for p in newsletter.iterdir() if p.is_dir()) == ["2013-W16"]
    archive = lxml.html.fromstring((newsletter / "index.html").read_bytes())
    assert [a.get("href").rstrip("/").rsplit("/", 1)[-1] for a in archive.xpath("//ol/li/a")] == ["2013-W16"]


@pytest.mark.parametrize("value", ['"2013-04-14"', "2013-04-14T10:00:00", "14"])
def test_since_must_be_a_plain_toml_date(tmp_path: Path, value: str) -> None:
    from conftest import write_site

    from syndicate.errors import ConfigError

    path = write_site(tmp_path, {})
    path.write_text(path.read_text(encoding="utf-8") + f"\n[digest]\nsince = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[digest\] since must be a date written as 2013-04-01"):
        load_config(path)


# --- the command -----------------------------------------------------------------------------------


def run_digest(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["digest", "--site", str(REPO_ROOT), "--today", "2013-04-30", *args])
    return result.exit_code, result.stdout, result.stderr


def test_digest_command_writes_the_three_files(tmp_path: Path) -> None:
    import email
    import email.policy

    out = tmp_path / "issue"
    code, stdout, stderr = run_digest("--week", "2013-W16", "--out", str(out))
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [".syndicate-digest", "index.html", "issue.eml", "issue.txt"]
    assert "Example Blog: 8 new posts, week of 15 April 2013" in stdout
    for name in ("index.html", "issue.txt", "issue.eml"):
        assert str(out / name) in stdout
    page = (out / "index.html").read_text(encoding="utf-8")
    text = (out / "issue.txt").read_text(encoding="utf-8")
    message = email.message_from_bytes((out / "issue.eml").read_bytes(), policy=email.policy.default)
    plain = message.get_body(("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == text
    for sessions in SESSIONS.values():
        for title, _, _ in sessions:
            assert title in words(lxml.html.fromstring(page).text_content())
            assert title in words(text)


def test_digest_shows_this_weeks_posts_so_far(tmp_path: Path) -> None:
    from conftest import copy_example_site

    out = tmp_path / "this"
    site = copy_example_site(tmp_path / "site")
    shutil.rmtree(site.parent / "samples" / "newsletter")  # W16 not sent yet
    result = CliRunner().invoke(
        main, ["digest", "--site", str(site), "--now", "2013-04-16T12:00", "--week", "this", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "3 new posts" in result.output  # Monday's two sessions and Tuesday morning's, not the afternoon's
    text = words((out / "issue.txt").read_text(encoding="utf-8"))
    assert all(title in text for title, _, _ in SESSIONS[date(2013, 4, 15)])
    assert "Building HA OpenStack with Puppet in 20 Minutes" not in text


def test_digest_command_takes_any_window_of_days(tmp_path: Path) -> None:
    out = tmp_path / "two-days"
    code, stdout, stderr = run_digest("--since", "2013-04-15", "--until", "2013-04-16", "--out", str(out))
    assert code == 0, stderr
    assert "4 new posts" in stdout
    text = words((out / "issue.txt").read_text(encoding="utf-8"))
    for day in (date(2013, 4, 15), date(2013, 4, 16)):
        for title, _, _ in SESSIONS[day]:
            assert title in text
    for day in (date(2013, 4, 17), date(2013, 4, 18)):
        for title, _, _ in SESSIONS[day]:
            assert title not in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--week", "2013-16"], "'2013-16' names no period; write 2013-W16 (a week), 2013-04-16 (a day)"),
        (["--week", "2013-W99"], "'2013-W99' names no period"),
        (["--week", "2013-W10"], "no posts in 2013-W10"),
        (["--since", "15 April", "--until", "2013-04-16"], "--since and --until take dates like 2013-04-15"),
        (["--since", "15 April"], "--since takes a date like 2013-04-15, got '15 April'"),
        (["--until", "tomorrow"], "--until takes a date like 2013-04-15, or now, got 'tomorrow'"),
        (["--since", "2013-04-16", "--until", "2013-04-15"], "is before --since"),
    ],
)
def test_digest_command_bad_input_is_one_line_and_exit_1(tmp_path: Path, args: list[str], says: str) -> None:
    code, stdout, stderr = run_digest(*args, "--out", str(tmp_path / "x"))
    assert code == 1
    assert stderr.count("\n") == 1 and says in stderr, stderr
    assert "Traceback" not in stderr + stdout
    assert not (tmp_path / "x").exists()


# --- Gmail's clipping limit ---------------------------------------------------------------------------


def crowded_week(count: int) -> tuple[Config, list[Entry]]:
    config = load_config(REPO_ROOT / "syndicate.toml", output_dir=Path("/nonexistent"))
    tz = config.site.timezone
    monday = datetime(2013, 4, 15, tzinfo=tz)
    step = timedelta(days=7) / count
    entries = [
        entry_at(
            monday + i * step,
            config.site,
            f"Session {i}: notes on clouds, networks and the people who run them",
            body=f"Notes from session {i}. " + "The speaker covered capacity, networking and storage. " * 6,
            tags=("OpenStack", "Networking", f"Track {i % 7}"),
        )
        for i in range(count)
    ]
    return config, entries


def html_bytes(rendered: Rendered) -> int:
    return len(rendered.email_html.encode("utf-8"))


@pytest.mark.parametrize("count", [120, 1500, 5000])
def test_a_crowded_week_falls_back_rather_than_be_clipped_by_gmail(count: int) -> None:
    config, entries = crowded_week(count)
    week = parse_week("2013-W16", config.site.timezone)
    issue = collect_issue(entries, week)
    assert issue is not None and issue.post_count == count
    rendered = render_issue(config, issue)
    assert html_bytes(rendered) < GMAIL_CLIP_BYTES
    assert rendered.detail in ("compact", "titles")
    assert any("for one email" in w for w in rendered.warnings), rendered.warnings
    page = lxml.html.fromstring(rendered.email_html)
    links = [a.get("href") for a in page.iter("a")]
    assert rendered.web_url in links  # everything is one click away
    shown = [words(h.text_content()) for h in page.iter("h3")]
    assert shown and all(title.startswith("Session ") for title in shown)
    if len(shown) < count:  # what did not fit is counted, not silently dropped
        assert f"{count - len(shown)} more" in words(page.text_content())
    # the web version still has every post in full
    assert len(list(lxml.html.fromstring(rendered.web_html).iter("h3"))) == count
    # the text part lists the same posts as the HTML part, no more: both fit one email
    assert len(rendered.email_text.encode("utf-8")) < GMAIL_CLIP_BYTES
    assert sum(line.startswith("Session ") for line in rendered.email_text.splitlines()) == len(shown)
    if len(shown) < count:
        assert f"{count - len(shown)} more" in rendered.email_text


def test_a_week_that_fits_keeps_full_detail_and_warns_near_the_limit() -> None:
    config, entries = crowded_week(40)
    issue = collect_issue(entries, parse_week("2013-W16", config.site.timezone))
    assert issue is not None
    rendered = render_issue(config, issue)
    size = html_bytes(rendered)
    shown = [words(h.text_content()) for h in lxml.html.fromstring(rendered.email_html).iter("h3")]
    assert len(shown) == 40
    if rendered.detail == "full":
        assert (size > 90 * 1024) == any("close to Gmail" in w for w in rendered.warnings)
    else:
        assert rendered.warnings


def test_digest_out_never_replaces_a_page_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "index.html").write_text("<p>my own page</p>", encoding="utf-8")
    code, _, stderr = run_digest("--week", "2013-W16", "--out", str(out))
    assert code == 1 and "index.html is already there and syndicate did not write it" in stderr
    assert (out / "index.html").read_text(encoding="utf-8") == "<p>my own page</p>"
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    # a folder an earlier digest wrote is syndicate's to write again
    again = tmp_path / "ours"
    assert run_digest("--week", "2013-W16", "--out", str(again))[0] == 0
    assert run_digest("--week", "2013-W17", "--out", str(again))[0] == 0
    assert "Liveblogs from the 2013 OpenStack Summit" in (again / "issue.txt").read_text(encoding="utf-8")
