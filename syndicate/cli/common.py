"""What every command module shares: help settings, the --site option, config loading,
"today" and "now", and how warnings are printed. No commands here."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from syndicate import CONFIG_NAME, Config, SyndicateError, find_config, load_config, printable

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

site_option = click.option(
    "--site",
    type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
    default=Path("."),
    show_default=True,
    help="The site's folder (or its syndicate.toml).",
)


def warn(message: str) -> None:
    click.echo(f"warning: {printable(message)}", err=True)


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


def discover_site(site: Path) -> Path:
    """The folder (or syndicate.toml) to use: `site` itself, else the nearest folder above it
    that holds syndicate.toml, as git finds .git; `site` unchanged when there is none."""
    if site.suffix == ".toml" or (site / CONFIG_NAME).is_file():
        return site
    for folder in site.resolve().parents:
        if (folder / CONFIG_NAME).is_file():
            return folder
    return site


def site_config(site: Path, out: Path | None = None) -> Config:
    return load_config(find_config(discover_site(site)), output_dir=out)


def refuse_placeholders(config: Config, *, sending: bool = True) -> None:
    """Stop before sending (real mail: test copies too) while syndicate.toml still holds what
    `init` wrote for the user to replace."""
    from syndicate import placeholders_left

    left = placeholders_left(config) if sending else []
    if left:
        raise click.ClickException(
            f"{config.path}: still the placeholders 'syndicate init' wrote; set {', '.join(left)} before sending"
        )


def machine_language() -> str:
    """The machine's language as a BCP 47 tag (LC_ALL, LC_MESSAGES or LANG: en_GB.UTF-8 is en-GB),
    else en: what `init` writes, read at the edge. Its country decides how 03/04/2026 reads."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "").split(".")[0].split("@")[0]
        if value and value not in ("C", "POSIX") and value.replace("_", "").isalpha():
            return value.replace("_", "-")
    return "en"


def machine_timezone() -> str:
    """The machine's IANA time zone name (TZ, /etc/timezone, or where /etc/localtime points), else UTC:
    what `init` writes, read at the edge."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        target = os.readlink("/etc/localtime")
        candidates.append(target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "")
    for name in candidates:
        if name and not name.startswith("/"):
            try:
                ZoneInfo(name)
            except (ValueError, ZoneInfoNotFoundError):
                continue
            return name
    return "UTC"


def print_errors(exc: SyndicateError) -> str:
    """The first problem an error gathers (the posts that could not be read), on one line; returns
    the error's own message with the count, and how to see them all. A refusal is at most three
    lines however many posts fail: `--keep-going` lists every one."""
    gathered = getattr(exc, "errors", ())
    if gathered:
        click.echo(f"error: {gathered[0]}", err=True)
    if len(gathered) > 1:
        return f"{exc}; the first of them is above: 'syndicate build --keep-going' lists them all and builds the rest"
    return str(exc)


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
        click.echo(f"error: {print_errors(exc)}", err=True)
        return
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    changed = len(result.report.written)
    posts = "post" if result.posts == 1 else "posts"
    waiting = "post" if result.future == 1 else "posts"
    future = f"; {result.future} future {waiting} left out until their day" if result.future else ""
    click.echo(
        f"built {result.files} files from {result.posts} {posts} in {result.seconds:.2f} s "
        f"({changed} written, {result.report.unchanged} unchanged, {len(result.report.removed)} removed{future})"
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
