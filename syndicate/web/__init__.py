"""The WSGI app: subscribe, confirm, manage, unsubscribe and preview; `syndicate.web:app` is what gunicorn serves."""

from syndicate.web.wsgi import app

__all__ = ["app"]
