"""Login throttling, counted in a store that every worker shares: Redis when REDIS_URL is set, else the database.

Each login attempt is counted *before* its password is checked, with an atomic increment, so that however many
workers take part, no more than the configured number of passwords is ever evaluated in a window. Two limits
apply to every attempt (see docs/deploy.md):

- ``LOGIN_LIMIT`` per (account name, client): guessing one account's password is slowed to that rate, while
  a different client can still log in to the same account (no lockout of the real owner from elsewhere);
- ``LOGIN_CLIENT_LIMIT`` per client over all account names: one client cannot try many names instead.

The client is known by its address (or by the header named in ``LOGIN_CLIENT_HEADER`` behind a proxy), but
only as an HMAC under the secret key, and only in the counter's key, which expires with its window: no address
reaches the tables of the application, its logs, or Redis in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Float, Integer, String, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class RateLimitCounter(db.Model):
    """A fixed-window counter: the HMAC'd key of a limit, its count and when the window ends (epoch seconds)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)


class DatabaseStorage(Storage):
    """A ``limits`` storage for fixed windows in the application's database (SQLite or PostgreSQL).

    Every call uses its own short transaction on the app's engine (begun IMMEDIATE in SQLite), independent of
    the request's session, so that a count is kept even when the request's own work is rolled back.
    """

    STORAGE_SCHEME = None  # built directly by LoginThrottle, not from a URI

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    @staticmethod
    def _engine():
        return db.engine.execution_options(sqlite_immediate=True)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        table = RateLimitCounter.__table__
        engine = self._engine()
        dialect = {"postgresql": postgresql, "sqlite": sqlite}[engine.dialect.name]
        expired = table.c.expires_at <= now
        statement = dialect.insert(table).values(key=key, count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, amount), else_=table.c.count + amount),
                "expires_at": case((expired, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with engine.begin() as conn:
            count = int(conn.execute(statement).scalar_one())
        # Forget ended windows in a transaction of its own: deleting other keys' rows in the same transaction
        # as the upsert could deadlock two workers in PostgreSQL.
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.c.expires_at <= now))
        return count

    def _row(self, key: str):
        with db.engine.connect() as conn:
            return conn.execute(
                select(RateLimitCounter.count, RateLimitCounter.expires_at).where(
                    RateLimitCounter.key == key, RateLimitCounter.expires_at > time.time()
                )
            ).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.count if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row else time.time()

    def check(self) -> bool:
        try:
            with db.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as conn:
            return conn.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


class LoginThrottle:
    """One app's login throttle: the strategy over the shared storage, and the two limits from the config."""

    def __init__(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        storage = RedisStorage(url, key_prefix=app.config["REDIS_KEY_PREFIX"]) if url else DatabaseStorage()
        self.strategy = FixedWindowRateLimiter(storage)
        # Parsed here so that a malformed setting stops the app at start, not at the first login.
        self.per_account: RateLimitItem = parse(app.config["LOGIN_LIMIT"])
        self.per_client: RateLimitItem = parse(app.config["LOGIN_CLIENT_LIMIT"])

    def allow_login(self, username: str) -> bool:
        """Count one login attempt for ``username`` from the current client; return False if over a limit.

        Both counters are incremented before the password is checked, so that concurrent attempts in other
        workers see each other's counts and no more passwords are checked than the limits allow.
        """
        client = _client_key()
        account = _digest(client + "\0" + username.strip().casefold())
        within_client = self.strategy.hit(self.per_client, "login-client", client)
        within_account = self.strategy.hit(self.per_account, "login-account", account)
        return within_client and within_account

    def reset(self) -> None:
        """Forget every count (tests, or an administrator who has locked themself out)."""
        self.strategy.storage.reset()


def _digest(value: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else key.encode()
    return hmac.new(key, b"officepulse login throttle\0" + value.encode(), hashlib.sha256).hexdigest()[:32]


def _client_key() -> str:
    """Return the HMAC of the client's address: the proxy's header when configured, else the peer address."""
    header = current_app.config.get("LOGIN_CLIENT_HEADER")
    address = (request.headers.get(header) if header else None) or request.remote_addr or ""
    return _digest(address.strip())
