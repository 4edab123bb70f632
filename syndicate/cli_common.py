"""What every command module shares: help settings, the --site option, config loading,
"today", and how warnings are printed. No commands here."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from .config import Config, find_config, load_config

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


def site_config(site: Path, out: Path | None = None) -> Config:
    return load_config(find_config(site), output_dir=out)
