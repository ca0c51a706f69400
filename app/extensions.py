"""Flask extensions, created unbound and bound to the app in :func:`app.create_app`."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def init_migrations(app: Flask) -> None:
    """Set Flask-Migrate up on the app, for `flask db ...` (see app/cli.py) and for tests that migrate.

    Only then: Flask-Migrate imports Alembic, which would add a quarter of a second to every other command and
    worker start.
    """
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True)


class LoginLimiter:
    """Login throttling in a store that every worker shares (Redis or the database): see app/throttle.py."""

    def init_app(self, app: Flask) -> None:
        from app.throttle import LoginThrottle  # the throttle's table is a model, so it needs db above

        app.extensions["login_limiter"] = LoginThrottle(app)

    def allow_login(self, username: str) -> bool:
        """Count an attempt to log in as ``username`` from this client; False when it is over a limit."""
        return current_app.extensions["login_limiter"].allow_login(username)

    def reset(self) -> None:
        current_app.extensions["login_limiter"].reset()


limiter = LoginLimiter()
