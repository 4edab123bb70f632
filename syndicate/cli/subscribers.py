"""`syndicate subscribers`: import, export, add, remove and list the digest's subscribers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from syndicate import SUBSCRIBER_STATUSES, SyndicateError
from syndicate.cli.common import CONTEXT, now_in, site_config, site_option

if TYPE_CHECKING:  # the library is imported when a command runs: `syndicate --version` stays fast
    from syndicate import SubscriberStatus, TagUpdate


@click.group("subscribers", context_settings=CONTEXT)
def subscribers() -> None:
    """Manage the digest's subscribers (an SQLite file: `database` in syndicate.toml).

    \b
    Example:
      syndicate subscribers import samples/subscribers.csv
      syndicate subscribers list
    """


@subscribers.command("import", context_settings=CONTEXT)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@site_option
def import_command(file: Path, site: Path) -> None:
    """Import subscribers from a CSV file with a header row: email,name[,tags].

    Tags are separated by ";" (a subscriber with tags gets only posts with one
    of them). Bad rows are reported with their line and skipped; the others are
    imported. Importing again never duplicates anyone, updates names, and never
    re-subscribes someone who unsubscribed.

    \b
    Example:
      syndicate subscribers import samples/subscribers.csv
    """
    from syndicate import import_subscribers

    config = site_config(site)
    report = import_subscribers(config, file, now_in(config))
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(
        f"imported {file}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.errors)} rows skipped"
        + (f", {report.suppressed} suppressed (erased or complained earlier; not added)" if report.suppressed else "")
    )
    if report.errors:
        raise SyndicateError(f"{len(report.errors)} rows skipped; fix them and import the file again", path=file)


@subscribers.command("export", context_settings=CONTEXT)
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--status", type=click.Choice(SUBSCRIBER_STATUSES), help="Only subscribers with this status.")
@site_option
def export_command(file: Path | None, status: str | None, site: Path) -> None:
    """Write every subscriber as CSV (to FILE, or to standard output); it can be imported back.

    \b
    Example:
      syndicate subscribers export backup.csv
    """
    from syndicate import export_subscribers

    count = export_subscribers(site_config(site), cast("SubscriberStatus | None", status), file or sys.stdout)
    if file is not None:
        click.echo(f"exported {count} subscribers to {file}", err=True)


def _tags_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> TagUpdate:
    from syndicate import KEEP_TAGS, InvalidAddress, parse_tags

    if value is None:
        return KEEP_TAGS
    try:
        return parse_tags(value)
    except InvalidAddress as exc:
        raise click.BadParameter(str(exc), param_hint="--tags") from None


@subscribers.command("add", context_settings=CONTEXT)
@click.argument("email")
@click.option("--name", default=None, help="The name used in the greeting.")
@click.option(
    "--tags",
    default=None,
    metavar="TAG;TAG",
    callback=_tags_option,
    help='Only posts with one of these tags ("" for all).',
)
@click.option("--resubscribe", is_flag=True, help="Subscribe again someone who unsubscribed or bounced.")
@site_option
def add_command(email: str, name: str | None, tags: TagUpdate, resubscribe: bool, site: Path) -> None:
    """Add a subscriber, or update the name (and tags) of one already there.

    \b
    Example:
      syndicate subscribers add ann@example.org --name "Ann Lee" --tags "OpenStack; SDN"
    """
    from syndicate import add_subscriber

    config = site_config(site)
    outcome, sub = add_subscriber(config, email, name, now_in(config), tags=tags, resubscribe=resubscribe)
    click.echo(f"{outcome} {sub.email} ({sub.status})")
    if sub.status != "subscribed":
        click.echo(f"note: {sub.email} is {sub.status}; pass --resubscribe to subscribe them again", err=True)


@subscribers.command("remove", context_settings=CONTEXT)
@click.argument("email")
@click.option(
    "--forget",
    is_flag=True,
    help="Erase the address everywhere instead, keeping only a salted hash so no later import adds it back.",
)
@site_option
def remove_command(email: str, forget: bool, site: Path) -> None:
    """Unsubscribe an address (kept as unsubscribed, so imports cannot bring it back).

    \b
    Example:
      syndicate subscribers remove ann@example.org
    """
    from syndicate import remove_subscriber

    config = site_config(site)
    sub = remove_subscriber(config, email, now_in(config), forget=forget)
    click.echo(f"{'deleted' if forget else 'unsubscribed'} {sub.email}")


@subscribers.command("list", context_settings=CONTEXT)
@click.option("--status", type=click.Choice(SUBSCRIBER_STATUSES), help="Only subscribers with this status.")
@site_option
def list_command(status: str | None, site: Path) -> None:
    """List subscribers (email, status, tags, name) and the counts per status.

    \b
    Example:
      syndicate subscribers list --status subscribed
    """
    from syndicate import format_tags, list_subscribers

    rows, totals = list_subscribers(site_config(site), cast("SubscriberStatus | None", status))
    width = max((len(s.email) for s in rows), default=5)
    for sub in rows:
        tags = format_tags(sub.tags) or "*"
        click.echo(f"{sub.email:<{width}}  {sub.status:<12}  {tags:<20}  {sub.name}".rstrip())
    click.echo(
        f"{sum(totals.values())} subscribers: {totals['subscribed']} subscribed, "
        f"{totals['unsubscribed']} unsubscribed, {totals['bounced']} bounced"
    )
