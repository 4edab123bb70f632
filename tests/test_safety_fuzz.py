"""Property tests of the web app's request parsing: whatever the path, headers and body, the answer
is never a 500, never a redirect off the host, and never a file from outside the output folder."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from wsgiref.types import WSGIApplication

import pytest
from conftest import build_site, copy_example_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.config import load_config
from syndicate.web import wsgi as web

SECRET = b"test-secret-0123456789abcdef"
PIECES = ["/", "//", ".", "..", "%2F", "%2f", "%2e", "tags", "rss.xml", "newsletter", "\\", "\x00", "é", "?", ";"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> WSGIApplication:
    root = tmp_path_factory.mktemp("fuzz-web")
    config = load_config(copy_example_site(root / "site"), output_dir=root / "out")
    build_site(config)
    (root / "secret.txt").write_text("SECRET-OUTSIDE")
    return web.make_app(replace(config, database=root / "s.sqlite3"), preview=True, secret=SECRET)


def call(app: WSGIApplication, environ: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    seen: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), {k.lower(): v for k, v in headers}

    body = b"".join(app(environ, start_response))  # type: ignore[arg-type]
    return int(seen["status"]), dict(seen["headers"]), body  # type: ignore[call-overload]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS"]),
    since=st.one_of(st.none(), st.text(max_size=40), st.just("Sun, 06 Nov 99999999999 08:49:37 GMT")),
    chunked=st.booleans(),
    body=st.binary(max_size=200),
)
def test_any_request_is_answered_safely(
    app: WSGIApplication, path: str, method: str, since: str | None, chunked: bool, body: bytes
) -> None:
    environ: dict[str, object] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),  # as a WSGI server hands it over
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
    }
    if since is not None:
        environ["HTTP_IF_MODIFIED_SINCE"] = since
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    status, headers, answer = call(app, environ)
    assert status != 500, environ["wsgi.errors"].getvalue()  # type: ignore[attr-defined]
    location = headers.get("location", "")
    assert not location.startswith("//") and "://" not in location
    assert b"SECRET-OUTSIDE" not in answer and b"[site]" not in answer
    if chunked and method == "POST":
        assert status in (404, 405, 411), "a chunked body the server did not decode is refused, never ignored"


def test_the_secret_file_exists_beside_the_output(app: WSGIApplication, tmp_path: Path) -> None:
    status, _, _ = call(
        app,
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/../secret.txt",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": io.StringIO(),
        },
    )
    assert status == 404
