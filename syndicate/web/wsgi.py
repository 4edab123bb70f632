"""The web side's entry points: one WSGI application that sends each request to the
subscribe, confirm, manage or unsubscribe endpoint, or (for `syndicate serve`) the
preview of the output directory.

`app` is a WSGI application for any WSGI server (gunicorn, uWSGI, mod_wsgi):
it reads syndicate.toml from $SYNDICATE_SITE (a folder or the file itself) or
the current folder, and the secret from $SYNDICATE_SECRET, on the first
request. `make_app(config, preview=True, ...)` is what `syndicate serve` runs:
the same unsubscribe endpoint plus the output directory as a feed reader
would see it from a real server (`local_server`).
"""

from __future__ import annotations

import os
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from syndicate.config import SMTP_PASSWORD_ENV, Config, find_config, load_config
from syndicate.delivery.smtp import SmtpTarget, smtp_target
from syndicate.errors import DeliveryError, SyndicateError
from syndicate.subscribers.store import Clock
from syndicate.subscribers.tokens import secret_from_env
from syndicate.web.http import Response, dechunk, log_error, request_path, text_response
from syndicate.web.manage import Manage
from syndicate.web.preview import Preview
from syndicate.web.subscribe import Confirm, Services, Subscribe
from syndicate.web.unsubscribe import Unsubscribe


class SyndicateApp:
    def __init__(self, config: Config, *, preview: bool, services: Services) -> None:
        self.config = config
        subscribe = Subscribe(services)
        self.unsubscribe = Unsubscribe(services, subscribe)
        self.routes: dict[str, Subscribe | Confirm | Manage] = {
            subscribe.path.rstrip("/"): subscribe,
            Confirm(services, subscribe).path.rstrip("/"): Confirm(services, subscribe),
            Manage(services, subscribe).path.rstrip("/"): Manage(services, subscribe),
        }
        private = (config.path, *([config.database] if config.database else []))
        self.preview = Preview(config.output_dir, private) if preview else None

    def respond(self, environ: WSGIEnvironment) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = request_path(environ)
        if path is None:
            return text_response(404, "not found\n")
        refused = dechunk(environ)
        if refused is not None:
            return refused
        if self.unsubscribe.matches(path):
            return self.unsubscribe.handle(environ, method)
        endpoint = self.routes.get(path.rstrip("/"))
        if endpoint is not None:
            return endpoint.handle(environ, method)
        if self.preview is not None:
            return self.preview.handle(environ, method, path)
        return text_response(404, "not found\n")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self.respond(environ)
        except Exception as exc:  # one failing request must not take the server down
            log_error(environ, f"syndicate: error answering {environ.get('PATH_INFO', '')!r}: {exc!r}")
            response = text_response(500, "internal error\n")
        headers = [h for h in response.headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(response.body))))
        status = HTTPStatus(response.status)
        start_response(f"{status.value} {status.phrase}", headers)
        if response.status == 304 or str(environ.get("REQUEST_METHOD", "")).upper() == "HEAD":
            return [b""]
        return [response.body]


def make_app(
    config: Config,
    *,
    preview: bool = False,
    secret: bytes | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> WSGIApplication:
    """The WSGI application for `config`. Without `secret`, SYNDICATE_SECRET is taken from `environ`
    (the caller's choice: this module reads no environment but in `app`); with neither, unsubscribe
    links answer 503. The confirmation and welcome emails go to [smtp], with the password from
    `environ`'s SYNDICATE_SMTP_PASSWORD as `send` takes it."""
    signing: bytes | DeliveryError
    if secret is not None:
        signing = secret
    else:
        try:
            signing = secret_from_env(environ or {})
        except DeliveryError as exc:
            signing = exc
    target: SmtpTarget | DeliveryError
    try:
        target = smtp_target(config.smtp, password=(environ or {}).get(SMTP_PASSWORD_ENV, ""))
    except DeliveryError as exc:
        target = exc
    tz = config.site.timezone
    services = Services(config, signing, clock or (lambda: datetime.now(tz)), target)
    return SyndicateApp(config, preview=preview, services=services)


class _LazyApp:
    """`syndicate.web:app`: configured on the first request, from $SYNDICATE_SITE or the current folder."""

    def __init__(self) -> None:
        self._app: WSGIApplication | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self._app
        if app is None:
            with self._lock:
                if self._app is None:
                    try:
                        site = Path(os.environ.get("SYNDICATE_SITE") or ".")
                        self._app = make_app(load_config(find_config(site)), environ=os.environ)
                    except SyndicateError as exc:
                        log_error(environ, f"syndicate: cannot start: {exc}")
                        start_response("500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")])
                        return [b"the server is not configured\n"]
                app = self._app
        return app(environ, start_response)


app: WSGIApplication = _LazyApp()


SERVE_TIMEOUT = 30.0  # seconds a connection may sit silent before the preview server drops it
SERVE_CONNECTIONS = 256  # connections served at once; more are closed at once rather than given a thread each


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # bursts of feed readers revalidating at once
    max_connections = SERVE_CONNECTIONS

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        super().server_activate()

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        if not self._slots.acquire(blocking=False):  # at the cap: no thread for this one
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _Handler(WSGIRequestHandler):
    log: Callable[[str], None] | None = None
    timeout = SERVE_TIMEOUT  # applied to the socket: a silent or trickling client is cut off

    def log_message(self, format: str, *args: object) -> None:
        if self.log is not None:
            self.log(f"{self.address_string()} {format % args}")


def local_server(
    application: WSGIApplication,
    host: str,
    port: int,
    log: Callable[[str], None] | None = None,
    *,
    timeout: float = SERVE_TIMEOUT,
    connections: int = SERVE_CONNECTIONS,
) -> ThreadingWSGIServer:
    """A threaded wsgiref server (for previews and tests; use a real WSGI server in production)."""
    handler = type("Handler", (_Handler,), {"log": staticmethod(log) if log else None, "timeout": timeout})
    family = {"address_family": socket.AF_INET6} if ":" in host else {}
    server_class = type("Server", (ThreadingWSGIServer,), {"max_connections": connections, **family})
    return make_server(host, port, application, server_class=server_class, handler_class=handler)
