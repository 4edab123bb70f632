"""What every command module shares: help settings, the --site option, config loading,
"today" and "now", and how warnings are printed. No commands here."""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from syndicate import CONFIG_NAME, Config, SyndicateError, find_config, load_config

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


def refuse_placeholders(config: Config) -> None:
    """Stop before sending while syndicate.toml still holds what `init` wrote for the user to replace."""
    from syndicate import placeholders_left

    left = placeholders_left(config)
    if left:
        raise click.ClickException(
            f"{config.path}: still the placeholders 'syndicate init' wrote; set {', '.join(left)} before sending"
        )


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


def build_once(config: Config, today_s: str | None, keep_going: bool, no_cache: bool, *, exit_on_error: bool) -> None:
    from syndicate import build_site

    try:
        progress = _progress if sys.stderr.isatty() else None
        result = build_site(
            config, today_from(today_s, config), warn, keep_going=keep_going, use_cache=not no_cache, progress=progress
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
