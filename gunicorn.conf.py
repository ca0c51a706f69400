"""gunicorn settings used by `make run` (and by the load and crash tests)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 8)))
timeout = 120  # the PDF report of a large campaign takes tens of seconds of CPU
graceful_timeout = 10
accesslog = "-"
# No client address, user agent, referrer or query string: the survey is anonymous (docs/privacy.md).
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = "app.access_log.PrivateAccessLogger"  # also masks receipt codes in /r/ paths
# Import the app, its libraries and the analysis dictionaries once, in the master, before the workers are forked:
# they share that memory, start at once, and no first results page waits seconds for them (see when_ready).
preload_app = True


def when_ready(server):
    """In the master, after the app is imported: load what first requests would otherwise wait for."""
    from app import warm_up

    warm_up(server.app.wsgi())


def post_fork(server, worker):
    """A worker must not use database connections opened in the master: drop them (without closing them)."""
    from app.extensions import db

    with worker.app.wsgi().app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def post_worker_init(worker):
    """Refuse to serve if the database is not set up for safe concurrent writes."""
    from app.db_checks import check_database

    check_database(worker.app.wsgi())
