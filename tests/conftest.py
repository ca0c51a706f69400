"""Shared fixtures: an app per database backend (a real SQLite file, and PostgreSQL when configured)."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest

from app import create_app
from app.extensions import db
from app.services import accounts, campaigns
from app.services.campaigns import today
from app.services.surveys import import_survey
from surveys import TEMPLATES_DIR

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])
ADMIN_PASSWORD = "correct horse battery"
OSQ = TEMPLATES_DIR / "office-service-quality.yaml"


def pytest_report_header(config):
    return f"database backends: {', '.join(BACKENDS)}"


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}" if request.param == "sqlite" else os.environ["TEST_DATABASE_URL"]
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-" + "x" * 40, "SQLALCHEMY_DATABASE_URI": url,
                      "MIN_FILL_SECONDS": 0})
    with app.app_context():
        if request.param == "postgres":
            with db.engine.begin() as conn:  # also drops tables that no model (any more) describes
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        else:
            db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def campaign(app):
    """An open campaign of the bundled questionnaire; returns its slug."""
    with app.app_context():
        import_survey(OSQ.read_bytes(), filename=str(OSQ))
        return campaigns.open_campaign("office-service-quality", "测试活动").slug


@pytest.fixture
def admin(app):
    with app.app_context():
        accounts.create_admin("admin", ADMIN_PASSWORD)
    return "admin"


@pytest.fixture
def logged_in(client, admin):
    login(client)
    return client


def login(client, username="admin", password=ADMIN_PASSWORD):
    page = client.get("/admin/login")
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token})


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def hidden_fields(html: str) -> dict[str, str]:
    """Return the CSRF token, submission id and signed render time of a rendered survey form."""
    return {
        "csrf_token": csrf_token(html),
        "sid": re.search(r'name="sid"[^>]*value="([^"]+)"', html).group(1),
        "started": re.search(r'name="started"[^>]*value="([^"]+)"', html).group(1),
    }


def office_today(app) -> date:
    """The office's calendar date as the app reckons it (TIMEZONE), which may not be this machine's date."""
    with app.app_context():
        return today()
