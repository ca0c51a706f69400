"""`make run` from the top: migrate, bootstrap, serve with gunicorn; then a phone submits over real HTTP."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import surveys
from surveys.answers import validate
from tests.conftest import hidden_fields
from tests.helpers import full_answers

ROOT = Path(__file__).resolve().parent.parent
DISTINCTIVE_UA = "DistinctiveAgent/9.9 (respondent-fingerprint)"
DISTINCTIVE_IP = "203.0.113.77"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("makerun")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "SECRET_KEY": "m" * 40,
           "DATABASE_URL": f"sqlite:///{tmp / 'run.sqlite3'}", "OFFICEPULSE_ADMIN_PASSWORD": "make-run-password",
           "WEB_CONCURRENCY": "2", "OFFICEPULSE_MIN_FILL_SECONDS": "0"}
    with open(tmp / "server.log", "wb") as log:
        proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a fresh venv may still be compiling catalogs; workers may be slow
        while True:
            try:
                with urllib.request.urlopen(base + "/privacy", timeout=5):
                    break
            except OSError:
                assert proc.poll() is None, (tmp / "server.log").read_text()
                assert time.monotonic() < deadline, "make run did not serve in time"
                time.sleep(0.3)
        yield base, tmp / "server.log"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def fetch(opener, request, data=None) -> str:
    with opener.open(request, data=data) as response:
        return response.read().decode()


def redirect_of(opener, request, data=None) -> urllib.error.HTTPError:
    """Return the redirect answered to ``request`` (not followed)."""
    with pytest.raises(urllib.error.HTTPError) as info:
        fetch(opener, request, data)
    info.value.close()
    return info.value


def test_make_run_prints_links_and_serves_the_survey(served):
    base, log_path = served
    output = log_path.read_text()
    assert "Admin login: admin / (from OFFICEPULSE_ADMIN_PASSWORD)" in output
    survey_url = re.search(r"^Survey \(.*\): (\S+)$", output, re.M).group(1)
    assert survey_url.startswith(base + "/s/")
    assert f"Admin: {base}/admin/" in output
    qr_path = Path(re.search(r"^QR code of the survey: (.+)$", output, re.M).group(1))
    assert qr_path.parent == ROOT / "instance" and qr_path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    qr_path.unlink()
    poster_url = re.search(r"printable poster: (\S+)\)", output).group(1)

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    headers = {"User-Agent": DISTINCTIVE_UA, "X-Forwarded-For": DISTINCTIVE_IP, "Referer": "https://ref.example/x"}
    page = fetch(opener, urllib.request.Request(survey_url, headers=headers))
    survey = surveys.load(surveys.TEMPLATES_DIR / "office-service-quality.yaml")
    answers = full_answers(survey, "office")
    assert validate(survey, answers).ok
    body = urllib.parse.urlencode({**answers, **hidden_fields(page)}, doseq=True).encode()
    redirect = redirect_of(opener, urllib.request.Request(survey_url, data=body, headers=headers))
    assert redirect.code == 303
    thanks_url = urllib.parse.urljoin(survey_url, redirect.headers["Location"])
    assert "答卷已提交成功" in fetch(opener, urllib.request.Request(thanks_url, headers=headers))

    # The admin sees the response, through the same server.
    login_page = fetch(opener, base + "/admin/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    form = urllib.parse.urlencode({"username": "admin", "password": "make-run-password", "csrf_token": token})
    assert redirect_of(opener, base + "/admin/login", form.encode()).code == 303
    dashboard = fetch(opener, base + "/admin/")
    assert '<td class="num">1</td>' in dashboard
    assert survey_url in fetch(opener, poster_url)  # the poster, with the survey's address under its QR code

    # Nothing identifying reached the server's log.
    log = log_path.read_text()
    assert '"POST /s/' in log  # the access log is on...
    for secret in (DISTINCTIVE_UA, DISTINCTIVE_IP, "ref.example", "127.0.0.1 -"):
        assert secret not in log  # ...without address, agent or referrer
