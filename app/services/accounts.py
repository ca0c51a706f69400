"""Admin accounts: creation and password checks (scrypt hashes)."""

from __future__ import annotations

import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import User

MIN_PASSWORD_LENGTH = 10


@cache
def _dummy_hash() -> str:
    """Return a hash to check against when the user does not exist, so both failures take as long."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


class AccountError(ValueError):
    """An account cannot be created as asked; the message says why."""


def get_user(username: str) -> User | None:
    return db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()


def create_admin(username: str, password: str) -> User:
    """Create an admin account; raise AccountError if the name is taken or the password too short."""
    username = username.strip()
    if not username or len(username) > 80:
        raise AccountError("the username must have 1 to 80 characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if get_user(username) is not None:
        raise AccountError(f"the user '{username}' already exists")
    user = User(username=username, password_hash=generate_password_hash(password, method="scrypt"))
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(username: str, password: str) -> User | None:
    """Return the user when the password is right, else None (taking the same time either way)."""
    user = get_user(username)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def new_password() -> str:
    return secrets.token_urlsafe(12)
