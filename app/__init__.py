"""OfficePulse web application: the app factory."""

from __future__ import annotations

import time

from flask import Flask, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Engine, event, exc
from sqlalchemy.pool import Pool
from werkzeug.middleware.proxy_fix import ProxyFix

from analysis import label
from app.config import load_config
from app.extensions import babel, csrf, db, limiter, login_manager

# A pooled connection that lay idle this long is tested before use (see _ping_if_idle).
IDLE_BEFORE_PING = 1.0  # seconds

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the application."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, test_config)
    if app.config["BEHIND_PROXY"]:
        # Links and QR codes must carry the proxy's public scheme and host. X-Forwarded-For is never trusted
        # or read: the client's address is not wanted anywhere.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def select_locale() -> str:
    """Return the UI language: ?lang=, then the lang cookie, then Accept-Language, then Chinese."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    for wanted in (request.args.get("lang"), request.cookies.get("lang")):
        if wanted in languages:
            return wanted
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def register_extensions(app: Flask) -> None:
    db.init_app(app)

    @app.before_request  # registered before CSRFProtect's and Flask-WTF's parsing, which cannot handle these
    def refuse_odd_requests():
        """Refuse NUL characters anywhere (no form needs them and PostgreSQL cannot store them), and, since every
        POST here is an HTML form, JSON bodies and nameless fields."""
        texts = [request.path, *(v for values in request.args.listvalues() for v in values)]
        if request.method == "POST":
            if request.is_json or any(not key for key in request.form):
                abort(400)
            texts += [v for values in request.form.listvalues() for v in values]
            texts += [f.filename or "" for files in request.files.listvalues() for f in files]
        if any("\x00" in text for text in texts):
            abort(400)

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = None
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    @app.context_processor
    def locale_context():
        return {"current_locale": str(get_locale())}

    app.jinja_env.globals["label"] = label

    @app.after_request
    def remember_language(response):
        lang = request.args.get("lang")
        if lang in app.config["LANGUAGES"] and request.cookies.get("lang") != lang:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True,
                                secure=app.config.get("SESSION_COOKIE_SECURE", False))
        return response

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.survey.views import bp as survey_bp

    app.register_blueprint(survey_bp)
    app.register_blueprint(admin_bp)


def register_errorhandlers(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You are not allowed to see this page."),
        404: lambda: _("This page does not exist."),
        405: lambda: _("This page does not accept that request."),
        410: lambda: _("This page is no longer available."),
        413: lambda: _("What you sent is too large."),
        429: lambda: _("Too many attempts. Please wait a moment and try again."),
        500: lambda: _("Something went wrong on our side. Nothing you entered was stored."),
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        message = messages.get(code, messages[500])()
        return render_template("error.html", code=code, message=message), code

    for code in messages:
        app.register_error_handler(code, render_error)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)


def warm_up(app: Flask) -> None:
    """Load, once per server and before it forks its workers, what each worker's first requests would otherwise
    wait for: every template compiled, and what results need (`app.services.results.warm_up`)."""
    from app.services.results import warm_up as warm_up_results

    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    warm_up_results()


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """Set SQLite up for concurrent, durable writes: WAL, a busy timeout, and our own BEGIN."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None  # let the "begin" listener below issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """Begin SQLite transactions ourselves; writes ask for IMMEDIATE to take the write lock up front."""
    if conn.dialect.name == "sqlite":
        mode = "IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


@event.listens_for(Pool, "checkin")
def _note_idle(dbapi_connection, connection_record) -> None:
    connection_record.info["idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, connection_record, connection_proxy) -> None:
    """Test a pooled connection that lay idle before handing it out; a dead one is replaced by a new one.

    A restart of the database (or a firewall) leaves dead connections in the pool; pool_pre_ping would test
    every checkout, a round trip per request even under load, when connections are seconds old at most. A
    connection idle for less than IDLE_BEFORE_PING was in use a moment ago (a restart takes longer than that);
    one dropped later is detected here. Raising DisconnectionError makes the pool connect afresh (three tries).
    """
    idle_since = connection_record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as error:  # any failure means the connection cannot be trusted
        raise exc.DisconnectionError(f"pooled connection failed its test: {error}") from error
