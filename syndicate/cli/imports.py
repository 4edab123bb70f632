"""`syndicate import`: the click command only; the work is in build/importing.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from syndicate import CONFIG_NAME, DEFAULT_MAX_BYTES, find_config, load_config
from syndicate.cli.common import CONTEXT
from syndicate.cli.common import warn as _warn

_FOLDER = click.Path(path_type=Path, file_okay=False)


@click.command("import", context_settings=CONTEXT)
@click.argument("source")
@click.option("--into", required=True, type=_FOLDER, help="Folder for the Markdown files (created when missing).")
@click.option("--dry-run", is_flag=True, help="List what would be written; write nothing.")
@click.option(
    "--assume-date", is_flag=True, help="Date items that have none from the feed instead of leaving them out."
)
@click.option("--pages", is_flag=True, help="WordPress export: import its pages too.")
@click.option(
    "--attachments", is_flag=True, help="WordPress export: download its whole media library (needs --images)."
)
@click.option(
    "--images", type=_FOLDER, default=None, help="Download the posts' images here and point their links at them."
)
@click.option(
    "--images-url",
    default=None,
    metavar="URL",
    help="The address the --images folder is served at.  [default: its path from the site's folder]",
)
@click.option(
    "--redirects",
    type=_FOLDER,
    default=None,
    help="WordPress export: folder for the redirect map (redirects.nginx, _redirects).  [default: the site's folder]",
)
@click.option(
    "--max-pages",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Feed pages and archives to read at most.",
)
@click.option(
    "--site",
    type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
    default=None,
    help=f"The site's folder (or its {CONFIG_NAME}), for its time zone and max_feed_bytes.  [default: .]",
)
def import_command(
    source: str,
    into: Path,
    dry_run: bool,
    assume_date: bool,
    pages: bool,
    attachments: bool,
    images: Path | None,
    images_url: str | None,
    redirects: Path | None,
    max_pages: int,
    site: Path | None,
) -> None:
    """Import the posts of an existing feed, or of a WordPress export, as Markdown files.

    SOURCE is an RSS (0.9x, 1.0, 2.0), Atom (0.3, 1.0) or JSON Feed file, its
    http(s) URL, or a WordPress export (WXR, Tools → Export). Every post becomes one
    Markdown file in --into, named DATE-SLUG.md, with front matter (id, url, date,
    updated, tags, categories, author, summary) and its content as sanitized HTML.
    A feed's older pages and archives are followed. Run it again to pick up changes:
    files are found by their id and updated in place, never duplicated, and only
    when this source wrote them.

    \b
    Example:
      syndicate import https://blog.example.org/feed/ --into posts/ --dry-run
      syndicate import samples/wordpress-general.xml --into posts/imported
      syndicate import export.xml --into posts/imported --images static/images
    """
    from syndicate import ImportExtras, import_feed

    tz, max_bytes = ZoneInfo("UTC"), DEFAULT_MAX_BYTES
    extras = ImportExtras(
        pages=pages,
        attachments=attachments,
        images=images,
        images_url=images_url,
        redirects=redirects,
        max_pages=max_pages,
        root=Path("."),  # without a site, the redirect map goes to the current folder
    )
    if site is not None or (Path(".") / CONFIG_NAME).is_file():
        config = load_config(find_config(site if site is not None else Path(".")))
        tz, max_bytes = config.site.timezone, config.max_feed_bytes
        folders = tuple(Path(s.location) for s in config.sources if s.kind == "markdown")
        extras = replace(extras, site=config.site, root=config.root, look_in=folders)
    click.echo(f"reading {source} …", err=True)
    result = import_feed(
        source, into, tz=tz, warn=_warn, max_bytes=max_bytes, dry_run=dry_run, assume_date=assume_date, extras=extras
    )
    _report(result, into, dry_run)


def _report(result: object, into: Path, dry_run: bool) -> None:
    from syndicate import ImportResult

    assert isinstance(result, ImportResult)
    verbs = (
        {"create": "created", "update": "updated"}
        if not dry_run
        else {"create": "would create", "update": "would update"}
    )
    for planned in result.files:
        if planned.action != "unchanged":
            click.echo(f"{verbs[planned.action]} {planned.path}  ({planned.title})")
    for note in result.notes:
        click.echo(note)
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    created, updated, unchanged = (result.count(a) for a in ("create", "update", "unchanged"))
    items = "item" if len(result.files) == 1 else "items"
    summary = f"{len(result.files)} {items}: {created} new, {updated} changed, {unchanged} unchanged → {into}"
    click.echo(f"dry run, nothing written: {summary}" if dry_run else f"imported {summary}")
    if result.errors:
        count = len(result.errors)
        raise click.ClickException(f"{count} {'item' if count == 1 else 'items'} could not be imported (see above)")
