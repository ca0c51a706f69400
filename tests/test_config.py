"""Configuration: the secret key file, environment overrides, cookie flags."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app, warm_up
from app.config import _instance_secret


def test_secret_key_is_created_once_and_shared(tmp_path):
    first = _instance_secret(tmp_path)
    assert len(first) == 64 and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert _instance_secret(tmp_path) == first  # a second worker reads the same key


def test_short_secret_key_file_is_refused(tmp_path):
    (tmp_path / "secret_key").write_text("short")
    with pytest.raises(RuntimeError, match="too short"):
        _instance_secret(tmp_path)


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite3")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://intranet.example/")
    monkeypatch.setenv("OFFICEPULSE_DEFAULT_MIN_GROUP_SIZE", "7")
    monkeypatch.setenv("FLASK_PREFERRED_URL_SCHEME", "https")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.sqlite3"
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["PUBLIC_BASE_URL"] == "https://intranet.example/"
    assert app.config["DEFAULT_MIN_GROUP_SIZE"] == 7
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_default_database_is_a_file_in_instance(monkeypatch):
    for name in ("DATABASE_URL", "OFFICEPULSE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/instance/officepulse.sqlite3")
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_warm_up_compiles_every_template_before_the_workers_fork(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    names = app.jinja_env.list_templates()
    assert "survey/form.html" in names and "admin/campaign.html" in names
    warm_up(app)
    cached = {key[1] for key in app.jinja_env.cache.keys()}
    assert set(names) <= cached


@pytest.mark.parametrize("idle_before_ping", [0.0, 3600.0], ids=["tested", "trusted"])
def test_a_pooled_connection_the_database_dropped_is_replaced_after_idling(app, monkeypatch, idle_before_ping):
    """A pooled connection that lay idle is tested before use, and a dead one replaced: the next request is served.

    The control ("trusted": never idle long enough to be tested) shows the same dropped connection failing.
    """
    import psycopg

    import app as app_package
    from app.extensions import db
    from tests.live import libpq_url

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: a server must drop the connection")
    monkeypatch.setattr(app_package, "IDLE_BEFORE_PING", idle_before_ping)
    backend = "SELECT pg_backend_pid()"
    with app.app_context():
        db.engine.dispose()  # one connection in the pool, so the next checkout gets the one dropped below
        pid = db.session.execute(text(backend)).scalar_one()
        db.session.remove()  # back to the pool
        with psycopg.connect(libpq_url(url), autocommit=True) as other:  # as a database restart would
            assert other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone() == (True,)  # waits
        if idle_before_ping:
            with pytest.raises(OperationalError):
                db.session.execute(text(backend))
        else:
            assert db.session.execute(text(backend)).scalar_one() not in (None, pid)
        db.session.remove()
