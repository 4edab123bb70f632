"""`syndicate inbox SOURCE`: read bounces, complaints and unsubscribes back from a mailbox."""

from __future__ import annotations

import os
from pathlib import Path

import click

from syndicate.cli.common import CONTEXT, now_in, site_config, site_option


@click.command("inbox", context_settings=CONTEXT)
@click.argument("source")
@click.option("--dry-run", is_flag=True, help="Only report what would change; touch neither the list nor the mailbox.")
@click.option(
    "--move-to",
    metavar="FOLDER",
    default=None,
    help="Move handled messages to this folder instead of flagging them (default: [inbox] handled_folder).",
)
@site_option
def inbox(source: str, dry_run: bool, move_to: str | None, site: Path) -> None:
    """Act on the bounces, complaints and mailto unsubscribes in SOURCE.

    SOURCE is a maildir, an mbox file, or an IMAP folder as
    imaps://USER@HOST/FOLDER (the password comes from SYNDICATE_IMAP_PASSWORD).
    A hard bounce marks the subscriber bounced; soft bounces add up to a bounce
    ([inbox] soft_bounce_threshold, half_life_days); a complaint unsubscribes
    and suppresses the address; a mailto unsubscribe unsubscribes. Handled
    messages are flagged (or moved), never deleted; the others are left alone
    and listed.

    \b
    Examples:
      syndicate inbox ~/Maildir/.Bounces --dry-run
      SYNDICATE_IMAP_PASSWORD=… syndicate inbox imaps://me@mail.example.org/INBOX
    """
    from syndicate import IMAP_PASSWORD_ENV, read_inbox, secret_from_env

    config = site_config(site)
    password = os.environ.get(IMAP_PASSWORD_ENV, "")
    secret = secret_from_env(os.environ)
    report = read_inbox(config, source, secret, password, now_in(config), dry_run=dry_run, move_to=move_to)
    for line in report.changes:
        click.echo(line)
    for line in report.events:
        click.echo(line)
    for line in report.unmatched:
        click.echo(f"unmatched: {line}")
    would = " (dry run: nothing changed)" if dry_run else ""
    click.echo(
        f"{source}: read {report.read} messages: {report.handled} handled, {len(report.changes)} subscribers "
        f"changed, {report.already} handled before, {report.ignored} auto-replies or delay warnings ignored, "
        f"{len(report.unmatched)} unmatched{would}"
    )
