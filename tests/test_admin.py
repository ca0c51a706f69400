"""Admin login, the URL sweep, the dashboard and the CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest
from scipy.stats import spearmanr

from analysis import MERGED, reported_groups
from app.services.campaigns import get_campaign
from app.services.export import neutralise
from app.services.surveys import definition
from tests.conftest import csrf_token, login
from tests.helpers import full_answers
from tests.test_survey_form import submit


def admin_urls(app):
    """Every admin URL, with a placeholder for each argument."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and rule.endpoint != "admin.login":
            url = re.sub(r"<(?:(\w+):)?\w+>", lambda m: "1" if m.group(1) == "int" else "x", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


def test_every_admin_url_refuses_anonymous_access(app, client):
    urls = list(admin_urls(app))
    assert len(urls) >= 4
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))  # so POSTs reach the login check
    for method, url in urls:
        resp = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert resp.status_code == 302, (method, url)
        assert resp.headers["Location"].startswith("/admin/login")


def test_login_and_logout(client, admin):
    assert client.get("/admin/").status_code == 302
    wrong = login(client, password="wrong password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    ok = login(client)
    assert ok.status_code == 303
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/admin/").status_code == 302


def test_login_without_csrf_token_is_refused(client, admin):
    resp = client.post("/admin/login", data={"username": "admin", "password": "correct horse battery"})
    assert resp.status_code in (400, 401)
    assert client.get("/admin/").status_code == 302


def test_password_is_hashed_with_scrypt(app, admin):
    from app.services.accounts import get_user

    with app.app_context():
        assert get_user("admin").password_hash.startswith("scrypt:")


def fill(app, client, slug, groups):
    with app.app_context():
        survey = definition(get_campaign(slug).survey_version)
    for i, group in enumerate(groups):
        assert submit(client, slug, full_answers(survey, group, seed=i)).status_code == 303
    return survey


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_dashboard_and_campaign_page(app, client, campaign, admin):
    fill(app, client, campaign, ["office"] * 5 + ["grassroots"] * 2)
    login(client)
    dash = client.get("/admin/").get_data(as_text=True)
    assert "测试活动" in dash and ">7<" in dash
    page = client.get(f"/admin/campaigns/{campaign}").get_data(as_text=True)
    assert f"/s/{campaign}" in page and 'id="total">7<' in page
    # grassroots (2) < k = 5, so neither it nor its complement (office, 5) may be shown or offered as a filter
    assert "group=grassroots" not in page and "group=office" not in page and "n=2" not in page
    assert client.get("/admin/campaigns/nope").status_code == 404


def test_csv_export_codes(app, client, campaign, admin):
    survey = fill(app, client, campaign, ["office"] * 7 + ["departments"] * 5 + ["grassroots"] * 2 + ["leaders"])
    login(client)
    resp = client.get(f"/admin/campaigns/{campaign}/responses.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and resp.is_streamed
    rows = read_csv(resp.data)
    header, body = rows[0], rows[1:]
    coded = [q.id for q in survey.questions if q.type != "text" and q.id != "group"]
    assert header == ["group", *coded]
    assert len(body) == 15
    groups = [r[0] for r in body]
    # leaders (1) are reported with departments (6); grassroots (2) is below k = 5, so it is merged with the
    # next smallest group: otherwise the total minus the shown groups would reveal it
    assert groups.count("office") == 7 and groups.count(MERGED) == 8 and "grassroots" not in groups
    enps = header.index("enps")
    assert all(r[enps] == "" for r in body if r[0] != "office" and r[0] != MERGED)
    assert "improve_one" not in header  # free text is never exported beside the answers


def test_csv_export_labels_and_question_row(app, client, campaign, admin):
    fill(app, client, campaign, ["office"] * 5)
    login(client)
    rows = read_csv(client.get(f"/admin/campaigns/{campaign}/responses.csv?labels=1&questions=1").data)
    assert rows[1][0].startswith("您")  # the group question's text
    assert {r[0] for r in rows[2:]} == {"办公室工作人员"}
    assert any(cell in ("很好", "很差", "一般", "较好", "较差") for cell in rows[2])


def test_csv_multi_answers_join_codes(app, client, admin):
    from pathlib import Path

    from app.services import campaigns
    from app.services.surveys import import_survey

    pulse = Path(__file__).resolve().parent.parent / "surveys" / "templates" / "monthly-pulse.yaml"
    with app.app_context():
        import_survey(pulse.read_bytes())
        slug = campaigns.open_campaign("monthly-pulse", "月度", min_group_size=3).slug
        survey = definition(get_campaign(slug).survey_version)
    multi = next(q for q in survey.questions if q.type == "multi")
    two = [c.code for c in multi.choices[:2]]
    for _ in range(3):
        answers = full_answers(survey, "office")
        answers[multi.id] = two
        assert submit(client, slug, answers).status_code == 303
    login(client)
    rows = read_csv(client.get(f"/admin/campaigns/{slug}/responses.csv").data)
    col = rows[0].index(multi.id)
    assert {r[col] for r in rows[1:]} == {";".join(sorted(two))}


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"])
def test_formula_injection_is_neutralised(cell):
    assert neutralise(cell) == "'" + cell
    assert neutralise("办公室") == "办公室"


def test_reported_groups_never_leave_a_group_below_k():
    assert reported_groups({"a": 10, "b": 7}, 5) == {"a": "a", "b": "b"}
    assert reported_groups({"a": 10, "b": 2, "c": 4}, 5) == {"a": "a", "b": MERGED, "c": MERGED}
    assert reported_groups({"a": 10, "b": 2, "c": 6}, 5) == {"a": "a", "b": MERGED, "c": MERGED}
    for counts in ({"a": 1}, {"a": 3, "b": 30}, {"a": 1, "b": 1, "c": 1, "d": 9}, {"office": 9, "leaders": 4}):
        mapping = reported_groups(counts, 5)
        totals: dict[str, int] = {}
        for g, n in counts.items():
            totals[mapping[g]] = totals.get(mapping[g], 0) + n
        assert all(n >= 5 for n in totals.values()) or len(totals) == 1


def test_export_order_does_not_follow_arrival(app, client, campaign, admin):
    """Rows come out in random-id order: arrival order (encoded in an answer) is not recoverable."""
    with app.app_context():
        survey = definition(get_campaign(campaign).survey_version)
    n = 40
    for i in range(n):
        answers = full_answers(survey, "office")
        answers["goals_p1"] = [str(1 + i * 5 // n)]  # arrival order leaves a trace in goals_p1
        submit(client, campaign, answers)
    login(client)
    rows = read_csv(client.get(f"/admin/campaigns/{campaign}/responses.csv").data)
    col = rows[0].index("goals_p1")
    values = [int(r[col]) for r in rows[1:]]
    assert sorted(values) == sorted(1 + i * 5 // n for i in range(n))
    rho = spearmanr(range(n), values).statistic
    assert abs(rho) < 0.6  # a sorted export would give 1.0; random order gives |rho| ~ 0.16 on average


def test_cli_export_matches_download(app, client, campaign, admin, runner, tmp_path):
    fill(app, client, campaign, ["office"] * 5)
    login(client)
    download = client.get(f"/admin/campaigns/{campaign}/responses.csv").data
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export", campaign, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == download
