"""The one queue: Huey, on a SQLite file in the instance folder by default (no service to
install) or on Redis when ``MESA_QUEUE_URL=redis://...``.

Huey carries job ids and runs the periodic work; it has no acknowledgement (a task a
killed worker had taken is gone), so what a job is and how far it got is kept in the
``jobs`` table (services.py), and a periodic task notices the jobs of dead workers.

- ``MESA_QUEUE_URL``: ``sqlite:///path/queue.sqlite3`` (default: ``instance/queue.sqlite3``),
  ``redis://host:port/db`` (production), or ``immediate`` (tests: a job runs at once in the
  process that asks for it; the default when ``TESTING`` and nothing is set).
- ``MESA_QUEUE_NAME``: the queue's name (default ``mesa``): two Mesas on one Redis need two.
"""
from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

# The tasks are declared on this instance (tasks.py); configure() points it at the
# storage the app's settings name, in the web process and in the worker alike.
huey = Huey("mesa", immediate=True, utc=True, results=False)

_worker_app: Flask | None = None


def queue_url(app: Flask) -> str:
    url = app.config.get("MESA_QUEUE_URL") or ""
    if not url:
        if app.testing:
            return "immediate"
        url = "sqlite:///" + str(Path(app.instance_path) / "queue.sqlite3")
    return url


def describe(url: str) -> str:
    """The queue's URL for logs: no password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def configure(app: Flask) -> None:
    url = queue_url(app)
    name = app.config.get("MESA_QUEUE_NAME") or "mesa"
    huey.name = name
    if url == "immediate":
        huey.immediate = True
        huey.storage = huey.create_storage()
        return
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        filename = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url[len("sqlite://"):]
        os.makedirs(os.path.dirname(os.path.abspath(filename)) or ".", exist_ok=True)
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": filename, "timeout": 10}
    elif scheme in ("redis", "rediss", "unix"):
        import redis

        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"connection_pool": redis.ConnectionPool.from_url(url, socket_connect_timeout=5)}
    else:
        raise RuntimeError(f"MESA_QUEUE_URL {describe(url)!r}: use sqlite:///..., redis://... or immediate.")
    huey._immediate = False
    huey.storage = huey.create_storage()


def is_immediate() -> bool:
    return huey.immediate


@contextlib.contextmanager
def app_context():
    """The app context a task runs in: the caller's (immediate mode), else the worker's."""
    if has_app_context():
        yield current_app._get_current_object()
        return
    if _worker_app is None:
        raise RuntimeError("No Mesa app for this task: start the worker with `flask --app app worker`.")
    with _worker_app.app_context():
        yield _worker_app


def run_worker(app: Flask, workers: int = 1, periodic: bool = True, nice: int = 0) -> None:
    """Run the consumer in this process until SIGINT/SIGTERM (``flask worker``). ``nice``:
    lower this process's CPU priority (and that of the WeasyPrint processes it starts), so
    that on a shared machine web requests go first."""
    global _worker_app
    if nice:
        os.nice(nice)
    from . import tasks  # noqa: F401  (register the tasks)

    if huey.immediate:
        raise RuntimeError("MESA_QUEUE_URL is 'immediate': there is no queue for a worker to serve.")
    _worker_app = app
    from ..extensions import db

    with app.app_context():
        db.engine.dispose()  # no connection shared with a parent process
    log.info("worker: %d thread(s) on queue %r at %s", workers, huey.name, describe(queue_url(app)))
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic,
                                    check_worker_health=True, initial_delay=0.1, max_delay=1.0)
    consumer.run()
