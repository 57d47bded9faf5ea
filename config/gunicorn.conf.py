"""Gunicorn settings for operators: `gunicorn -c config/gunicorn.conf.py config.wsgi:application`.

Everything an operator tunes comes from the environment (see docs/deploy.md):

- GUNICORN_BIND: address to listen on (default 127.0.0.1:8000; behind a reverse proxy keep it on
  loopback or a private address). Several addresses: separate them with commas.
- GUNICORN_WORKERS (or WEB_CONCURRENCY): worker processes (default 2 x CPU cores + 1).
- GUNICORN_TIMEOUT: seconds before a silent worker is restarted (default 30).
- GUNICORN_ACCESS_LOG: access log file, "-" for stdout (default), or "" to turn the access log off.
- GUNICORN_LOG_LEVEL: error log level (default info).
- FORWARDED_ALLOW_IPS: read by gunicorn itself; addresses of the proxy allowed to set
  X-Forwarded-Proto (default 127.0.0.1,::1).

The access log records the path only: never the query string (searches are GET requests, so a
query string holds the medicine a person looked up) and never the Referer (it can hold one too).
"""

from __future__ import annotations

import multiprocessing
import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise SystemExit(f"{name} must be at least 1, not {number}")
    return number


bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address.strip()]
workers = _env_int("GUNICORN_WORKERS", _env_int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 5000
max_requests_jitter = 500

loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
errorlog = "-"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# Client address, time, method, path without query string, status, bytes, duration in microseconds.
# Deliberately absent: %(r)s and %(q)s (query string), %(f)s (Referer), %(a)s (user agent).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(D)s'


def _gunicorn_knows(setting: str) -> bool:
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:  # read outside gunicorn, e.g. by a test
        return False
    return any(getattr(known, "name", None) == setting for known in KNOWN_SETTINGS)


# gunicorn 25.1+ opens a control socket under $HOME or $XDG_RUNTIME_DIR by default; this app does
# not use it, so turn it off where the setting exists (older versions do not have it).
if _gunicorn_knows("control_socket_disable"):
    control_socket_disable = True
