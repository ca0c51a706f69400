"""The office head's pages: login, campaigns, results, exports, distribution. Every page needs a login."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import distribution, ledger, manage, reports, views  # noqa: E402,F401  (the modules register their routes on bp)
