"""The command line: parse options, call the library, print. Nothing else lives here.

Exit codes: 0 success, 1 an error the user can fix (one line saying where and
what), 2 a usage error (click's own).
"""

from __future__ import annotations

import errno
import sys
from datetime import datetime
from pathlib import Path

import click

from syndicate import Config, SyndicateError, __version__, printable
from syndicate.cli.common import (
    CONTEXT,
    build_once,
    clock_from,
    machine_language,
    machine_timezone,
    now_in,
    print_errors,
    site_option,
    warn,
    with_issue_options,
)
from syndicate.cli.common import site_config as _config


def _relative(path: Path) -> Path:
    """A path as the user would type it from here, when it is below the current folder."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


class SyndicateGroup(click.Group):
    """Turns our errors into one line and exit code 1, in one place (click's usage errors exit 2)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SyndicateError as exc:
            raise click.ClickException(print_errors(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except OSError as exc:  # the machine, not the site: a full disk, a read-only folder, no permission
            raise click.ClickException(environment_failure(exc)) from None


# what to do about each failure of the environment, by errno
_ADVICE = {
    errno.ENOSPC: "the disk is full; free some space and run it again",
    errno.EDQUOT: "the disk quota is used up; free some space and run it again",
    errno.EROFS: "the file system is read-only; choose a folder you can write to",
    errno.EACCES: "permission denied; choose a folder you can write to, or fix its permissions",
    errno.EPERM: "not permitted; choose a folder you can write to, or fix its permissions",
    errno.EFBIG: "the file is too large for this file system or its limits",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and run it again",
}


def environment_failure(exc: OSError) -> str:
    """One line: which file, what went wrong, what to do. Files are written atomically, so
    whatever this run did not finish is left as it was."""
    where = f"{printable(str(exc.filename))}: " if exc.filename else ""
    what = _ADVICE.get(exc.errno or 0, f"{exc.strerror or exc}; check the path and run it again")
    return f"{where}{what}"


@click.group(cls=SyndicateGroup, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="syndicate")
def main() -> None:
    """Turn a blog's posts into RSS, Atom and JSON feeds and a weekly email digest.

    \b
    Example:
      syndicate build            # build the site in this folder
    """


@main.command(context_settings=CONTEXT)
@site_option
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder (default: [output] dir).")
@click.option("--today", "today_s", metavar="DATE", help="Treat this date as today (posts after it stay out).")
@click.option("--keep-going", is_flag=True, help="Build what can be built when some posts have errors (still exits 1).")
@click.option("--no-cache", is_flag=True, help="Ignore the build cache: parse, render and write everything.")
@click.option("--watch", is_flag=True, help="Rebuild on every change to posts, templates or the config.")
@click.option("--ping", "ping_hubs", is_flag=True, help="Then tell the [feeds] hubs which feeds changed (WebSub).")
@click.option("--force", is_flag=True, help="Take over files in the output folder that syndicate did not write.")
def build(
    site: Path,
    out: Path | None,
    today_s: str | None,
    keep_going: bool,
    no_cache: bool,
    watch: bool,
    ping_hubs: bool,
    force: bool,
) -> None:
    """Build every feed, newsletter issue and index page.

    \b
    Examples:
      syndicate build
      syndicate build --site samples --out /tmp/feeds --today 2013-04-30
      syndicate build --watch
      syndicate build --ping
    """
    config = _config(site, out)
    build_once(config, today_s, keep_going, no_cache, exit_on_error=not watch, force=force)
    if ping_hubs:
        _ping(config, None, exit_on_error=not watch)
    if watch:
        from syndicate.cli.watch import watch_and_rebuild

        def again() -> None:
            fresh = _config(site, out)
            build_once(fresh, today_s, keep_going, False, exit_on_error=False)
            if ping_hubs:
                _ping(fresh, None, exit_on_error=False)

        watch_and_rebuild(config, again)


def _ping(config: Config, timeout: float | None, *, exit_on_error: bool) -> None:
    from syndicate import PING_TIMEOUT, ping_last_build

    topics, answers = ping_last_build(config, PING_TIMEOUT if timeout is None else timeout)
    if not config.feeds.hubs:
        click.echo("no hubs to notify: list them in [feeds] hubs")
    elif not topics:
        click.echo("the last build changed no feed: no hub notified")
    for answer in answers:
        click.echo(answer.line, err=not answer.ok)
    failed = sum(not answer.ok for answer in answers)
    if failed and exit_on_error:
        raise click.ClickException(f"{failed} of {len(answers)} hubs not notified; run 'syndicate ping' to try again")


@main.command(context_settings=CONTEXT)
@site_option
@click.option("--timeout", type=click.FloatRange(min=0.1, max=120), help="Seconds to wait for each hub (default 10).")
def ping(site: Path, timeout: float | None) -> None:
    """Tell each WebSub hub of [feeds] hubs which feeds the last build changed.

    One line per hub. Exits 1 when a hub could not be notified.

    \b
    Example:
      syndicate build && syndicate ping
    """
    _ping(_config(site), timeout, exit_on_error=True)


@main.command(context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False, exists=True))
@site_option
def check(directory: Path | None, site: Path) -> None:
    """Parse every feed in DIRECTORY back and check it strictly.

    Without DIRECTORY, checks the site's output folder. Prints one line per
    problem and exits 1 when there is any.

    \b
    Example:
      syndicate check feeds/
    """
    from syndicate import check_directory

    folder = directory if directory is not None else _config(site).output_dir
    problems, count = check_directory(folder) if folder.is_dir() else ([], 0)
    for problem in problems:
        click.echo(problem)
    if problems:
        raise click.ClickException(f"{len(problems)} problems in {count} feeds")
    if count == 0:  # nothing checked is no proof of anything
        raise click.ClickException(
            f"no feeds in {folder}: run 'syndicate build' first, or name the folder that holds them"
        )
    click.echo(f"checked {count} feeds in {folder}: no problems")


@main.command(context_settings=CONTEXT)
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--title", default="My Blog", show_default=True, help="The site's title.")
@click.option("--url", default="https://blog.example.org/", show_default=True, help="Where the blog lives.")
@click.option("--author", help="Your name, as readers and subscribers see it.")
@click.option("--email", help="Your address: the newsletter comes from it.")
@click.option("--timezone", metavar="ZONE", help="Where your dates are written (default: this machine's).")
@click.option("--postal-address", help="Your postal address, for the foot of every newsletter.")
@click.option("--language", metavar="TAG", help="The blog's language, such as en-GB (default: this machine's).")
def init(
    directory: Path,
    title: str,
    url: str,
    author: str | None,
    email: str | None,
    timezone: str | None,
    postal_address: str | None,
    language: str | None,
) -> None:
    """Create a new site: syndicate.toml, .gitignore, a posts folder and a first post.

    What is not given is a placeholder, and `syndicate send` refuses to send until it is set.

    \b
    Example:
      syndicate init myblog --title "My Blog" --author "Ann Lee" --email ann@example.org
    """
    from syndicate import init_site

    zone = timezone or machine_timezone()
    created = init_site(
        directory,
        title,
        url,
        author=author,
        email=email,
        timezone=zone,
        postal_address=postal_address,
        language=language or machine_language(),
    )
    for path in created:
        click.echo(f"created {path}")
    left = [what for what, given in (("author", author and email), ("postal_address", postal_address)) if not given]
    if left:
        click.echo(f"before sending a newsletter, set [site] {' and '.join(left)} in {created[0]}")


@main.command(context_settings=CONTEXT)
@click.argument("title")
@click.option("--tag", "tags", multiple=True, help='A tag (repeat for more, or "A, B").')
@click.option("--category", "categories", multiple=True, help='A category (repeat for more, or "A, B").')
@click.option("--date", "when", metavar="DATETIME", help="Publication date (default: now).")
@click.option("--draft", is_flag=True, help="Mark it as a draft.")
@site_option
def new(
    title: str, tags: tuple[str, ...], categories: tuple[str, ...], when: str | None, draft: bool, site: Path
) -> None:
    """Start a new post in the site's posts folder.

    \b
    Example:
      syndicate new "Grizzly to Havana" --tag OpenStack --tag DevOps
    """
    from syndicate import new_post

    config = _config(site)
    now = now_in(config)
    if when:
        try:
            now = datetime.fromisoformat(when)
        except ValueError:
            raise click.BadParameter(f"{when!r} is not a date like 2013-04-15 14:00", param_hint="--date") from None
    path = new_post(config, title, now, tags, categories, draft)
    click.echo(f"created {_relative(path)}")


@main.command(context_settings=CONTEXT)
@with_issue_options
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the issue (default: a temporary folder).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the web version in a browser.")
@site_option
def digest(
    week: str | None,
    since: str | None,
    until: str | None,
    now_s: str | None,
    today_s: str | None,
    out: Path | None,
    open_browser: bool,
    site: Path,
) -> None:
    """Compose an issue of the newsletter into a folder, recording nothing.

    Without options it is the next issue, as `send` would send it now. --week
    names a period (a sent one shows as it was sent); --since with --until, any
    window of days. Writes the web version (index.html), the plain text
    (issue.txt) and the complete message (issue.eml).

    \b
    Example:
      syndicate digest --week 2013-W16 --out /tmp/digest --open
      syndicate digest --until now
    """
    import webbrowser

    from syndicate import IssueChoice, write_digest

    config = _config(site)
    if week and (since or until):
        raise click.UsageError("give --week, or --since and --until, not both")
    choice = IssueChoice(clock_from(now_s, today_s, config), week, since, until)
    files = write_digest(config, choice, warn, out)
    click.echo(f"{files.issue.subject}")
    click.echo(f"  web:  {files.web}")
    click.echo(f"  text: {files.text}")
    click.echo(f"  eml:  {files.eml}")
    if open_browser:
        webbrowser.open(files.web.resolve().as_uri())


# the other commands live in modules of their own; they are registered once `main` exists
from syndicate.cli.imports import import_command  # noqa: E402
from syndicate.cli.inbox import inbox  # noqa: E402
from syndicate.cli.send import send  # noqa: E402
from syndicate.cli.serve import serve  # noqa: E402
from syndicate.cli.subscribers import subscribers  # noqa: E402

main.add_command(subscribers)
main.add_command(send)
main.add_command(serve)
main.add_command(import_command)
main.add_command(inbox)
