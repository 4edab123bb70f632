"""`syndicate send`: one issue to every subscriber, resumably; or its status, a test copy, a dry run."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, get_args

import click

from syndicate import SMTP_RETRY_DELAYS, SmtpSecurity, SyndicateError
from syndicate.cli.common import (
    CONTEXT,
    clock_from,
    now_in,
    refuse_placeholders,
    site_config,
    site_option,
    warn,
    with_issue_options,
)

if TYPE_CHECKING:  # the library is imported when a command runs: `syndicate --version` stays fast
    from syndicate import Config, IssueChoice, SendOptions, SendReport, SmtpOverrides


def _address_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from syndicate import InvalidAddress, normalize_email

    try:
        return normalize_email(value)
    except InvalidAddress as exc:
        raise click.BadParameter(f"{value!r} is not a valid address: {exc}", param_hint="--to") from None


def _delays_option(_ctx: click.Context, _param: click.Parameter, text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(
            "give seconds separated by commas, such as 1,5,20", param_hint="--retry-delays"
        ) from None
    if any(v < 0 for v in values) or len(values) > 10:
        raise click.BadParameter("at most 10 waits, none negative", param_hint="--retry-delays")
    return values


@click.command(context_settings=CONTEXT)
@with_issue_options
@click.option(
    "--dry-run",
    "dry_run",
    metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the personalised messages to DIR as .eml files instead of sending.",
)
@click.option(
    "--to",
    "to",
    metavar="ADDRESS",
    callback=_address_option,
    help="Send one test copy to ADDRESS (not recorded as a delivery).",
)
@click.option("--rate", type=click.FloatRange(min=0), help="Messages per second (default: [smtp] rate; 0: no limit).")
@click.option(
    "--connections", type=click.IntRange(1, 100), help="SMTP connections at once (default: [smtp] connections, 16)."
)
@click.option("--smtp-host", metavar="HOST", help="Override [smtp] host.")
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="Override [smtp] port.")
@click.option("--smtp-security", type=click.Choice(get_args(SmtpSecurity)), help="Override [smtp] security.")
@click.option("--status", "show_status", is_flag=True, help="Show where the issue (or every issue) stands, and exit.")
@click.option("--verbose", "-v", is_flag=True, help="With --status: every recipient, with the reason.")
@click.option(
    "--max-posts",
    type=click.IntRange(min=0),
    help="Send an issue of up to this many posts (default: [digest] max_posts; 0: no limit).",
)
@click.option("--resend-unknown", is_flag=True, help="Also send to recipients whose earlier outcome is unknown.")
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Also send again to recipients the server refused (5xx); re-subscribe bounced ones first.",
)
@click.option(
    "--mark-sent",
    multiple=True,
    metavar="ADDRESS",
    help="After review: record an unknown outcome as delivered (repeatable), and exit.",
)
@click.option(
    "--retry-delays",
    default=",".join(f"{s:g}" for s in SMTP_RETRY_DELAYS),  # the library's default, as it is typed
    show_default=True,
    metavar="SECONDS,...",
    callback=_delays_option,
    help="Waits before retrying a 4xx answer within this run.",
)
@site_option
def send(
    week: str | None,
    since: str | None,
    until: str | None,
    now_s: str | None,
    today_s: str | None,
    dry_run: Path | None,
    to: str | None,
    rate: float | None,
    connections: int | None,
    smtp_host: str | None,
    smtp_port: int | None,
    smtp_security: str | None,
    show_status: bool,
    verbose: bool,
    max_posts: int | None,
    resend_unknown: bool,
    retry_failed: bool,
    mark_sent: tuple[str, ...],
    retry_delays: tuple[float, ...],
    site: Path,
) -> None:
    """Send the next issue of the newsletter to every subscriber.

    It carries every published post no sent issue carries, up to the end of
    the last finished period, and is recorded in the site's folder before the
    first message. A rerun goes on with it and sends to nobody twice.
    Secrets come from SYNDICATE_SECRET and SYNDICATE_SMTP_PASSWORD.

    \b
    Example:
      syndicate send --dry-run /tmp/digest
      syndicate send --until now
      syndicate send --status --verbose
    """
    from syndicate import SMTP_PASSWORD_ENV, IssueChoice, SendOptions, SmtpOverrides

    config = site_config(site)
    refuse_placeholders(config, sending=not (show_status or mark_sent or dry_run is not None))
    rate = config.smtp.rate if rate is None else rate
    now = clock_from(now_s, today_s, config)
    choice = IssueChoice(now, week, since, until, max_posts)
    security = cast(SmtpSecurity | None, smtp_security)  # click.Choice has checked it
    smtp = SmtpOverrides(smtp_host, smtp_port, security, os.environ.get(SMTP_PASSWORD_ENV, ""))
    if show_status:
        _print_status(config, choice, verbose)
    elif mark_sent:
        _mark_sent(config, choice, mark_sent)
    elif to:
        _send_test_copy(config, choice, to, smtp)
    elif dry_run is not None:
        _write_dry_run(config, choice, dry_run)
    else:
        smtp_config = config.smtp
        options = SendOptions(
            rate, retry_delays, resend_unknown, retry_failed, connections or smtp_config.connections,
            smtp_config.max_per_hour, smtp_config.max_per_day,
        )  # fmt: skip
        fixed = bool(now_s or today_s)  # a given clock stands still: the same input gives the same bytes
        _send(config, choice, smtp, options, (lambda: now) if fixed else (lambda: now_in(config)))


STATE_WORDS = {
    "pending": "waiting",
    "sending": "unknown",
    "sent": "sent",
    "failed": "failed",
    "deferred": "deferred",
    "skipped": "nothing matched their tags",
}


def _print_status(config: Config, choice: IssueChoice, verbose: bool) -> None:
    from syndicate import send_status

    key, statuses = send_status(config, choice)
    if not statuses:
        click.echo(f"nothing has been sent for {key}" if key else "nothing has been sent yet")
        return
    for status in statuses:
        shown = ", ".join(f"{count} {STATE_WORDS[state]}" for state, count in status.counts)
        click.echo(f"{status.issue}: {status.recipients} recipients: {shown}")
        if verbose:
            width = max(len(row.email) for row in status.rows)
            for row in status.rows:
                reason = row.detail or ("the sender stopped while sending" if row.state == "sending" else "")
                click.echo(f"  {STATE_WORDS[row.state]:<9} {row.email:<{width}}  {reason}  ({row.updated})")
            continue
        for row in status.attention:
            if row.state == "sending":
                click.echo(
                    f"  unknown   {row.email}  {row.detail or 'the sender stopped while sending'}  ({row.updated})"
                )
            else:
                click.echo(f"  {row.state:<9} {row.email}  {row.detail}  (attempts: {row.attempts})")


def _mark_sent(config: Config, choice: IssueChoice, addresses: tuple[str, ...]) -> None:
    from syndicate import mark_sent

    key, results = mark_sent(config, choice, addresses, now_in(config))
    for address, done in results:
        click.echo(f"{key}: {address}: {'marked sent' if done else 'no unknown outcome to resolve'}")


def _send_test_copy(config: Config, choice: IssueChoice, address: str, smtp: SmtpOverrides) -> None:
    from syndicate import send_test_copy

    key, reply = send_test_copy(config, choice, warn, address, smtp)
    click.echo(f"{key}: sent a test copy to {address} ({reply})")


def _write_dry_run(config: Config, choice: IssueChoice, folder: Path) -> None:
    from syndicate import secret_from_env, write_dry_run

    key, written = write_dry_run(config, choice, warn, secret_from_env(os.environ), folder)
    click.echo(f"{key}: wrote {len(written)} messages to {folder} (nothing sent)")


@contextmanager
def _progress(stack: ExitStack) -> Iterator[tuple[Callable[[str, int], None], Callable[[int], None]]]:
    """A progress bar on a terminal, started once the number of recipients is known."""
    bar: list[Any] = []

    def on_plan(key: str, count: int) -> None:
        if sys.stderr.isatty() and count:
            bar.append(stack.enter_context(click.progressbar(length=count, label=f"sending {key}", file=sys.stderr)))

    def step(n: int) -> None:
        if bar:
            bar[0].update(n)

    yield on_plan, step


def _send(
    config: Config, choice: IssueChoice, smtp: SmtpOverrides, options: SendOptions, clock: Callable[[], datetime]
) -> None:
    from syndicate import secret_from_env, send_issue

    secret = secret_from_env(os.environ)
    with ExitStack() as stack, _progress(stack) as (on_plan, step):
        outcome = send_issue(
            config,
            choice,
            warn,
            secret,
            smtp=smtp,
            options=options,
            clock=clock,  # read when an issue begins and for each message's Date:
            on_plan=on_plan,
            progress=step,
        )
    if outcome.nothing:
        click.echo(outcome.nothing)
    for report in outcome.reports:
        _print_report(report)
    for key, count in outcome.unknown_elsewhere.items():
        warn(
            f"{key}: {count} recipients have no known outcome (their message went out, no answer came); "
            f"'syndicate send --status --week {key} --verbose' lists them, '--resend-unknown' sends to them again"
        )
    missed = [r for r in outcome.reports if not r.clean]
    if missed:
        count = sum(r.failed + r.deferred + len(r.unknown) + r.waiting for r in missed)
        hint = (
            "run the same command later to retry the deferred ones" if any(r.deferred for r in missed) else "see above"
        )
        raise SyndicateError(f"{count} recipients did not get {', '.join(r.issue for r in missed)}; {hint}")


def _print_report(report: SendReport) -> None:
    click.echo(
        f"{report.issue}: sent {report.sent}, already had it {report.already_had}, "
        f"nothing matched their tags {report.no_match}, deferred {report.deferred}, failed {report.failed}, "
        f"unknown {len(report.unknown)}"
    )
    if report.waiting:
        click.echo(f"  not tried yet: {report.waiting} ({report.stopped or 'the run stopped'}); run again to go on")
    if report.left or report.failed_before:
        click.echo(
            f"  not tried: {report.left} left the list since the issue began, "
            f"{report.failed_before} refused in an earlier run (--retry-failed to try again)"
        )
    for line in report.problems:
        click.echo(f"  {line}", err=True)
    if report.unknown:
        click.echo(
            "  outcome unknown (not resent): " + ", ".join(report.unknown) + "\n"
            "  check the SMTP server's log, then run again with --mark-sent ADDRESS for those delivered "
            "and --resend-unknown for the rest",
            err=True,
        )
