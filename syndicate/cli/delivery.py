"""Delivery commands: `subscribers`, `send` and `serve`. Options in, library calls, lines out."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import click

from syndicate.cli.common import CONTEXT, site_option
from syndicate.cli.common import site_config as _config
from syndicate.cli.common import today_from as _today
from syndicate.cli.common import warn as _warn
from syndicate.config import SMTP_RETRY_DELAYS, Config
from syndicate.errors import DeliveryError, SyndicateError
from syndicate.subscribers import csvfile
from syndicate.subscribers import store as subs


def _now(config: Config) -> datetime:
    return datetime.now(config.site.timezone).replace(microsecond=0)  # the clock, read at the edge


def _open(config: Config) -> Any:
    return subs.connect(subs.database_path(config.database))


# ------------------------------------------------------------------------------------------ subscribers


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
    config = _config(site)
    conn = _open(config)
    report = csvfile.import_csv(conn, file, _now(config))
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(
        f"imported {file}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.errors)} rows skipped"
    )
    if report.errors:
        raise DeliveryError(f"{len(report.errors)} rows skipped; fix them and import the file again", path=file)


@subscribers.command("export", context_settings=CONTEXT)
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--status", type=click.Choice(subs.STATUSES), help="Only subscribers with this status.")
@site_option
def export_command(file: Path | None, status: str | None, site: Path) -> None:
    """Write every subscriber as CSV (to FILE, or to standard output); it can be imported back.

    \b
    Example:
      syndicate subscribers export backup.csv
    """
    config = _config(site)
    rows = subs.all_subscribers(_open(config), cast(subs.Status | None, status))
    if file is None:
        csvfile.export_csv(rows, sys.stdout)
        return
    from io import StringIO

    from syndicate.output import atomic_write

    buffer = StringIO()
    count = csvfile.export_csv(rows, buffer)
    atomic_write(file, buffer.getvalue().encode("utf-8"))
    click.echo(f"exported {count} subscribers to {file}", err=True)


@subscribers.command("add", context_settings=CONTEXT)
@click.argument("email")
@click.option("--name", default=None, help="The name used in the greeting.")
@click.option("--tags", default=None, metavar="TAG;TAG", help='Only posts with one of these tags ("" for all).')
@click.option("--resubscribe", is_flag=True, help="Subscribe again someone who unsubscribed or bounced.")
@site_option
def add_command(email: str, name: str | None, tags: str | None, resubscribe: bool, site: Path) -> None:
    """Add a subscriber, or update the name (and tags) of one already there.

    \b
    Example:
      syndicate subscribers add ann@example.org --name "Ann Lee" --tags "OpenStack; SDN"
    """
    config = _config(site)
    try:
        tag_update: subs.TagUpdate = subs.KEEP if tags is None else subs.parse_tags(tags)
    except subs.InvalidAddress as exc:
        raise click.BadParameter(str(exc), param_hint="--tags") from None
    outcome, sub = subs.add(_open(config), email, name, _now(config), tags=tag_update, resubscribe=resubscribe)
    click.echo(f"{outcome} {sub.email} ({sub.status})")
    if sub.status != "subscribed":
        click.echo(f"note: {sub.email} is {sub.status}; pass --resubscribe to subscribe them again", err=True)


@subscribers.command("remove", context_settings=CONTEXT)
@click.argument("email")
@click.option("--forget", is_flag=True, help="Delete the record instead (a later import could add them back).")
@site_option
def remove_command(email: str, forget: bool, site: Path) -> None:
    """Unsubscribe an address (kept as unsubscribed, so imports cannot bring it back).

    \b
    Example:
      syndicate subscribers remove ann@example.org
    """
    config = _config(site)
    sub = subs.remove(_open(config), email, _now(config), forget=forget)
    click.echo(f"{'deleted' if forget else 'unsubscribed'} {sub.email}")


@subscribers.command("list", context_settings=CONTEXT)
@click.option("--status", type=click.Choice(subs.STATUSES), help="Only subscribers with this status.")
@site_option
def list_command(status: str | None, site: Path) -> None:
    """List subscribers (email, status, tags, name) and the counts per status.

    \b
    Example:
      syndicate subscribers list --status subscribed
    """
    config = _config(site)
    conn = _open(config)
    rows = subs.all_subscribers(conn, cast(subs.Status | None, status))
    width = max((len(s.email) for s in rows), default=5)
    for sub in rows:
        tags = subs.format_tags(sub.tags) or "*"
        click.echo(f"{sub.email:<{width}}  {sub.status:<12}  {tags:<20}  {sub.name}".rstrip())
    totals = subs.counts(conn)
    click.echo(
        f"{sum(totals.values())} subscribers: {totals['subscribed']} subscribed, "
        f"{totals['unsubscribed']} unsubscribed, {totals['bounced']} bounced"
    )


# ------------------------------------------------------------------------------------------ send


def _issue_key(config: Config, week: str | None, since: str | None, until: str | None) -> str:
    from syndicate.render.select import parse_week

    if week:
        try:
            return parse_week(week, config.site.timezone).key
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from None
    try:
        first, last = date.fromisoformat(str(since)), date.fromisoformat(str(until))
    except ValueError:
        raise click.BadParameter("--since and --until take dates like 2013-04-15") from None
    return f"{first.isoformat()}..{last.isoformat()}"


def _last_week(config: Config, today: date) -> str:
    from syndicate.render.select import week_of

    tz = config.site.timezone
    return week_of(datetime.combine(today - timedelta(days=7), time(12), tzinfo=tz), tz).key


def _check_archived(config: Config, week: str) -> None:
    """Last week, sent by default (from a weekly cron job), must be one the archive has."""
    from syndicate.newsletter.issue import in_archive
    from syndicate.render.select import parse_week

    if not in_archive(config, parse_week(week, config.site.timezone)):
        raise DeliveryError(
            f"last week ({week}) is before [digest] since = {config.digest.since}, so it has no issue; "
            "name a week with --week to send one anyway"
        )


def _print_status(conn: Any, key: str | None) -> None:
    from syndicate.subscribers.sendlog import STATES, log_rows

    rows = log_rows(conn, key)
    if not rows:
        click.echo(f"nothing has been sent for {key}" if key else "nothing has been sent yet")
        return
    by_issue: dict[str, list[Any]] = {}
    for row in rows:
        by_issue.setdefault(row.issue, []).append(row)
    for issue, members in by_issue.items():
        counts = {state: sum(1 for r in members if r.state == state) for state in STATES}
        shown = ", ".join(f"{counts[s]} {s}" for s in STATES if counts[s])
        click.echo(f"{issue}: {len(members)} recipients: {shown}")
        for row in members:
            if row.state == "sending":
                click.echo(
                    f"  unknown   {row.email}  {row.detail or 'the sender stopped while sending'}  ({row.updated})"
                )
            elif row.state in ("failed", "deferred"):
                click.echo(f"  {row.state:<9} {row.email}  {row.detail}  (attempts: {row.attempts})")


@contextmanager
def _progress(stack: ExitStack) -> Iterator[tuple[Callable[[str, int], None], Callable[[int], None]]]:
    bar: list[Any] = []

    def on_plan(key: str, count: int) -> None:
        if sys.stderr.isatty() and count:
            bar.append(stack.enter_context(click.progressbar(length=count, label=f"sending {key}", file=sys.stderr)))

    def step(n: int) -> None:
        if bar:
            bar[0].update(n)

    yield on_plan, step


def _delays(text: str) -> tuple[float, ...]:
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
@click.option("--week", metavar="YYYY-Www", help="The issue's ISO week (default: last week).")
@click.option("--since", metavar="DATE", help="With --until: any window of days instead of a week.")
@click.option("--until", metavar="DATE", help="Last day of the window (inclusive).")
@click.option("--today", "today_s", metavar="DATE", help="Treat this date as today (posts after it stay out).")
@click.option(
    "--dry-run",
    "dry_run",
    metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the personalised messages to DIR as .eml files instead of sending.",
)
@click.option("--to", "to", metavar="ADDRESS", help="Send one test copy to ADDRESS (not recorded as a delivery).")
@click.option("--rate", type=click.FloatRange(min=0), help="Messages per second (default: [smtp] rate; 0: no limit).")
@click.option("--smtp-host", metavar="HOST", help="Override [smtp] host.")
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="Override [smtp] port.")
@click.option("--smtp-security", type=click.Choice(["starttls", "ssl", "none"]), help="Override [smtp] security.")
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
    default=",".join(f"{delay:g}" for delay in SMTP_RETRY_DELAYS),
    show_default=True,
    metavar="SECONDS,...",
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
    retry_delays: str,
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
    from syndicate.build.newsletter import compose_window
    from syndicate.delivery import send as mail
    from syndicate.delivery.proofs import write_dry_run
    from syndicate.delivery.smtp import SmtpTransport, smtp_target
    from syndicate.newsletter.issue import unsubscribe_url
    from syndicate.newsletter.message import ComposedIssue, Recipient, personalize
    from syndicate.subscribers import sendlog
    from syndicate.subscribers.tokens import secret_from_env

    if (since or until) and (week or not (since and until)):
        raise click.UsageError("give --week 2013-W16, or --since DATE and --until DATE, not both")
    config = _config(site)
    today = _today(today_s, config)
    conn = _open(config)
    explicit = bool(week or since)
    if show_status:
        _print_status(conn, _issue_key(config, week, since, until) if explicit else None)
        return
    if not explicit:
        week = _last_week(config, today)
        _check_archived(config, week)
    key = _issue_key(config, week, since, until)
    if mark_sent:
        for address in mark_sent:
            done = sendlog.mark_sent(conn, key, address, _now(config))
            click.echo(f"{key}: {address}: {'marked sent' if done else 'no unknown outcome to resolve'}")
        return

    def compose(tags: frozenset[str] | None) -> ComposedIssue | None:
        return compose_window(config, today, _warn, week=week, since=since, until=until, tags=tags)

    def personal(issue: ComposedIssue, recipient: Recipient) -> Any:
        return personalize(config, issue, recipient)

    sender = config.sender_address()
    security = cast(Literal["starttls", "ssl", "none"] | None, smtp_security)
    if to:
        _send_test_copy(config, conn, compose, personal, to, sender, smtp_host, smtp_port, security)
        return
    head = mail.Letterhead(sender, secret_from_env(os.environ), unsubscribe_url(config))
    if dry_run is not None:
        written = write_dry_run(conn, compose, personal, head, dry_run)
        click.echo(f"{key}: wrote {len(written)} messages to {dry_run} (nothing sent)")
        return
    target = smtp_target(config.smtp, host=smtp_host, port=smtp_port, security=security, environ=os.environ)
    options = mail.SendOptions(
        rate=config.smtp.rate if rate is None else rate,
        retry_delays=_delays(retry_delays),
        resend_unknown=resend_unknown,
        retry_failed=retry_failed,
    )
    tz = config.site.timezone
    with ExitStack() as stack, _progress(stack) as (on_plan, step):
        stack.enter_context(mail.send_lock(subs.database_path(config.database)))
        transport = stack.enter_context(SmtpTransport(target))
        report = mail.send_issue(
            conn,
            compose,
            personal,
            transport,
            head,
            options=options,
            clock=lambda: datetime.now(tz),
            on_plan=on_plan,
            progress=step,
        )
    _print_report(report)


def _send_test_copy(
    config: Config,
    conn: Any,
    compose: Callable[[frozenset[str] | None], Any],
    personal: Callable[[Any, Any], Any],
    to: str,
    sender: str,
    host: str | None,
    port: int | None,
    security: Literal["starttls", "ssl", "none"] | None,
) -> None:
    from syndicate.delivery.proofs import send_test_copy
    from syndicate.delivery.smtp import SmtpTransport, smtp_target
    from syndicate.newsletter.issue import unsubscribe_url
    from syndicate.newsletter.message import Recipient

    try:
        address = subs.normalize_email(to)
    except subs.InvalidAddress as exc:
        raise click.BadParameter(f"{to!r} is not a valid address: {exc}", param_hint="--to") from None
    known = subs.find(conn, address)
    issue = compose(known.tags if known else None)
    if issue is None:
        raise DeliveryError("this week has no posts; there is nothing to send")
    # a test copy's unsubscribe link carries no token: clicking it must not unsubscribe anyone
    recipient = Recipient(email=address, name=known.name if known else "", unsubscribe_url=unsubscribe_url(config))
    target = smtp_target(config.smtp, host=host, port=port, security=security, environ=os.environ)
    reply = send_test_copy(SmtpTransport(target), sender, address, personal(issue, recipient))
    if reply.kind != "accepted":
        raise DeliveryError(f"the test copy to {address} was not accepted: {reply.describe()}")
    click.echo(f"{issue.key}: sent a test copy to {address} ({reply.describe()})")


def _print_report(report: Any) -> None:
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
        raise DeliveryError(
            f"{report.failed + report.deferred + len(report.unknown)} recipients did not get {report.issue}; {hint}"
        )


# ------------------------------------------------------------------------------------------ serve


@click.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--watch", is_flag=True, help="Rebuild when posts, templates or syndicate.toml change.")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@site_option
def serve(host: str, port: int, watch: bool, quiet: bool, site: Path) -> None:
    """Preview the output folder over HTTP, with the one-click unsubscribe endpoint.

    Feeds get their real media types, ETag/Last-Modified with 304 answers, and
    gzip, as a feed reader sees them from a production server. For production,
    run `syndicate.web:app` under a WSGI server (see the README).

    \b
    Example:
      syndicate serve --port 8000 --watch
    """
    from syndicate.subscribers.tokens import secret_from_env
    from syndicate.web.wsgi import local_server, make_app

    config = _config(site)
    try:
        secret_from_env(os.environ)
    except SyndicateError as exc:
        _warn(f"unsubscribe links will answer 503: {exc}")
    if not watch and not config.output_dir.is_dir():
        _warn(f"{config.output_dir} does not exist yet; run `syndicate build` first")
    log = None if quiet else (lambda line: click.echo(line, err=True))
    try:
        server = local_server(make_app(config, preview=True, environ=os.environ), host, port, log)
    except OSError as exc:
        raise DeliveryError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from None
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"serving {config.output_dir} at http://{shown_host}:{server.server_port}/ (Ctrl+C to stop)")
    if not watch:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
        finally:
            server.server_close()
        return
    from syndicate.cli.common import build_once
    from syndicate.cli.watch import watch_and_rebuild

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        build_once(config, None, False, False, exit_on_error=False)
        watch_and_rebuild(config, lambda: build_once(_config(site), None, False, False, exit_on_error=False))
    finally:
        server.shutdown()
        server.server_close()
