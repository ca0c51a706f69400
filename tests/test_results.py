"""The head's results: the page, results.json and the CLI, the spreadsheet, filters and suppression."""

from __future__ import annotations

import io
import json
import re
from html import unescape as html_unescape

import openpyxl
import pytest

from analysis import XLSX_SHEETS
from app.services.campaigns import get_campaign
from app.services.results import campaign_results
from tests.conftest import login


def fill(runner, slug, n, seed=0):
    result = runner.invoke(args=["demo-data", slug, "--responses", str(n), "--seed", str(seed)])
    assert result.exit_code == 0, result.output


@pytest.fixture
def filled(runner, campaign):
    fill(runner, campaign, 150)
    return campaign


def test_results_json_shape_and_the_seed_pattern(client, admin, filled):
    login(client)
    data = client.get(f"/admin/campaigns/{filled}/results.json").get_json()
    assert data["campaign"] == filled and data["survey"] == "office-service-quality"
    assert data["n_responses"] == 150 and data["k"] == 5
    assert {g["id"] for g in data["groups"]} >= {"office", "grassroots"}
    for key in ("dimensions", "self_view_gaps", "causes", "enps", "satisfaction", "reliability", "findings"):
        assert key in data
    dims = {(d["id"], d["group"]): d for d in data["dimensions"]}
    service_all = dims[("service", "all")]
    assert set(service_all) >= {"id", "group", "n", "perception_mean", "expectation_mean", "gap", "gap_ci",
                                "favourable_pct", "suppressed"}
    assert service_all["gap"] == pytest.approx(service_all["perception_mean"] - service_all["expectation_mean"],
                                               abs=0.15)
    gap = next(g for g in data["self_view_gaps"] if g["dimension"] == "service" and g["customer_group"] == "grassroots")
    assert gap["difference"] > 0.5 and gap["p_adjusted"] < 0.05  # grassroots rate service lower than the office
    top_causes = sorted((c for c in data["causes"] if c["group"] == "all"), key=lambda c: -c["mean"])[:2]
    assert {c["id"] for c in top_causes} == {"pay", "incentives"}
    assert data["findings"] and "zh" in data["findings"][0] and "en" in data["findings"][0]
    assert -100 <= data["enps"]["score"] <= 100


def test_cli_results_prints_the_same_json(client, admin, runner, filled):
    login(client)
    via_http = client.get(f"/admin/campaigns/{filled}/results.json").get_json()
    printed = runner.invoke(args=["results", filled])
    assert printed.exit_code == 0
    assert json.loads(printed.output) == via_http
    assert runner.invoke(args=["results", "nope"]).exit_code == 1


def test_small_groups_are_null_never_numbers(client, admin, runner, campaign):
    fill(runner, campaign, 12, seed=5)  # a dozen responses: some groups are below k = 5
    login(client)
    data = client.get(f"/admin/campaigns/{campaign}/results.json").get_json()
    suppressed = [d for d in data["dimensions"] if d["suppressed"]]
    assert suppressed, "expected at least one suppressed cell with 12 responses"
    for d in suppressed:
        assert d["n"] is None and d["perception_mean"] is None and d["gap"] is None and d["gap_ci"] is None
    for g in data["groups"]:
        assert g["suppressed"] or g["n"] >= 5


def test_results_page_shows_cards_findings_and_tables(client, admin, filled):
    login(client)
    html = client.get(f"/admin/campaigns/{filled}").get_data(as_text=True)
    assert 'id="total">150<' in html
    assert '<ol class="findings">' in html and "服务意识与对象" in html
    assert "满意" in html and "eNPS" in html


def test_group_filter_and_refusal(client, admin, runner, campaign):
    fill(runner, campaign, 60, seed=2)
    login(client)
    office = client.get(f"/admin/campaigns/{campaign}?group=office")
    assert office.status_code == 200 and 'aria-current="page">办公室工作人员' in office.get_data(as_text=True)
    refused = client.get(f"/admin/campaigns/{campaign}?group=nobody").get_data(as_text=True)
    assert "保护匿名" in refused or "anonymity" in refused


def test_results_xlsx_has_the_key_tables(client, admin, filled):
    login(client)
    resp = client.get(f"/admin/campaigns/{filled}/results.xlsx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    book = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
    assert set(XLSX_SHEETS) | {"findings"} <= set(book.sheetnames)
    header = next(book["service_gaps"].iter_rows(max_row=1, values_only=True))
    assert {"dimension", "group", "gap", "ci_low", "ci_high", "suppressed"} <= set(header)


CHART_NAMES = ("summary", "gap", "self-view", "ipa", "likert", "heatmap", "morale", "causes", "themes", "trend")


def test_every_chart_is_served_as_png_and_svg(client, admin, filled):
    login(client)
    page = client.get(f"/admin/campaigns/{filled}").get_data(as_text=True)
    for name in CHART_NAMES:
        assert f"/admin/campaigns/{filled}/charts/{name}.png" in page
        png = client.get(f"/admin/campaigns/{filled}/charts/{name}.png")
        assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    svg = client.get(f"/admin/campaigns/{filled}/charts/gap.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data[:500]
    assert client.get(f"/admin/campaigns/{filled}/charts/nope.png").status_code == 404
    assert client.get(f"/admin/campaigns/{filled}/charts/gap.gif").status_code == 404


def test_charts_are_cached_per_response_count(app, client, admin, runner, filled):
    login(client)
    first = client.get(f"/admin/campaigns/{filled}/charts/causes.png").data
    with app.app_context():
        cached = campaign_results(get_campaign(filled))
        assert ("chart", "causes", "png", "zh") in cached.rendered
    fill(runner, filled, 20, seed=9)
    with app.app_context():
        fresh = campaign_results(get_campaign(filled))
        assert fresh.n_responses == 170 and ("chart", "causes", "png", "zh") not in fresh.rendered
    assert client.get(f"/admin/campaigns/{filled}/charts/causes.png").data != first


def test_pdf_report_via_http_and_cli(client, admin, runner, filled, tmp_path):
    login(client)
    pdf = client.get(f"/admin/campaigns/{filled}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data[:5] == b"%PDF-"
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.data)) == 14  # cover, findings, 10 charts, tables, method
    out = tmp_path / "r.pdf"
    result = runner.invoke(args=["report", filled, "-o", str(out)])
    assert result.exit_code == 0 and out.read_bytes()[:5] == b"%PDF-"


def test_comments_come_a_hundred_at_a_time(app, client, admin, runner, campaign):
    fill(runner, campaign, 300)
    login(client)
    with app.app_context():
        expected = campaign_results(get_campaign(campaign)).report["comments"]["text"].tolist()
    assert 200 < len(expected) <= 300  # three pages
    shown, pages = [], []
    for page in (1, 2, 3):
        html = client.get(f"/admin/campaigns/{campaign}?comments={page}").get_data(as_text=True)
        items = re.search(r'<ul class="comments">(.*?)</ul>', html, re.S).group(1)
        shown += [html_unescape(t) for t in re.findall(r"<li>(.*?)</li>", items, re.S)]
        pages.append(html)
    assert shown == expected  # every comment once, in the report's (shuffled) order
    assert f"第 1–100 条，共 {len(expected)} 条意见" in pages[0] and "第 1 / 3 页" in pages[0]
    assert "?comments=2#comments" in pages[0] and "上一页" not in pages[0]
    assert "上一页" in pages[2] and "下一页" not in pages[2]
    # Out of range pages show the nearest one.
    last = client.get(f"/admin/campaigns/{campaign}?comments=99").get_data(as_text=True)
    assert f"第 201–{len(expected)} 条" in last
