"""`syndicate serve`: preview the output folder over HTTP, optionally rebuilding on changes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import click

from syndicate import SyndicateError
from syndicate.cli.common import CONTEXT, build_once, site_config, site_option, warn


@click.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--watch", is_flag=True, help="Rebuild when posts, templates or syndicate.toml change.")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@site_option
def serve(host: str, port: int, watch: bool, quiet: bool, site: Path) -> None:
    """Preview the output folder over HTTP, with the subscribe, confirm, manage and
    one-click unsubscribe endpoints (their emails go out through [smtp]).

    Feeds get their real media types, ETag/Last-Modified with 304 answers, and
    gzip, as a feed reader sees them from a production server. For production,
    run `syndicate.web:app` under a WSGI server (see the README).

    \b
    Example:
      syndicate serve --port 8000 --watch
    """
    from syndicate import local_server, make_app, secret_from_env

    config = site_config(site)
    try:
        secret_from_env(os.environ)
    except SyndicateError as exc:
        warn(f"the subscribe, manage and unsubscribe pages will answer 503: {exc}")
    if not watch and not config.output_dir.is_dir():
        warn(f"{config.output_dir} does not exist yet; run `syndicate build` first")
    log = None if quiet else (lambda line: click.echo(line, err=True))
    try:
        server = local_server(make_app(config, preview=True, environ=os.environ), host, port, log)
    except OSError as exc:
        raise SyndicateError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from None
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
    from syndicate.cli.watch import watch_and_rebuild

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        build_once(config, None, False, False, exit_on_error=False)
        watch_and_rebuild(config, lambda: build_once(site_config(site), None, False, False, exit_on_error=False))
    finally:
        server.shutdown()
        server.server_close()
