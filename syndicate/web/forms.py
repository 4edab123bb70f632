"""What the sign-up endpoints share: reading a posted form within a size cap, the
client's address (kept only as a keyed hash), and pages with strict headers."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from email.parser import BytesParser
from email.policy import HTTP
from typing import IO
from urllib.parse import parse_qs
from wsgiref.types import WSGIEnvironment

from syndicate.config import Config
from syndicate.templating import render
from syndicate.web.http import Response

MAX_FORM_BYTES = 16 * 1024  # a subscribe form is a few hundred bytes; more is not a person
Fields = dict[str, list[str]]

PAGE_HEADERS = [
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),  # tokens travel in URLs
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    ("X-Frame-Options", "DENY"),
]


# the page's words that code chooses (marked with N_ where they are written), in the site's language
_TRANSLATED = ("heading", "message", "notice")


def page(config: Config, template: str, code: int = 200, **values: object) -> Response:
    words = config.words
    for key in _TRANSLATED:
        if isinstance(values.get(key), str) and values[key]:
            values[key] = words.gettext(str(values[key]))
    body = render(config.templates_dir, template, config.words, site=config.site, **values)
    return Response(code, [("Content-Type", "text/html; charset=utf-8"), *PAGE_HEADERS], body.encode("utf-8"))


def query_value(environ: WSGIEnvironment, name: str) -> str:
    return (parse_qs(str(environ.get("QUERY_STRING", ""))).get(name) or [""])[0]


def too_large(environ: WSGIEnvironment) -> bool:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > MAX_FORM_BYTES or length < 0


def read_form(environ: WSGIEnvironment) -> Fields | None:
    """The POST body's fields, every value of each (urlencoded or multipart); None when too large."""
    if too_large(environ):
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream: IO[bytes] = environ["wsgi.input"]
    body = stream.read(length) if length > 0 else b""
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if content_type.lower().startswith("multipart/form-data"):
        # Gmail sends RFC 8058's one-click POST as multipart/form-data
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        fields: Fields = {}
        if message.is_multipart():
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if isinstance(name, str) and isinstance(payload, bytes):
                    fields.setdefault(name, []).append(payload.decode("utf-8", "replace"))
        return fields
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def first(fields: Fields, name: str) -> str:
    return (fields.get(name) or [""])[0]


def client_address(environ: WSGIEnvironment) -> str:
    """Who is asking: REMOTE_ADDR, or behind a proxy on this machine or a private network
    (nginx in front of gunicorn), the last address the proxy added to X-Forwarded-For."""
    remote = str(environ.get("REMOTE_ADDR", ""))
    forwarded = str(environ.get("HTTP_X_FORWARDED_FOR", ""))
    try:
        behind_proxy = ipaddress.ip_address(remote).is_private
    except ValueError:
        behind_proxy = False
    if behind_proxy and forwarded:
        return forwarded.split(",")[-1].strip()
    return remote


def client_keys(secret: bytes, environ: WSGIEnvironment) -> tuple[str, str]:
    """(the client, the connection's peer) as keyed hashes: enough to count requests, useless to
    anyone who reads the database. X-Forwarded-For can be made up by whoever connects directly,
    so the peer is counted too (with a limit a proxy serving many readers stays under)."""

    def hashed(text: str) -> str:
        return hmac.new(secret, b"syndicate-client-v1\x00" + text.encode(), hashlib.sha256).hexdigest()[:32]

    return hashed(client_address(environ)), hashed(str(environ.get("REMOTE_ADDR", "")))
