"""Security headers on every response (pages, files, errors, logged in or not) and cookie flags."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask_login import login_user
from werkzeug.routing import BuildError

from app import SECURITY_HEADERS, create_app
from app.extensions import db
from app.services.accounts import get_user
from tests.conftest import ADMIN_PASSWORD, login

STATIC = Path(__file__).resolve().parents[1] / "app" / "static"


def assert_secure_headers(resp, what):
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
    assert directives.get("default-src") == ["'self'"], what
    assert directives.get("frame-ancestors") == ["'none'"], what
    assert directives.get("object-src") == ["'none'"], what
    assert directives.get("base-uri") == ["'none'"], what
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp, what
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", what
    assert resp.headers.get("Referrer-Policy") == "no-referrer", what
    assert resp.headers.get("X-Frame-Options") == "DENY", what


def sweep_urls(app, slug):
    """Yield (method, url) for every URL rule and method of the app, with real values where there are some."""
    from analysis.charts import CHARTS

    values = {"slug": slug, "key": "office-service-quality", "name": next(iter(CHARTS)), "fmt": "png",
              "filename": "site.css"}
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            args = {arg: values.get(arg, "x") for arg in rule.arguments}
            try:
                url = adapter.build(rule.endpoint, args, method=method)
            except (BuildError, ValueError):  # an int converter
                url = adapter.build(rule.endpoint, {a: values.get(a, 1) for a in rule.arguments}, method=method)
            yield method, url


def sweep(app, client, slug):
    urls = list(sweep_urls(app, slug))
    assert len(urls) >= 20
    # GETs first; POSTs carry no CSRF token, so that none of them changes anything (400, or 422 for the survey).
    for method, url in sorted(urls, key=lambda mu: mu[0] != "GET"):
        resp = client.open(url, method=method)
        assert resp.status_code < 500, (method, url, resp.status_code)
        assert_secure_headers(resp, (method, url, resp.status_code))
        resp.close()


def test_every_url_anonymous(app, client, campaign):
    sweep(app, client, campaign)


def test_every_url_logged_in(app, logged_in, campaign):
    assert logged_in.get("/admin/").status_code == 200
    sweep(app, logged_in, campaign)
    assert logged_in.get("/admin/").status_code == 200  # the sweep changed nothing, not even the login


@pytest.mark.parametrize("name", sorted(p.name for p in STATIC.iterdir() if p.is_file()))
def test_static_files(client, name):
    resp = client.get(f"/static/{name}")
    assert resp.status_code == 200
    assert_secure_headers(resp, name)
    resp.close()


def test_error_pages(app, client, admin):
    @app.get("/test-boom")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["MAX_CONTENT_LENGTH"] = 1024
    cases = {
        404: client.get("/no-such-page"),
        405: client.delete("/privacy"),
        413: client.post("/admin/login", data={"username": "admin", "password": "x" * 4096}),
        500: client.get("/test-boom"),
    }
    for _ in range(50):
        resp = login(client, password="wrong password")
        if resp.status_code == 429:
            cases[429] = resp
            break
    assert set(cases) == {404, 405, 413, 429, 500}
    for code, resp in cases.items():
        assert resp.status_code == code
        assert_secure_headers(resp, code)
        assert "<script>" not in resp.get_data(as_text=True)


def test_security_headers_constant_has_no_unsafe_sources():
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp and "frame-ancestors 'none'" in csp


def cookies_set(resp) -> dict[str, dict[str, str | bool]]:
    """Return every cookie set by a response with its attributes (lower-case names)."""
    found = {}
    for header in resp.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            flags = {k.lower() for k in header.split(";")[1:] for k in [k.split("=")[0].strip()]}
            found[name] = {"httponly": "httponly" in flags, "secure": "secure" in flags,
                           "samesite": morsel["samesite"]}
    return found


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_session_and_remember_cookies(app, admin, scheme):
    config = {name: app.config[name] for name in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI")}
    site = create_app({**config, "PREFERRED_URL_SCHEME": scheme})
    try:
        client = site.test_client()
        client.environ_base["wsgi.url_scheme"] = scheme  # the test client keeps Secure cookies for https only
        # No Referer, as a browser sends none under Referrer-Policy: no-referrer; the login must still work.
        resp = login(client, password=ADMIN_PASSWORD)
        assert resp.status_code == 303
        session = cookies_set(resp)[site.config["SESSION_COOKIE_NAME"]]
        assert session == {"httponly": True, "secure": scheme == "https", "samesite": "Lax"}

        # The app never asks for "remember me" today; if it ever does, the cookie must carry the same flags.
        with site.test_request_context("/admin/login", method="POST"):
            login_user(get_user("admin"), remember=True)
            remembered = cookies_set(site.process_response(site.make_response("ok")))
        assert remembered[site.config.get("REMEMBER_COOKIE_NAME", "remember_token")] == {
            "httponly": True, "secure": scheme == "https", "samesite": "Lax"}
    finally:
        with site.app_context():
            db.session.remove()
            db.engine.dispose()
