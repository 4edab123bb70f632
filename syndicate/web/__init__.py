"""The WSGI app: unsubscribe and preview; `syndicate.web:app` is what gunicorn serves."""

from syndicate.web.wsgi import app

__all__ = ["app"]
