"""Browser tests: Playwright (Python) driving Debian's Chromium against the app served by gunicorn.

One gunicorn server (SQLite file, two workers, 200 demo responses) and one Chromium serve the whole session.
Playwright never downloads a browser of its own: it launches /usr/bin/chromium (`make browser-deps` installs
it, with the CJK fonts and axe-core). ``SCREENSHOTS=1`` (``make screenshots``) saves the pictures of the README
under docs/screenshots/; without it the tests still take them, into the test's temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import live

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = live.ROOT / "docs" / "screenshots"
DEMO_RESPONSES = 200

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/126.0 Mobile Safari/537.36"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1, "locale": "zh-CN",
           "timezone_id": "Asia/Shanghai", "accept_downloads": True}


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium")
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


# Package scope: Chromium, Playwright's event loop and the server stop once the browser tests are done.
@pytest.fixture(scope="package")
def server(tmp_path_factory) -> Iterator[live.LiveServer]:
    """gunicorn as `make run` starts it (two workers), on a free port, over a bootstrapped SQLite file."""
    workdir = tmp_path_factory.mktemp("browser-server")
    # The PDF report is drawn within its request, which can take longer than gunicorn.conf.py's 30 s worker
    # timeout on two cores shared with other work; a longer timeout here keeps the download test about the download.
    srv = live.LiveServer(live.sqlite_url(workdir / "officepulse.sqlite3"), workdir, workers=2,
                          extra_env={"GUNICORN_CMD_ARGS": "--timeout 240"})
    srv.flask("db", "upgrade")
    output = srv.flask("bootstrap", "--demo-responses", str(DEMO_RESPONSES))
    srv.slug = re.search(r"^Survey \(.*\): \S+/s/(\S+)$", output, re.M).group(1)
    try:  # started here rather than with live.serving, so that a failed start leaves no gunicorn behind
        srv.start()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="package")
def browser(server):
    """One Chromium for the session. The server starts first: it waits on its own asyncio loop, which cannot
    run inside the loop that Playwright's sync API keeps running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def phone(browser, server):
    """A fresh phone (390x844, touch, zh-CN) with its own cookies and an empty cache."""
    context = browser.new_context(base_url=server.base, **PHONE)
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def phone_nojs(browser, server):
    context = browser.new_context(base_url=server.base, java_script_enabled=False, **PHONE)
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture(scope="package")
def admin(browser, server):
    """A desktop browser logged in as the admin through the login form."""
    context = browser.new_context(base_url=server.base, **DESKTOP)
    context.set_default_timeout(60_000)  # the first chart or PDF of a campaign is drawn on request
    page = context.new_page()
    page.goto("/admin/login")
    log_in(page, server)
    page.close()
    yield context
    context.close()


def log_in(page, server: live.LiveServer, password: str = live.ADMIN_PASSWORD):
    """Fill in and send the login form shown in ``page``; return the response to the POST."""
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/admin/login")) as posted:
        page.get_by_role("button", name="登录").click()
    reply = posted.value
    if password == live.ADMIN_PASSWORD:
        assert reply.status == 303, f"login answered {reply.status}; server log:\n{server.log()[-3000:]}"
        page.wait_for_url(re.compile(r"/admin/$"))
    return reply


@pytest.fixture(scope="package")
def survey_url(admin, server) -> str:
    """The survey address as a phone reads it from the campaign's QR code (the PNG the admin downloads)."""
    import zxingcpp
    from PIL import Image

    reply = admin.request.get(f"/admin/campaigns/{server.slug}/qr.png")
    assert reply.ok and reply.headers["content-type"] == "image/png"
    barcode = zxingcpp.read_barcode(Image.open(io.BytesIO(reply.body())), formats=zxingcpp.BarcodeFormat.QRCode)
    assert barcode is not None and barcode.valid
    assert barcode.text == f"{server.base}/s/{server.slug}"
    return barcode.text


@pytest.fixture(scope="package")
def survey():
    import surveys

    return surveys.load(surveys.TEMPLATES_DIR / f"{live.SURVEY_KEY}.yaml")


# ------------------------------------------------------------------------------------------ accessibility

SEVERE = ("serious", "critical")


def axe(page, context: str = "body") -> list[dict]:
    """Run axe-core (WCAG 2.x A and AA rules, with best practices) in ``page``; return its violations."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser-deps` (npm ci in tests/browser)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy (default-src 'self',
        # kept on in these tests) does not govern, unlike a <script> tag added to the page.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async (context) => await axe.run(context, {
               runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
               resultTypes: ['violations']})""",
        context,
    )
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def assert_accessible(page, what: str, context: str = "body") -> list[dict]:
    """No serious or critical axe violation; the lesser ones are returned (and printed) for the record."""
    violations = axe(page, context)
    severe = [v for v in violations if v["impact"] in SEVERE]
    assert not severe, f"axe on {what}:\n" + json.dumps(severe, ensure_ascii=False, indent=1)
    for v in violations:
        print(f"axe ({what}): {v['impact']} {v['id']}: {v['help']} {v['nodes']}")
    return violations


def assert_controls_labelled(page) -> None:
    """Every visible form control has an accessible name (a <label>, aria-label(ledby) or a legend'd group)."""
    unnamed = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
              .filter(el => el.type !== 'hidden' && !el.closest('[aria-hidden=true]') && !el.closest('[hidden]'))
              .filter(el => !(el.labels && el.labels.length && el.labels[0].textContent.trim())
                            && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')
                            && !(el.tagName === 'BUTTON' && el.textContent.trim()))
              .map(el => el.outerHTML.slice(0, 120))"""
    )
    assert unnamed == [], unnamed


# ------------------------------------------------------------------------------------------ screenshots


def screenshot(page, name: str, tmp_path: Path, *, element=None, full_page: bool = False, clip=None) -> Path:
    """Take a screenshot; keep it under docs/screenshots/ when SCREENSHOTS=1 (``make screenshots``)."""
    from PIL import Image

    target = SCREENSHOT_DIR / name if os.environ.get("SCREENSHOTS") == "1" else tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    png = (element or page).screenshot(animations="disabled", caret="hide",
                                       **({} if element else {"full_page": full_page, "clip": clip}))
    image = Image.open(io.BytesIO(png))
    # Few colours suffice for these flat pages: a 256-colour palette keeps each file small for the README.
    image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        target, optimize=True)
    return target
