"""Gunicorn settings for operators: `gunicorn -c config/gunicorn.conf.py config.wsgi:application`.

Everything an operator tunes comes from the environment (see docs/deploy.md):

- GUNICORN_BIND: address to listen on (default 127.0.0.1:8000; behind a reverse proxy keep it on
  loopback or a private address). Several addresses: separate them with commas.
- GUNICORN_WORKERS (or WEB_CONCURRENCY): worker processes (default 2 x CPU cores + 1).
- GUNICORN_TIMEOUT: seconds before a silent worker is restarted (default 30).
- GUNICORN_ACCESS_LOG: access log file, "-" for stdout (default), or "" to turn the access log off.
- GUNICORN_LOG_LEVEL: error log level (default info).
- GUNICORN_PRELOAD: load the app and build the search index once in the master, before the workers
  fork, so they share it (default true). After a publish the first worker to notice sends the master
  a HUP (once per content version): the master builds the new index, and gunicorn forks a fresh set
  of workers that share it while the old ones finish their requests on the previous index (see
  interactions/search.py). A HUP from an operator does the same; it does not reload the code. With
  false each worker builds its own index on its first search and rebuilds it itself after a publish,
  and a HUP reloads the code.
- FORWARDED_ALLOW_IPS: read by gunicorn itself; addresses of the proxy allowed to set
  X-Forwarded-Proto (default 127.0.0.1,::1).

The access log records the path only: never the query string (searches are GET requests, so a
query string holds the medicine a person looked up) and never the Referer (it can hold one too).
"""

from __future__ import annotations

import multiprocessing
import os
import time


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


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SystemExit(f"{name} must be true or false, not {value!r}")


preload_app = _env_bool("GUNICORN_PRELOAD", True)


def when_ready(server) -> None:
    """In the master, after the app is loaded and before any worker forks."""
    if server.cfg.preload_app:
        _build_shared_search_index(server.log)


def on_reload(server) -> None:
    """In the master on a HUP (sent by a worker after a publish), before the fresh workers fork."""
    if server.cfg.preload_app:
        _rebuild_shared_search_index(server)


def post_fork(server, worker) -> None:
    """In each new worker: an index out of date is asked of the master that shares its own."""
    if server.cfg.preload_app:
        from interactions.search import forked_from_master

        forked_from_master(pid=server.pid, worker_age=worker.age)


def on_exit(server) -> None:
    if server.cfg.preload_app:
        from interactions.search import stop_sharing

        stop_sharing()


def _build_shared_search_index(log) -> None:
    """Build the search index here so every worker starts with it, in pages they share."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from interactions.search import get_index, share_with_workers

    share_with_workers()
    try:
        index = get_index()
        log.info("Search index built before the workers fork: %s names.", f"{len(index):,}")
    except Exception:  # no database yet, for one: each worker builds the index on its first search
        log.warning("Search index not built before the workers fork; each builds its own.", exc_info=True)
    _ready_to_fork(log)


def _rebuild_shared_search_index(server) -> None:
    """The index for the current content version, so the fresh workers share it. This master stops
    for the build (seconds); the old workers keep serving meanwhile, on their index."""
    from interactions.search import rebuild_for_new_workers

    started = time.monotonic()
    try:
        index = rebuild_for_new_workers(worker_age=server.worker_age)
    except Exception:  # the old workers are fine; the new ones see theirs is out of date and rebuild it
        server.log.exception("Search index not rebuilt in the master; the new workers rebuild their own.")
    else:
        if index is None:
            server.log.info("Search index in the master is current: the new workers share it.")
        else:
            elapsed, names = time.monotonic() - started, f"{len(index):,}"
            server.log.info("Search index rebuilt in the master in %.1f s: %s names, shared.", elapsed, names)
    _ready_to_fork(server.log)


def _ready_to_fork(log) -> None:
    """Load what else the workers can share; close every connection (one must never be shared across
    a fork); hand back what the build freed; then freeze what exists, so the workers' garbage collector
    never writes to (and so copies) those pages."""
    import gc

    from django.core.cache import caches
    from django.db import connections

    from interactions.checker import reviewed_content
    from interactions.search import return_memory

    try:
        reviewed_content()
    except Exception:
        log.warning("Reviewed content not loaded before the workers fork; each loads its own.", exc_info=True)
    finally:
        connections.close_all()
        for cache in caches.all(initialized_only=True):
            cache.close()
    gc.collect()
    return_memory()
    gc.freeze()


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
