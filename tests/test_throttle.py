"""Login throttling: counted in a store every worker shares, per account and client, without locking others out."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits import parse
from sqlalchemy import select

from app import create_app
from app.extensions import db, limiter
from app.services import accounts
from app.throttle import RateLimitCounter
from tests.conftest import ADMIN_PASSWORD, csrf_token

# The Redis of the Redis variant; without it that variant is skipped, unless REQUIRE_REDIS is set (CI: .ci/run),
# in which case an unreachable Redis is an error: CI must not pass by skipping it.
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
REDIS_REQUIRED = os.environ.get("REQUIRE_REDIS", "") not in ("", "0")
ATTACKER, OWNER = "203.0.113.7", "198.51.100.23"
WORKERS: list = []


def worker(app, **overrides):
    """Return another app on the same database and secret key, as a second gunicorn worker would be."""
    config = {name: app.config[name] for name in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI",
                                                  "MIN_FILL_SECONDS", "REDIS_URL", "REDIS_KEY_PREFIX")}
    other = create_app({**config, **overrides})
    WORKERS.append(other)
    return other


@pytest.fixture(autouse=True)
def close_workers():
    yield
    while WORKERS:
        with WORKERS.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def client_from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


class Attempt:
    """A client that has fetched the login form once and then posts to it as often as asked."""

    def __init__(self, app, address, **headers):
        self.client = client_from(app, address)
        self.headers = headers
        self.token = csrf_token(self.client.get("/admin/login", headers=headers).get_data(as_text=True))

    def __call__(self, username="admin", password="wrong password"):
        data = {"username": username, "password": password, "csrf_token": self.token}
        return self.client.post("/admin/login", data=data, headers=self.headers)


@pytest.fixture
def evaluations(monkeypatch):
    """Count the passwords checked (every call to check_password_hash, for existing users and not)."""
    calls = []
    real = accounts.check_password_hash

    def counting(pwhash, password):
        calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return calls


def amount(app, name="LOGIN_LIMIT"):
    return parse(app.config[name]).amount


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=5, socket_timeout=5)


def redis_reachable() -> bool:
    import redis

    try:
        with redis_client() as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    """The app itself (the database store) or the same app configured with Redis (TEST_REDIS_URL), under a key
    prefix of its own that is emptied before and after the test."""
    if request.param == "database":
        yield app
        return
    if not redis_reachable():
        if REDIS_REQUIRED:
            pytest.fail(f"REQUIRE_REDIS is set but Redis is not reachable at {REDIS_TEST_URL}", pytrace=False)
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL} (set TEST_REDIS_URL)")
    # A prefix of its own, so that test runs at the same time (other checkouts, CI) do not count each other's tries.
    redis_app = worker(app, REDIS_URL=REDIS_TEST_URL, REDIS_KEY_PREFIX=f"officepulse-test-{uuid.uuid4().hex}")
    with redis_app.app_context():
        limiter.reset()
    yield redis_app
    with redis_app.app_context():
        limiter.reset()


def test_default_limits_are_sane(app):
    assert 3 <= amount(app) <= amount(app, "LOGIN_CLIENT_LIMIT") <= 100
    assert parse(app.config["LOGIN_LIMIT"]).get_expiry() >= 60


def test_500_wrong_passwords_from_two_workers_check_at_most_the_limit(store, admin, evaluations):
    workers = [store, worker(store)]
    # Ten concurrent attackers from one address, five through each worker, fifty wrong passwords each.
    attempts = [Attempt(workers[i % 2], ATTACKER) for i in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = [s for chunk in pool.map(lambda a: [a().status_code for _ in range(50)], attempts) for s in chunk]
    limit = amount(store)
    assert len(evaluations) <= limit
    assert statuses.count(401) == len(evaluations) == limit  # nothing is lost either: exactly the limit checked
    assert statuses.count(429) == 500 - limit
    refused = attempts[0]()
    assert refused.status_code == 429
    assert "尝试次数过多，请稍候再试。" in refused.get_data(as_text=True)
    assert attempts[1](password=ADMIN_PASSWORD).status_code == 429  # even the right password waits
    assert len(evaluations) == limit
    # The real owner, from elsewhere, is not locked out of the same account, through either worker.
    for w in workers:
        owner = Attempt(w, OWNER)
        assert owner(password=ADMIN_PASSWORD).status_code == 303
        assert owner.client.get("/admin/").status_code == 200


def test_many_account_names_from_one_client_are_limited_too(store, admin, evaluations):
    strict = worker(store, LOGIN_CLIENT_LIMIT="12 per 5 minutes")  # fewer scrypt checks than the default
    attempt = Attempt(strict, ATTACKER)
    statuses = [attempt(username=f"user{i}").status_code for i in range(100)]
    assert len(evaluations) == 12
    assert statuses.count(401) == 12 and statuses.count(429) == 100 - 12
    assert Attempt(strict, OWNER)(password=ADMIN_PASSWORD).status_code == 303


def test_the_limit_is_per_account_and_client(app, admin, evaluations):
    with app.app_context():
        accounts.create_admin("deputy", "another good password")
    attempt = Attempt(app, ATTACKER)
    for _ in range(amount(app) + 3):
        attempt(username="admin")
    assert attempt(username="admin").status_code == 429
    # Another account from the same client still has its own allowance (within the per-client limit).
    assert attempt(username="deputy", password="another good password").status_code == 303


def test_the_window_ends(app, admin, monkeypatch):
    import app.throttle as throttle

    attempt = Attempt(app, ATTACKER)
    assert attempt(username="someone else").status_code == 401
    for _ in range(amount(app)):
        assert attempt().status_code == 401
    assert attempt().status_code == 429
    later = throttle.time.time() + parse(app.config["LOGIN_LIMIT"]).get_expiry() + 1
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    assert attempt(password=ADMIN_PASSWORD).status_code == 303
    with app.app_context():  # ended windows are deleted, not kept
        expiries = db.session.execute(select(RateLimitCounter.expires_at)).scalars().all()
    assert len(expiries) == 2 and all(expiry > later for expiry in expiries)


def test_no_address_or_name_reaches_the_store(store, admin):
    attempt = Attempt(store, ATTACKER)
    for name in ("admin", "guessed-name", "admin"):
        attempt(username=name)
    if store.config.get("REDIS_URL"):
        with redis_client() as client:
            keys = [k.decode() for k in client.scan_iter(match=store.config["REDIS_KEY_PREFIX"] + ":*")]
    else:
        with store.app_context():
            keys = list(db.session.execute(select(RateLimitCounter.key)).scalars())
    assert len(keys) == 3  # one per client, one per (account, client) pair
    for key in keys:
        assert ATTACKER not in key and "admin" not in key and "guessed" not in key


def test_a_failed_store_is_a_refusal_not_a_login(app, admin, evaluations):
    with app.app_context():
        db.session.execute(db.text("DROP TABLE rate_limit_counters"))
        db.session.commit()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = Attempt(app, ATTACKER)(password=ADMIN_PASSWORD)
    assert resp.status_code == 500 and evaluations == []


def test_behind_a_proxy_the_configured_header_tells_clients_apart(app, admin, evaluations):
    proxied = worker(app, LOGIN_CLIENT_HEADER="X-Real-IP")
    attacker = Attempt(proxied, "127.0.0.1", **{"X-Real-IP": ATTACKER})
    for _ in range(amount(proxied) + 5):
        attacker()
    assert attacker().status_code == 429
    owner = Attempt(proxied, "127.0.0.1", **{"X-Real-IP": OWNER})
    assert owner(password=ADMIN_PASSWORD).status_code == 303


def test_a_malformed_limit_stops_the_app_at_start(app):
    with pytest.raises(ValueError):
        worker(app, LOGIN_LIMIT="ten a minute")
