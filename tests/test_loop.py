"""Closing the loop: receipts, comment scrubbing, the rectification ledger, waves, "you said, we did"."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Campaign, Comment, Receipt, Response
from app.services.campaigns import get_campaign
from app.services.surveys import definition
from tests.conftest import csrf_token, hidden_fields, login
from tests.helpers import full_answers


def count(app, model):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def answer(app, client, slug, group="office", **extra):
    with app.app_context():
        survey = definition(get_campaign(slug).survey_version)
    page = client.get(f"/s/{slug}?again=1").get_data(as_text=True)
    resp = client.post(f"/s/{slug}", data={**full_answers(survey, group), **hidden_fields(page), **extra})
    assert resp.status_code == 303, resp.status_code
    return client.get(resp.headers["Location"]).get_data(as_text=True)


def receipt_of(thanks_html: str) -> str:
    return re.search(r'id="receipt">([A-Z0-9-]+)<', thanks_html).group(1)


def test_receipt_confirms_and_withdraws(app, client, campaign):
    code = receipt_of(answer(app, client, campaign))
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code)
    with app.app_context():
        stored = db.session.execute(select(Receipt)).scalar_one()
        assert code not in stored.receipt_hash and len(stored.receipt_hash) == 64
    page = client.get(f"/r/{code}")
    assert page.status_code == 200 and "已计入" in page.get_data(as_text=True)
    assert client.get(f"/r/{code.lower()}").status_code == 200  # typed loosely
    assert client.get("/r/AAAA-BBBB-CCCC-DDDD").status_code == 404
    token = csrf_token(page.get_data(as_text=True))
    gone = client.post(f"/r/{code}/withdraw", data={"csrf_token": token})
    assert gone.status_code == 200 and "已撤回" in gone.get_data(as_text=True)
    assert count(app, Response) == 0 and count(app, Receipt) == 0
    assert client.get(f"/r/{code}").status_code == 404


def test_receipt_cannot_withdraw_after_close_and_reveals_nothing_to_the_admin(app, client, admin, campaign):
    code = receipt_of(answer(app, client, campaign))
    with app.app_context():
        c = get_campaign(campaign)
        c.opens_on = c.opens_on - timedelta(days=3)
        c.closes_on = c.opens_on + timedelta(days=1)
        db.session.commit()
    page = client.get(f"/r/{code}")
    assert page.status_code == 200 and "不能再撤回" in page.get_data(as_text=True)
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))  # the page offers no form any more
    refused = client.post(f"/r/{code}/withdraw", data={"csrf_token": token})
    assert refused.status_code == 409 and count(app, Response) == 1
    head = app.test_client()
    login(head)
    for url in (f"/admin/campaigns/{campaign}", f"/admin/campaigns/{campaign}/results.json",
                f"/admin/campaigns/{campaign}/responses.csv", "/admin/audit"):
        body = head.get(url).get_data(as_text=True)
        assert code not in body and code.replace("-", "") not in body


def test_comments_are_scrubbed_before_storage_and_the_form_warns(app, client, campaign):
    html = client.get(f"/s/{campaign}").get_data(as_text=True)
    assert "自动隐去" in html
    comment = "请打 13812345678 找我，或发邮件 li@tax.gov.cn，身份证 11010519491231002X"
    answer(app, client, campaign, improve_one=comment)
    with app.app_context():
        text = db.session.execute(select(Comment.text).filter_by(question_id="improve_one")).scalar_one()
    assert "13812345678" not in text and "li@tax.gov.cn" not in text and "11010519491231002X" not in text
    assert text.count("［已隐去］") == 3


def test_ledger_run_again_and_wave_comparison(app, client, admin, runner, campaign):
    assert runner.invoke(args=["demo-data", campaign, "--responses", "80", "--seed", "1"]).exit_code == 0
    login(client)
    page = f"/admin/campaigns/{campaign}"
    html = client.get(page).get_data(as_text=True)
    assert 'id="ledger"' in html
    action = {"dimension": "service", "what": "每季度到基层分局走访一次，收集需求", "responsible_post": "办公室综合岗",
              "due_on": "", "status": "in_progress", "evidence": ""}
    added = client.post(f"{page}/actions", data={"csrf_token": csrf_token(html), **action})
    assert added.status_code == 303
    assert "每季度到基层分局走访一次" in client.get(page).get_data(as_text=True)
    bad = client.post(f"{page}/actions", data={"csrf_token": csrf_token(html), "what": "", "status": "done"})
    assert bad.status_code == 303 and "未记录" in client.get(page).get_data(as_text=True)

    follow = client.post(f"{page}/run-again", data={"csrf_token": csrf_token(html)})
    assert follow.status_code == 303
    new_slug = follow.headers["Location"].split("/")[-2]
    with app.app_context():
        old, new = get_campaign(campaign), get_campaign(new_slug)
        assert new.survey_version_id == old.survey_version_id and new.min_group_size == old.min_group_size
        assert "第 2 轮" in new.name
    # the public page of the next wave tells staff what was found and done
    public = app.test_client().get(f"/s/{new_slug}").get_data(as_text=True)
    assert "每季度到基层分局走访一次" in public and "进行中" in public
    assert "服务意识与对象" in public  # a headline finding of the previous wave
    again = app.test_client().get(f"/s/{new_slug}").get_data(as_text=True)  # the worker's kept campaign, detached
    assert "每季度到基层分局走访一次" in again and "服务意识与对象" in again
    assert runner.invoke(args=["demo-data", new_slug, "--responses", "80", "--seed", "2"]).exit_code == 0
    second = client.get(f"/admin/campaigns/{new_slug}").get_data(as_text=True)
    assert 'id="waves"' in second and "每季度到基层分局走访一次" in second
    assert any(word in second for word in ("改善", "无明显变化", "变差"))
    data = client.get(f"/admin/campaigns/{new_slug}/results.json").get_json()
    assert {row["wave"] for row in data["trend"]} == {1, 2}
    assert data["changes"] and {"change", "ci_low", "ci_high", "label"} <= set(data["changes"][0])
    assert client.get(f"/admin/campaigns/{new_slug}/charts/trend.png").status_code == 200


def test_previous_wave_summary_applies_suppression(app, client, admin, runner, campaign):
    assert runner.invoke(args=["demo-data", campaign, "--responses", "4", "--seed", "3"]).exit_code == 0
    login(client)
    html = client.get(f"/admin/campaigns/{campaign}").get_data(as_text=True)
    follow = client.post(f"/admin/campaigns/{campaign}/run-again", data={"csrf_token": csrf_token(html)})
    new_slug = follow.headers["Location"].split("/")[-2]
    public = app.test_client().get(f"/s/{new_slug}").get_data(as_text=True)
    assert "上一次测评" not in public  # 4 answers < k: nothing was found, nothing to show
    assert count(app, Campaign) == 2


def test_access_log_masks_receipt_paths():
    from datetime import timedelta as td
    from types import SimpleNamespace

    from gunicorn.config import Config

    from app.access_log import PrivateAccessLogger

    logger = PrivateAccessLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/r/ABCD-EFGH?x=1", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/r/ABCD-EFGH-JKMN-PQRS", "QUERY_STRING": "x=1", "REMOTE_ADDR": "203.0.113.5",
               "HTTP_USER_AGENT": "Agent/1", "HTTP_REFERER": "https://ref.example"}
    atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=10, headers=[]), SimpleNamespace(headers=[]),
                         environ, td(seconds=0, microseconds=1000))
    assert atoms["U"] == "/r/…" and "ABCD" not in str(atoms)
    assert "203.0.113.5" not in str(atoms) and "Agent/1" not in str(atoms) and "ref.example" not in str(atoms)


def test_waves_without_answers_are_left_out_of_the_trend(app, client, admin, runner, campaign):
    login(client)
    html = client.get(f"/admin/campaigns/{campaign}").get_data(as_text=True)  # wave 1 stays empty
    second = client.post(f"/admin/campaigns/{campaign}/run-again", data={"csrf_token": csrf_token(html)})
    second_slug = second.headers["Location"].split("/")[-2]
    assert runner.invoke(args=["demo-data", second_slug, "--responses", "40", "--seed", "4"]).exit_code == 0
    third = client.post(f"/admin/campaigns/{second_slug}/run-again", data={"csrf_token": csrf_token(html)})
    third_slug = third.headers["Location"].split("/")[-2]
    assert runner.invoke(args=["demo-data", third_slug, "--responses", "40", "--seed", "5"]).exit_code == 0
    assert app.test_client().get(f"/s/{third_slug}").status_code == 200
    data = client.get(f"/admin/campaigns/{third_slug}/results.json").get_json()
    assert {row["wave"] for row in data["trend"]} == {1, 2}  # the empty first campaign is not a wave
