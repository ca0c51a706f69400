"""Configuration: safe defaults, then instance/config.py, then environment variables."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

ENV_NAMES = ("SECRET_KEY", "DATABASE_URL", "PUBLIC_BASE_URL", "REDIS_URL")


class Defaults:
    """Defaults; any of them can be overridden by instance/config.py or OFFICEPULSE_* / FLASK_* variables."""

    PUBLIC_BASE_URL = None
    TIMEZONE = "Asia/Shanghai"  # the calendar date stored with a response is the office's local date
    DEFAULT_MIN_GROUP_SIZE = 5
    DEFAULT_MIN_COMMENT_GROUP_SIZE = 10
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "zh"
    LANGUAGES = ("zh", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = 6 * 3600
    # Flask-WTF's extra HTTPS check wants a Referer from this host, but every page is served with
    # Referrer-Policy: no-referrer, so browsers send none and every form would be refused over HTTPS. The CSRF
    # token bound to the session, and session cookies that are SameSite=Lax, still guard every POST.
    WTF_CSRF_SSL_STRICT = False
    BEHIND_PROXY = False  # True behind nginx etc.: trust X-Forwarded-Proto/-Host/-Port/-Prefix (never -For)
    # How long a worker may show a campaign's form as it last read it. A change made in the same worker shows at
    # once, in others within this time; submissions always read the campaign afresh. 0: read it for every page.
    CAMPAIGN_CACHE_SECONDS = 5
    MIN_FILL_SECONDS = 5  # a submission sooner than this after the form was rendered is taken for a bot; 0: off
    # Login throttling (app/throttle.py), counted in Redis when REDIS_URL is set, else in the database.
    REDIS_URL = None  # e.g. redis://127.0.0.1:6379/0
    REDIS_KEY_PREFIX = "officepulse-limits"  # another one for each deployment that shares the same Redis
    LOGIN_LIMIT = "10 per 5 minutes"  # passwords checked per account name from one client
    LOGIN_CLIENT_LIMIT = "30 per 5 minutes"  # passwords checked from one client, whatever the account names
    LOGIN_CLIENT_HEADER = None  # behind a proxy: the header that carries the client's address, e.g. X-Real-IP


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill ``app.config`` in order: defaults, instance file or test overrides, environment."""
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for name in ENV_NAMES:
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        app.config.from_prefixed_env("OFFICEPULSE")
        app.config.from_prefixed_env("FLASK")
    else:
        app.config.from_mapping(test_config)

    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", "sqlite:///" + str(Path(app.instance_path) / "officepulse.sqlite3")
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _instance_secret(instance: Path) -> str:
    """Return the secret key kept in instance/secret_key, creating it once (shared by every worker)."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:
            raise RuntimeError(f"{path} is empty or too short; delete it to generate a new key") from None
        return key
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
