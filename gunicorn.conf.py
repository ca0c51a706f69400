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


def post_worker_init(worker):
    """Refuse to serve if the database is not set up for safe concurrent writes."""
    from app.db_checks import check_database

    check_database(worker.app.wsgi())
