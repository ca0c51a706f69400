"""The office head's pages on a desktop: log in, open the campaign, every chart drawn, the CSV and the PDF
downloaded, the poster with its QR code. axe-core checks each page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, assert_accessible, assert_controls_labelled, log_in, screenshot

pytestmark = pytest.mark.slow

CHARTS = 10


@pytest.fixture
def desktop(browser, server):
    context = browser.new_context(base_url=server.base, **DESKTOP)
    context.set_default_timeout(60_000)  # a campaign's charts and PDF are drawn on the first request
    yield context
    context.close()


def test_admin_logs_in_opens_the_campaign_and_downloads(desktop, server, tmp_path):
    page = desktop.new_page()
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login"))  # the admin pages need a login
    assert_controls_labelled(page)
    assert_accessible(page, "admin login")
    assert log_in(page, server, "wrong password").status == 401
    expect(page.get_by_text("用户名或密码错误。")).to_be_visible()
    log_in(page, server)
    assert_accessible(page, "admin dashboard")

    page.get_by_role("link", name=re.compile("办公室工作质效测评")).first.click()
    expect(page).to_have_url(re.compile(rf"/admin/campaigns/{server.slug}$"))
    total = int(page.locator("#total").inner_text())
    assert total >= 200  # the 200 demo responses, and those the phone tests submitted

    # Every chart image loads (they are lazy: each is scrolled to, as a reader would).
    images = page.locator("figure.chart img")
    expect(images).to_have_count(CHARTS)
    for i in range(CHARTS):
        images.nth(i).scroll_into_view_if_needed()
    page.wait_for_function(
        """n => { const imgs = [...document.querySelectorAll('figure.chart img')];
                  return imgs.length === n
                         && imgs.every(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0); }""",
        arg=CHARTS, timeout=180_000,
    )
    sizes = images.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert all(w >= 300 and h >= 200 for w, h in sizes), sizes
    assert_controls_labelled(page)
    assert_accessible(page, "campaign results page")
    page.evaluate("window.scrollTo(0, 0)")
    page.set_viewport_size({"width": 1280, "height": 1500})
    screenshot(page, "dashboard.png", tmp_path)
    page.set_viewport_size(DESKTOP["viewport"])

    # The CSV: one row per response, with a BOM and CRLF, as Excel wants it.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV（选项代码）").click()
    download = download_info.value
    assert download.suggested_filename == f"responses-{server.slug}.csv"
    data = download.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == total
    assert {"group", "overall", "goals_p1"} <= set(rows[0])

    # The PDF report.
    with page.expect_download(timeout=180_000) as download_info:
        page.get_by_role("link", name="测评报告（PDF）").click()
    download = download_info.value
    assert download.suggested_filename == f"report-{server.slug}.pdf"
    pdf = download.path().read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 20_000

    # The poster: A4, with the QR code of the survey link.
    page.get_by_role("link", name="海报和二维码").click()
    expect(page).to_have_url(re.compile(rf"/admin/campaigns/{server.slug}/poster$"))
    qr = page.locator("article.poster img.qr")
    expect(qr).to_be_visible()
    page.wait_for_function("() => { const q = document.querySelector('article.poster img.qr');"
                           " return q.complete && q.naturalWidth > 0; }")
    expect(page.locator("#poster-url")).to_have_text(f"{server.base}/s/{server.slug}")
    assert_accessible(page, "poster page")
    screenshot(page, "poster.png", tmp_path, element=page.locator("article.poster"))
