"""`syndicate import`: the click command only; the work is in build/importing.py."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click

from syndicate import CONFIG_NAME, DEFAULT_MAX_BYTES, find_config, load_config
from syndicate.cli.common import CONTEXT
from syndicate.cli.common import warn as _warn


@click.command("import", context_settings=CONTEXT)
@click.argument("source")
@click.option(
    "--into",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the Markdown files (created when missing).",
)
@click.option("--dry-run", is_flag=True, help="List what would be written; write nothing.")
@click.option(
    "--assume-date", is_flag=True, help="Date items that have none from the feed instead of leaving them out."
)
@click.option(
    "--site",
    type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
    default=None,
    help=f"The site's folder (or its {CONFIG_NAME}), for its time zone and max_feed_bytes.  [default: .]",
)
def import_command(source: str, into: Path, dry_run: bool, assume_date: bool, site: Path | None) -> None:
    """Import the posts of an existing feed as Markdown files.

    SOURCE is an RSS (0.9x, 1.0, 2.0), Atom (0.3, 1.0) or JSON Feed file, or its
    http(s) URL. Every item becomes one Markdown file in --into, named DATE-SLUG.md,
    with front matter (id, url, date, updated, tags, categories, author, summary)
    and the item's content as sanitized HTML. Run it again to pick up changes:
    files are found by their id, updated in place, never duplicated.

    \b
    Example:
      syndicate import https://blog.example.org/feed/ --into posts/ --dry-run
      syndicate import samples/wordpress-general.xml --into posts/imported
    """
    from syndicate import import_feed

    tz, max_bytes = ZoneInfo("UTC"), DEFAULT_MAX_BYTES
    if site is not None or (Path(".") / CONFIG_NAME).is_file():
        config = load_config(find_config(site if site is not None else Path(".")))
        tz, max_bytes = config.site.timezone, config.max_feed_bytes
    click.echo(f"reading {source} …", err=True)
    result = import_feed(source, into, tz=tz, warn=_warn, max_bytes=max_bytes, dry_run=dry_run, assume_date=assume_date)
    verbs = (
        {"create": "created", "update": "updated"}
        if not dry_run
        else {"create": "would create", "update": "would update"}
    )
    for planned in result.files:
        if planned.action != "unchanged":
            click.echo(f"{verbs[planned.action]} {planned.path}  ({planned.title})")
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    created, updated, unchanged = (result.count(a) for a in ("create", "update", "unchanged"))
    items = "item" if len(result.files) == 1 else "items"
    summary = f"{len(result.files)} {items}: {created} new, {updated} changed, {unchanged} unchanged → {into}"
    click.echo(f"dry run, nothing written: {summary}" if dry_run else f"imported {summary}")
    if result.errors:
        count = len(result.errors)
        raise click.ClickException(f"{count} {'item' if count == 1 else 'items'} could not be imported (see above)")
