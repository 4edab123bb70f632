"""`syndicate send`: one issue to every subscriber, resumably; or its status, a test copy, a dry run."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, get_args
from zoneinfo import ZoneInfo

import click

from syndicate import SMTP_RETRY_DELAYS, SmtpSecurity, SyndicateError
from syndicate.cli.common import CONTEXT, now_in, refuse_placeholders, site_config, site_option, today_from, warn

if TYPE_CHECKING:  # the library is imported when a command runs: `syndicate --version` stays fast
    from syndicate import Config, IssueChoice, SendOptions, SendReport, SmtpOverrides


def _week_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        from syndicate import parse_week

        try:
            parse_week(value, ZoneInfo("UTC"))  # only the form is checked here; the site's zone applies later
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from None
    return value


def _day_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter("--since and --until take dates like 2013-04-15") from None
    return value


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
@click.option("--week", metavar="YYYY-Www", callback=_week_option, help="The issue's ISO week (default: last week).")
@click.option(
    "--since", metavar="DATE", callback=_day_option, help="With --until: any window of days instead of a week."
)
@click.option("--until", metavar="DATE", callback=_day_option, help="Last day of the window (inclusive).")
@click.option("--today", "today_s", metavar="DATE", help="Treat this date as today (posts after it stay out).")
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
@click.option("--smtp-host", metavar="HOST", help="Override [smtp] host.")
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="Override [smtp] port.")
@click.option("--smtp-security", type=click.Choice(get_args(SmtpSecurity)), help="Override [smtp] security.")
@click.option("--status", "show_status", is_flag=True, help="Show where the issue (or every issue) stands, and exit.")
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
    today_s: str | None,
    dry_run: Path | None,
    to: str | None,
    rate: float | None,
    smtp_host: str | None,
    smtp_port: int | None,
    smtp_security: str | None,
    show_status: bool,
    resend_unknown: bool,
    retry_failed: bool,
    mark_sent: tuple[str, ...],
    retry_delays: tuple[float, ...],
    site: Path,
) -> None:
    """Send an issue of the digest to every subscriber who has not had it.

    Resumable: a send log in the database records every recipient, so running
    the same command again after a crash or an interruption sends to the rest
    and to nobody twice. A recipient whose outcome is unknown (the sender
    stopped while the server was taking the message) is listed for review and
    only resent with --resend-unknown. The SMTP password comes from
    SYNDICATE_SMTP_PASSWORD, the unsubscribe-link secret from SYNDICATE_SECRET.

    \b
    Example:
      syndicate send --week 2013-W16 --dry-run /tmp/digest
      syndicate send --week 2013-W16 --to me@example.org
      syndicate send --week 2013-W16 --rate 10
      syndicate send --week 2013-W16 --status
    """
    from syndicate import SMTP_PASSWORD_ENV, IssueChoice, SendOptions, SmtpOverrides

    if (since or until) and (week or not (since and until)):
        raise click.UsageError("give --week 2013-W16, or --since DATE and --until DATE, not both")
    config = site_config(site)
    if not (show_status or mark_sent or dry_run is not None):
        refuse_placeholders(config)  # init's placeholders never go out as real mail
    choice = IssueChoice(today_from(today_s, config), week, since, until)
    security = cast(SmtpSecurity | None, smtp_security)  # click.Choice has checked it
    smtp = SmtpOverrides(smtp_host, smtp_port, security, os.environ.get(SMTP_PASSWORD_ENV, ""))
    if show_status:
        _print_status(config, choice)
    elif mark_sent:
        _mark_sent(config, choice, mark_sent)
    elif to:
        _send_test_copy(config, choice, to, smtp)
    elif dry_run is not None:
        _write_dry_run(config, choice, dry_run)
    else:
        options = SendOptions(
            rate=config.smtp.rate if rate is None else rate,
            retry_delays=retry_delays,
            resend_unknown=resend_unknown,
            retry_failed=retry_failed,
        )
        _send(config, choice, smtp, options)


def _print_status(config: Config, choice: IssueChoice) -> None:
    from syndicate import send_status

    key, statuses = send_status(config, choice)
    if not statuses:
        click.echo(f"nothing has been sent for {key}" if key else "nothing has been sent yet")
        return
    for status in statuses:
        shown = ", ".join(f"{count} {state}" for state, count in status.counts)
        click.echo(f"{status.issue}: {status.recipients} recipients: {shown}")
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


def _send(config: Config, choice: IssueChoice, smtp: SmtpOverrides, options: SendOptions) -> None:
    from syndicate import secret_from_env, send_issue

    secret = secret_from_env(os.environ)
    with ExitStack() as stack, _progress(stack) as (on_plan, step):
        report = send_issue(
            config,
            choice,
            warn,
            secret,
            smtp=smtp,
            options=options,
            clock=lambda: now_in(config),  # read for each change the send log records
            on_plan=on_plan,
            progress=step,
        )
    _print_report(report)


def _print_report(report: SendReport) -> None:
    click.echo(
        f"{report.issue}: sent {report.sent}, skipped {report.skipped}, failed {report.failed}, "
        f"deferred {report.deferred}, unknown {len(report.unknown)}"
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
    if not report.clean:
        hint = "run the same command later to retry the deferred ones" if report.deferred else "see above"
        raise SyndicateError(
            f"{report.failed + report.deferred + len(report.unknown)} recipients did not get {report.issue}; {hint}"
        )
