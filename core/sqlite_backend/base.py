"""Django's SQLite backend, with connections kept between requests that notice the file being replaced.

A new SQLite connection reads the whole schema before its first query (about 2 ms for this app's
schema, more than a cached page's own work), so connections are kept (CONN_MAX_AGE in settings). A
kept connection would go on reading a file that has been moved away or replaced (a restored copy
moved into place), so before each request's first query (CONN_HEALTH_CHECKS) it checks that the path
still names the file it opened; if not, Django opens a new connection, as it did for every request
before.
"""

from __future__ import annotations

import os

from django.db.backends.sqlite3 import base


def file_identity(path: str) -> tuple[int, int] | None:
    """Which file a path names now (device and inode), or None when it names none."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


class DatabaseWrapper(base.DatabaseWrapper):
    opened: tuple[int, int] | None = None  # the file this connection has open

    def get_new_connection(self, conn_params: dict):
        connection = super().get_new_connection(conn_params)
        self.opened = file_identity(str(conn_params["database"]))
        return connection

    def is_usable(self) -> bool:
        if self.is_in_memory_db():
            return True  # no file to lose
        return self.opened is not None and file_identity(str(self.settings_dict["NAME"])) == self.opened
