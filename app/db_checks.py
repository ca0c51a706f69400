"""Start-up checks of the database settings each server worker relies on."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from app.extensions import db

MIN_BUSY_TIMEOUT_MS = 5000


def check_database(app: Flask) -> None:
    """Raise RuntimeError unless SQLite runs with WAL and a busy timeout (no-op on other databases)."""
    with app.app_context():
        with db.engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                return
            mode = conn.execute(text("PRAGMA journal_mode")).scalar()
            timeout = conn.execute(text("PRAGMA busy_timeout")).scalar()
    if str(mode).lower() != "wal" or int(timeout) < MIN_BUSY_TIMEOUT_MS:
        raise RuntimeError(f"SQLite is not set up for concurrent writes: journal_mode={mode}, busy_timeout={timeout}")
