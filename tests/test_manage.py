"""Running campaigns in the browser: create, edit, close, reopen; survey upload and preview; the audit log."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Campaign, SurveyVersion
from app.services.campaigns import get_campaign
from tests.conftest import OSQ, csrf_token, login, office_today


def token(client, url="/admin/campaigns/new"):
    return csrf_token(client.get(url).get_data(as_text=True))


def new_campaign(client, **fields):
    data = {"survey": "office-service-quality", "name": "第二轮测评",
            "opens_on": office_today(client.application).isoformat(), "closes_on": "", "min_group_size": "5",
            "mode": "open",
            "groups": ["office", "departments", "grassroots", "leaders"], **fields}
    return client.post("/admin/campaigns/new", data={**data, "csrf_token": token(client)})


@pytest.fixture
def head(client, admin, campaign):
    """A logged-in head, with the bundled survey stored (through the campaign fixture)."""
    login(client)
    return client


def audit_actions(app):
    with app.app_context():
        return [e.action for e in db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_create_a_code_mode_campaign_in_the_browser(app, head):
    page = head.get("/admin/campaigns/new").get_data(as_text=True)
    assert 'value="office-service-quality"' in page and 'value="codes"' in page
    resp = new_campaign(head, mode="codes", min_group_size="6", groups=["office", "grassroots"],
                        closes_on=(office_today(app) + timedelta(days=20)).isoformat())
    assert resp.status_code == 303
    slug = resp.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        c = get_campaign(slug)
        assert (c.collection_mode, c.min_group_size, c.groups_offered) == ("codes", 6, ["office", "grassroots"])
    assert "campaign.open" in audit_actions(app)


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"min_group_size": "2"}, "3"), ({"closes_on": "2020-01-01"}, "过去"), ({"name": ""}, ""),
     ({"opens_on": "not a date"}, ""), ({"mode": "everyone"}, "")],
)
def test_bad_campaign_input_is_refused_clearly(app, head, fields, message):
    before = _campaigns(app)
    resp = new_campaign(head, **fields)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'class="error-text"' in html and message in html
    assert _campaigns(app) == before


def _campaigns(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Campaign)).scalar_one()


def test_edit_before_and_after_answers(app, head, runner, campaign):
    url = f"/admin/campaigns/{campaign}/edit"
    form = {"name": "改名", "opens_on": office_today(app).isoformat(), "closes_on": "", "min_group_size": "4",
            "mode": "codes", "groups": ["office", "grassroots"]}
    assert head.post(url, data={**form, "csrf_token": token(head, url)}).status_code == 303
    with app.app_context():
        c = get_campaign(campaign)
        assert (c.name, c.min_group_size, c.collection_mode) == ("改名", 4, "codes")
    # once someone has answered, anonymity may only get stronger
    with app.app_context():
        c = get_campaign(campaign)
        c.collection_mode = "open"
        db.session.commit()
    assert runner.invoke(args=["demo-data", campaign, "--responses", "3"]).exit_code == 0
    weaker = head.post(url, data={**form, "mode": "open", "min_group_size": "3", "csrf_token": token(head, url)})
    assert weaker.status_code == 422 and "只能提高" in weaker.get_data(as_text=True)
    switch = head.post(url, data={**form, "mode": "codes", "min_group_size": "8", "csrf_token": token(head, url)})
    assert switch.status_code == 422
    stronger = head.post(url, data={**form, "mode": "open", "min_group_size": "8", "csrf_token": token(head, url)})
    assert stronger.status_code == 303
    with app.app_context():
        assert get_campaign(campaign).min_group_size == 8
    assert audit_actions(app).count("campaign.edit") == 2


def test_close_and_reopen(app, head, client, campaign):
    page = f"/admin/campaigns/{campaign}"
    assert head.post(f"{page}/close", data={"csrf_token": token(head, page)}).status_code == 303
    assert client.get(f"/s/{campaign}").status_code == 410
    past = head.post(f"{page}/reopen", data={"csrf_token": token(head, page), "closes_on": "2020-01-01"})
    assert past.status_code == 303 and client.get(f"/s/{campaign}").status_code == 410
    later = (office_today(app) + timedelta(days=7)).isoformat()
    assert head.post(f"{page}/reopen", data={"csrf_token": token(head, page), "closes_on": later}).status_code == 303
    assert client.get(f"/s/{campaign}?again=1").status_code == 200
    assert audit_actions(app)[-2:] == ["campaign.close", "campaign.reopen"]


def upload(client, name, data, action="import"):
    return client.post("/admin/surveys", data={"csrf_token": token(client, "/admin/surveys"), "action": action,
                                               "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_upload_yaml_preview_then_store(app, head):
    text = OSQ.read_text(encoding="utf-8").replace("key: office-service-quality", "key: my-survey", 1)
    preview = upload(head, "mine.yaml", text.encode(), action="preview")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "预览" in html and 'name="goals_p1"' in html and "disabled" in html
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(SurveyVersion)).scalar_one() == 1  # only OSQ
    stored = upload(head, "mine.yaml", text.encode())
    assert stored.status_code == 303
    listing = head.get("/admin/surveys").get_data(as_text=True)
    assert "my-survey" in listing
    assert head.get("/admin/surveys/my-survey/preview").status_code == 200
    assert "survey.import" in audit_actions(app)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [("bad.yaml", b"key: [unclosed", "not valid YAML"),
     ("bad.yaml", b"key: x\ntitle: {zh: a, en: b}\nsections: []\n", "sections"),
     ("bad.yaml", "键: 值".encode("gb18030"), "UTF-8"),
     ("bad.xlsx", b"not a spreadsheet", "xlsx"),
     ("bad.txt", b"key: x", "")],
)
def test_broken_uploads_show_every_problem_and_store_nothing(app, head, name, data, expected):
    resp = upload(head, name, data)
    assert resp.status_code == 422
    assert expected in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(SurveyVersion)).scalar_one() == 1


def test_upload_xlsform(app, head):
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::Chinese (zh)", "label::English (en)", "required"])
    survey.append(["select_one groups", "group", "您属于", "You are", "yes"])
    survey.append(["select_one yesno", "heard", "听说过吗", "Heard of it?", "no"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::Chinese (zh)", "label::English (en)"])
    for row in (["groups", "office", "办公室", "Office"], ["groups", "grassroots", "基层", "Grassroots"],
                ["yesno", "yes", "是", "Yes"], ["yesno", "no", "否", "No"]):
        choices.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_id", "form_title::Chinese (zh)", "form_title::English (en)", "default_language"])
    settings.append(["kobo-form", "基层调查", "Grassroots survey", "Chinese (zh)"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert upload(head, "form.xlsx", buffer.getvalue()).status_code == 303
    assert head.get("/admin/surveys/kobo-form/preview").status_code == 200


def test_audit_log_page_lists_writes_without_respondent_data(app, head, client, campaign):
    page = f"/admin/campaigns/{campaign}"
    head.post(f"{page}/close", data={"csrf_token": token(head, page)})
    html = head.get("/admin/audit").get_data(as_text=True)
    assert "campaign.close" in html and "admin" in html and campaign in html
