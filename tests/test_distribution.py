"""Distribution: the QR codes, the poster (HTML and PDF) and the one-time code slips."""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from xml.etree import ElementTree

import flask
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import AuditEntry, ParticipationCode
from app.services import campaigns, distribution
from app.services.codes import code_hmac
from app.services.surveys import import_survey
from tests.conftest import OSQ, csrf_token, login

CODE_RE = re.compile(r'<p class="code mono">([2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5})</p>')
DATA_URI_RE = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
BASE = "https://survey.example.gov.cn/office"


def decode(png: bytes) -> zxingcpp.Barcode:
    barcode = zxingcpp.read_barcode(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert barcode is not None and barcode.valid
    return barcode


def open_campaign(app, mode="open", closes_in=None):
    with app.app_context():
        import_survey(OSQ.read_bytes(), filename=str(OSQ))
        closes = campaigns.today() + timedelta(days=closes_in) if closes_in is not None else None
        return campaigns.open_campaign("office-service-quality", "二季度测评", mode=mode, closes_on=closes).slug


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# --- QR codes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [None, BASE + "/"])
def test_qr_png_encodes_the_campaign_url(app, logged_in, campaign, base):
    app.config["PUBLIC_BASE_URL"] = base
    resp = logged_in.get(f"/admin/campaigns/{campaign}/qr.png?code=ABCDE-FGHJK")  # ?code= is ignored
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    barcode = decode(resp.data)
    expected = (BASE if base else "http://localhost") + f"/s/{campaign}"
    assert barcode.text == expected
    assert barcode.ec_level in ("Q", "H")
    image = Image.open(io.BytesIO(resp.data)).convert("L")
    quiet = distribution.BORDER * distribution.PNG_SCALE
    assert image.getextrema() == (0, 255)
    assert image.crop((0, 0, image.width, quiet)).getextrema() == (255, 255)  # a 4-module white margin
    assert image.crop((0, 0, quiet, image.height)).getextrema() == (255, 255)


def test_qr_svg_is_an_svg_document(logged_in, campaign):
    resp = logged_in.get(f"/admin/campaigns/{campaign}/qr.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(resp.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") and root.get("width", "").endswith("mm")


def test_unknown_campaign_is_404(logged_in):
    for path in ("qr.png", "qr.svg", "poster", "poster.pdf", "codes"):
        assert logged_in.get(f"/admin/campaigns/nope/{path}").status_code == 404


def test_new_routes_refuse_anonymous_access(client, campaign):
    for path in ("qr.png", "qr.svg", "poster", "poster.pdf", "codes"):
        resp = client.get(f"/admin/campaigns/{campaign}/{path}")
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/admin/login"), path


# --- the poster ---------------------------------------------------------------------------------------


def test_poster_page_has_url_closing_date_and_privacy(app, logged_in):
    slug = open_campaign(app, closes_in=30)
    with app.app_context():
        closes = campaigns.get_campaign(slug).closes_on.isoformat()
    html = logged_in.get(f"/admin/campaigns/{slug}/poster").get_data(as_text=True)
    assert f"http://localhost/s/{slug}" in html and closes in html
    assert "不记录姓名、IP 或提交时间" in html and "任何人都看不到个人答卷" in html and "5 人以上" in html
    assert "no one can see an individual" not in html  # English only when the page is English
    assert f'src="/admin/campaigns/{slug}/qr.svg"' in html
    assert "PUBLIC_BASE_URL" in html  # localhost: phones could not open it, the page warns
    assert " style=" not in html and "<script" not in html

    app.config["PUBLIC_BASE_URL"] = BASE
    english = logged_in.get(f"/admin/campaigns/{slug}/poster?lang=en").get_data(as_text=True)
    assert f"{BASE}/s/{slug}" in english and "PUBLIC_BASE_URL" not in english
    assert "不记录姓名" in english and "no one can see an individual&#39;s answers" in english


def test_poster_pdf_is_one_a4_page_with_the_cjk_font(app, logged_in):
    slug = open_campaign(app, closes_in=10)
    resp = logged_in.get(f"/admin/campaigns/{slug}/poster.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    pdf = resp.data
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.44 841\.68\s*\]", pdf)  # 8.27 x 11.69 in
    assert b"NotoSansSC" in pdf


def test_poster_figure_draws_a_readable_qr_code(app):
    url = f"{BASE}/s/AbCdEfGh12345678"
    poster = distribution.Poster(title="办公室工作质效测评", campaign="二季度", url=url, scan="扫码填写",
                                 or_open="或在浏览器中打开：", closes="截止日期：2026-12-31",
                                 privacy=distribution.PRIVACY["zh"].split("；"))
    buffer = io.BytesIO()
    distribution.poster_figure(poster).savefig(buffer, format="png", dpi=150)
    assert decode(buffer.getvalue()).text == url


def test_wrap_breaks_between_cjk_characters_and_at_spaces():
    assert distribution.wrap("办公室工作质效测评", 8) == ["办公室工", "作质效测", "评"]
    assert distribution.wrap("no one can see answers", 10) == ["no one can", "see", "answers"]
    assert distribution.wrap("不记录 IP 地址", 8) == ["不记录", "IP 地址"]


# --- one-time code slips ------------------------------------------------------------------------------


def codes_page(client, slug, **params):
    return client.get(f"/admin/campaigns/{slug}/codes", query_string=params)


def generate(client, slug, value, lang=None):
    token = csrf_token(codes_page(client, slug).get_data(as_text=True))
    suffix = f"?lang={lang}" if lang else ""
    return client.post(f"/admin/campaigns/{slug}/codes{suffix}", data={"count": value, "csrf_token": token})


def test_codes_page_generates_printable_slips_shown_once(app, logged_in):
    slug = open_campaign(app, mode="codes")
    page = codes_page(logged_in, slug).get_data(as_text=True)
    assert 'name="count"' in page and "HMAC" in page

    resp = generate(logged_in, slug, "12")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    printed = CODE_RE.findall(html)
    assert len(printed) == len(set(printed)) == 12
    images = DATA_URI_RE.findall(html)
    assert len(images) == 12
    assert html.count('class="sheet"') == 2  # ten slips per A4 page
    assert " style=" not in html and "<script" not in html
    assert "?code=" not in html.replace("data:image", "")  # no code in any link or image URL

    url = f"http://localhost/s/{slug}"
    first = printed[0]
    assert base64.b64decode(images[0]) == distribution.qr_svg(f"{url}?code={first}")
    assert ElementTree.fromstring(base64.b64decode(images[0])).tag == "{http://www.w3.org/2000/svg}svg"
    assert decode(distribution.qr_png(distribution.code_url(url, first))).text == f"{url}?code={first}"

    with app.app_context():
        stored = db.session.execute(select(ParticipationCode)).scalars().all()
        assert {row.code_hmac for row in stored} == {code_hmac(c) for c in printed}
        audit = db.session.execute(select(AuditEntry)).scalars().all()
        dump = " ".join(f"{r.code_hmac} {r.campaign_id}" for r in stored)
        dump += " ".join(f"{a.action} {a.target} {a.detail}" for a in audit)
    assert not any(c in dump or c.replace("-", "") in dump for c in printed)
    assert [(a.action, a.target, a.detail) for a in audit] == [("codes.generate", slug, "count=12")]

    again = codes_page(logged_in, slug, lang="en").get_data(as_text=True)
    assert "Codes issued: 12. Used: 0." in again and not CODE_RE.search(again)


def test_a_scanned_slip_fills_in_the_code(app, logged_in):
    slug = open_campaign(app, mode="codes")
    code = CODE_RE.findall(generate(logged_in, slug, "1").get_data(as_text=True))[0]
    link = distribution.code_url(f"/s/{slug}", code)
    form = app.test_client().get(link).get_data(as_text=True)
    assert re.search(rf'<input[^>]*name="code"[^>]*value="{code}"', form)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "2.5", "", "501", "5001"])
def test_bad_counts_are_refused_and_create_nothing(app, logged_in, value):
    slug = open_campaign(app, mode="codes")
    resp = generate(logged_in, slug, value, lang="en")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert html.count("Enter a whole number from 1 to 500.") == 1
    assert not CODE_RE.search(html)
    assert count(app, ParticipationCode) == 0 and count(app, AuditEntry) == 0


def test_open_campaign_offers_no_code_form(app, logged_in, campaign):
    page = codes_page(logged_in, campaign, lang="en").get_data(as_text=True)
    assert "code mode" in page and 'name="count"' not in page
    token = csrf_token(page)
    resp = logged_in.post(f"/admin/campaigns/{campaign}/codes", data={"count": "3", "csrf_token": token})
    assert resp.status_code == 409
    assert count(app, ParticipationCode) == 0 and count(app, AuditEntry) == 0


def test_closed_campaign_generates_no_codes(app, logged_in):
    slug = open_campaign(app, mode="codes")
    with app.app_context():
        campaigns.close_campaign(campaigns.get_campaign(slug))
    page = codes_page(logged_in, slug, lang="en").get_data(as_text=True)
    assert "closed" in page and 'name="count"' not in page
    resp = logged_in.post(f"/admin/campaigns/{slug}/codes", data={"count": "3", "csrf_token": csrf_token(page)})
    assert resp.status_code == 409 and count(app, ParticipationCode) == 0


def test_proxyfix_by_setting_gives_public_links_but_never_reads_the_client_address(app, campaign, admin):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "survey.tax.example", "X-Forwarded-For": "203.0.113.9"}
    plain = app.test_client()
    login(plain)
    assert "https://survey.tax.example/s/" not in plain.get(f"/admin/campaigns/{campaign}", headers=headers).get_data(
        as_text=True)
    proxied_app = create_app({**app.config, "BEHIND_PROXY": True})
    seen = {}

    @proxied_app.before_request
    def capture():
        seen["remote"] = flask.request.remote_addr

    client = proxied_app.test_client()
    try:
        login(client)
        page = client.get(f"/admin/campaigns/{campaign}", headers=headers).get_data(as_text=True)
        assert f"https://survey.tax.example/s/{campaign}" in page
        assert seen["remote"] != "203.0.113.9"
    finally:
        with proxied_app.app_context():
            db.engine.dispose()  # a second app has its own connection pool
