"""What every command module shares: help settings, the --site option, config loading,
"today" and "now", and how warnings are printed. No commands here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import click

from syndicate import Config, SyndicateError, find_config, load_config

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

site_option = click.option(
    "--site",
    type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
    default=Path("."),
    show_default=True,
    help="The site's folder (or its syndicate.toml).",
)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def today_from(value: str | None, config: Config) -> date:
    """--today, or the real date in the site's time zone: the clock, read once, at the edge."""
    if value is None:
        return datetime.now(config.site.timezone).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2013-04-30", param_hint="--today") from None


def clock_from(now_s: str | None, today_s: str | None, config: Config) -> datetime:
    """--now (a date and time; without an offset, in the site's time zone), else the start of --today,
    else the real time: the clock, read once, at the edge."""
    if now_s:
        try:
            moment = datetime.fromisoformat(now_s)
        except ValueError:
            raise click.BadParameter(f"{now_s!r} is not a time like 2013-04-22T09:00", param_hint="--now") from None
        zone = config.site.timezone
        return (moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)).replace(
            microsecond=0
        )
    if today_s:
        return datetime.combine(today_from(today_s, config), datetime.min.time(), tzinfo=config.site.timezone)
    return now_in(config)


def now_in(config: Config) -> datetime:
    """The time in the site's time zone, to the second: the clock, read at the edge."""
    return datetime.now(config.site.timezone).replace(microsecond=0)


def site_config(site: Path, out: Path | None = None) -> Config:
    return load_config(find_config(site), output_dir=out)


def print_errors(exc: SyndicateError) -> None:
    """The problems an error gathers (each post that could not be read), one line each."""
    for line in getattr(exc, "errors", ()):
        click.echo(f"error: {line}", err=True)


def _progress(message: str) -> None:
    """What a long job is doing now, on a terminal only (never in logs or pipes)."""
    click.echo(click.style(f"… {message}", dim=True), err=True)


def build_once(
    config: Config, today_s: str | None, keep_going: bool, no_cache: bool, *, exit_on_error: bool, force: bool = False
) -> None:
    from syndicate import build_site

    try:
        progress = _progress if sys.stderr.isatty() else None
        result = build_site(
            config,
            today_from(today_s, config),
            warn,
            keep_going=keep_going,
            use_cache=not no_cache,
            progress=progress,
            force=force,
        )
    except SyndicateError as exc:
        if exit_on_error:
            raise
        print_errors(exc)
        click.echo(f"error: {exc}", err=True)
        return
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    changed = len(result.report.written)
    posts = "post" if result.posts == 1 else "posts"
    click.echo(
        f"built {result.files} files from {result.posts} {posts} in {result.seconds:.2f} s "
        f"({changed} written, {result.report.unchanged} unchanged, {len(result.report.removed)} removed)"
        f" → {config.output_dir}"
    )
    if result.errors and exit_on_error:
        sys.exit(1)


def _until_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """ "now" in any case; dates are checked with the rest of the choice, in the same words everywhere."""
    return "now" if value and value.strip().lower() == "now" else value


# the options that choose an issue, shared with `syndicate digest`
issue_options = [
    click.option(
        "--week",
        metavar="PERIOD",
        help="A period's issue instead of the next one: 2013-W16, 2013-04-16 or 2013-04; last or this week.",
    ),
    click.option("--since", metavar="DATE", help="Start the issue here; older posts are never mailed."),
    click.option(
        "--until",
        metavar="DATE|now",
        callback=_until_option,
        help="End the issue after this day, or now (default: the end of the last finished period).",
    ),
    click.option("--now", "now_s", metavar="DATETIME", help="The clock: what time it is (default: the real time)."),
    click.option("--today", "today_s", metavar="DATE", help="The clock: the start of this day."),
]


def with_issue_options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(issue_options):
        command = option(command)
    return command
