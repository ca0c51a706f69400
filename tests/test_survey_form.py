"""The public survey form: rendering, validation, storage, CSRF expiry and idempotency."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, text

from app.extensions import db
from app.models import Answer, Campaign, Comment, Response, SubmissionToken
from app.services.campaigns import get_campaign
from app.services.surveys import definition
from tests.conftest import hidden_fields
from tests.helpers import full_answers


def survey_of(app, slug):
    with app.app_context():
        return definition(get_campaign(slug).survey_version)


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def submit(client, slug, answers, **extra):
    """Submit as a new respondent (``again=1`` passes the one-browser soft guard of open links)."""
    page = client.get(f"/s/{slug}?again=1")
    data = {**answers, **hidden_fields(page.get_data(as_text=True)), **extra}
    return client.post(f"/s/{slug}", data=data)


def test_form_renders_every_question_as_a_named_control(app, client, campaign):
    survey = survey_of(app, campaign)
    page = client.get(f"/s/{campaign}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for q in survey.questions:
        if q.type == "text":
            assert f'<textarea id="f-{q.id}" name="{q.id}"' in html
        else:
            kind = "checkbox" if q.type == "multi" else "radio"
            assert f'type="{kind}" name="{q.id}"' in html, q.id
    assert html.count('name="group"') == 4
    assert "不记录姓名、IP 或提交时间" in html  # the privacy line, in Chinese by default
    assert "第 1 / " in html  # section progress without JavaScript
    assert "<script>" not in html and "style=" not in html  # no inline code (CSP)
    assert """data-show-if='{"group": ["office"]}'""" in html


def test_form_in_english(client, campaign):
    html = client.get(f"/s/{campaign}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "How it is now" in html and "Submit" in html


def test_valid_submission_is_stored_and_redirects_to_thanks(app, client, campaign):
    survey = survey_of(app, campaign)
    answers = full_answers(survey, "office")
    answers["improve_one"] = ["多征求基层意见"]
    resp = submit(client, campaign, answers)
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/s/{campaign}/thanks")
    thanks = client.get(resp.headers["Location"])
    assert thanks.status_code == 200 and "答卷已提交成功" in thanks.get_data(as_text=True)
    with app.app_context():
        response = db.session.execute(select(Response)).scalar_one()
        assert response.respondent_group == "office"
        assert response.submitted_on in (date.today(), date.today() + timedelta(days=1), date.today() - timedelta(1))
        assert re.fullmatch(r"[0-9a-f]{32}", response.id)
        stored = {(a.question_id, a.code) for a in db.session.execute(select(Answer)).scalars()}
        expected = {(qid, v[0]) for qid, v in answers.items() if survey.question(qid).type != "text"}
        assert stored == expected
        comments = {c.question_id: c.text for c in db.session.execute(select(Comment)).scalars()}
        assert comments["improve_one"] == "多征求基层意见"


def test_answers_to_hidden_questions_are_discarded(app, client, campaign):
    survey = survey_of(app, campaign)
    answers = full_answers(survey, "grassroots")
    answers["enps"] = ["10"]  # only asked of office staff
    assert submit(client, campaign, answers).status_code == 303
    with app.app_context():
        stored = {a.question_id for a in db.session.execute(select(Answer)).scalars()}
    assert "enps" not in stored and "cause_pay" in stored


def test_validation_error_keeps_every_answer_and_stores_nothing(app, client, campaign):
    survey = survey_of(app, campaign)
    answers = full_answers(survey, "office")
    del answers["service_p2"]
    answers["suggestion"] = ["请<b>改进</b>接待"]
    resp = submit(client, campaign, answers)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert count(app, Response) == 0
    assert 'href="#q-service_p2"' in html and 'id="err-service_p2"' in html
    assert "请回答此题" in html
    for qid, values in answers.items():
        if survey.question(qid).type == "text":
            assert "请&lt;b&gt;改进&lt;/b&gt;接待" in html
        else:
            assert re.search(rf'name="{qid}" value="{values[0]}" checked', html), qid


def test_validation_errors_in_english(client, app, campaign):
    answers = full_answers(survey_of(app, campaign), "office")
    del answers["enps"]
    client.get(f"/s/{campaign}?lang=en")  # remembers the language in a cookie
    html = submit(client, campaign, answers).get_data(as_text=True)
    assert "Please answer this question." in html


def test_expired_or_missing_csrf_token_keeps_answers_then_saves(app, client, campaign):
    survey = survey_of(app, campaign)
    answers = full_answers(survey, "departments")
    answers["improve_one"] = ["会议通知早点发"]
    first = submit(client, campaign, answers, csrf_token="expired-token")
    assert first.status_code == 400
    html = first.get_data(as_text=True)
    assert "答案都已保留" in html and "会议通知早点发" in html
    assert re.search(r'name="goals_p1" value="\d" checked', html)
    assert count(app, Response) == 0
    again = client.post(f"/s/{campaign}", data={**answers, **hidden_fields(html)})
    assert again.status_code == 303
    assert count(app, Response) == 1


def test_replayed_submission_stores_one_response(app, client, campaign):
    survey = survey_of(app, campaign)
    page = client.get(f"/s/{campaign}")
    data = {**full_answers(survey, "grassroots"), **hidden_fields(page.get_data(as_text=True))}
    codes = [client.post(f"/s/{campaign}", data=data).status_code for _ in range(3)]
    assert codes == [303, 303, 303]
    assert count(app, Response) == 1 and count(app, SubmissionToken) == 1


def test_each_render_gets_its_own_submission_id(client, campaign):
    first = hidden_fields(client.get(f"/s/{campaign}").get_data(as_text=True))["sid"]
    second = hidden_fields(client.get(f"/s/{campaign}").get_data(as_text=True))["sid"]
    assert first != second and len(first) >= 16


@pytest.mark.parametrize(
    "bad",
    [{"group": ["boss"]}, {"goals_p1": ["7"]}, {"goals_p1": ["1", "2"]}, {"improve_one": ["长" * 501]}, {"sid": ["x"]}],
)
def test_bad_input_stores_nothing(app, client, campaign, bad):
    answers = full_answers(survey_of(app, campaign), "office")
    resp = submit(client, campaign, answers, **bad)
    assert resp.status_code in (400, 422)
    assert count(app, Response) == 0 and count(app, Answer) == 0


def test_unknown_closed_and_scheduled_campaigns(app, client, campaign):
    assert client.get("/s/no-such-campaign").status_code == 404
    with app.app_context():
        c = get_campaign(campaign)
        c.opens_on = date.today() + timedelta(days=3)
        db.session.commit()
    scheduled = client.get(f"/s/{campaign}")
    assert scheduled.status_code == 403 and "尚未开始" in scheduled.get_data(as_text=True)
    with app.app_context():
        c = db.session.execute(select(Campaign)).scalar_one()
        c.opens_on = date.today() - timedelta(days=10)
        c.closes_on = date.today() - timedelta(days=2)
        db.session.commit()
    closed = client.get(f"/s/{campaign}")
    assert closed.status_code == 410 and "已结束" in closed.get_data(as_text=True)
    assert client.post(f"/s/{campaign}", data={"group": "office"}).status_code == 410


def test_privacy_statement(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert "从不记录" in html and "IP" in html


def test_security_headers_on_survey_pages(client, campaign):
    resp = client.get(f"/s/{campaign}")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_concurrent_submissions_are_all_stored(app, campaign):
    """Writers wait for the lock (IMMEDIATE + busy_timeout) instead of failing with 'database is locked'."""
    from concurrent.futures import ThreadPoolExecutor

    survey = survey_of(app, campaign)
    forms = []
    for i in range(24):
        c = app.test_client()
        page = c.get(f"/s/{campaign}")
        forms.append((c, {**full_answers(survey, "office", seed=i), **hidden_fields(page.get_data(as_text=True))}))
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda cf: cf[0].post(f"/s/{campaign}", data=cf[1]).status_code, forms))
    assert codes == [303] * 24
    assert count(app, Response) == 24


def test_campaign_keeps_the_survey_version_it_was_opened_with(app, client, campaign):
    from app.services.surveys import import_survey
    from tests.conftest import OSQ

    changed = OSQ.read_text(encoding="utf-8").replace("title: {zh: ", "title: {zh: 新版", 1)
    with app.app_context():
        new = import_survey(changed)
        assert new.created and new.version.number == 2
    html = client.get(f"/s/{campaign}").get_data(as_text=True)
    assert "新版" not in html


def test_honeypot_pretends_success_and_stores_only_a_count(app, client, campaign):
    from app.models import RejectionCount

    answers = full_answers(survey_of(app, campaign), "office")
    resp = submit(client, campaign, answers, website="http://spam.example")
    assert resp.status_code == 303
    assert count(app, Response) == 0
    with app.app_context():
        assert db.session.execute(select(RejectionCount.count).filter_by(reason="honeypot")).scalar_one() == 1


def test_too_fast_submission_is_held_with_answers_kept(app, client, campaign):
    app.config["MIN_FILL_SECONDS"] = 60
    answers = full_answers(survey_of(app, campaign), "office")
    resp = submit(client, campaign, answers)
    assert resp.status_code == 422 and "提交得很快" in resp.get_data(as_text=True)
    assert re.search(r'name="goals_p1" value="\d" checked', resp.get_data(as_text=True))
    assert count(app, Response) == 0
    app.config["MIN_FILL_SECONDS"] = 0
    html = resp.get_data(as_text=True)
    assert client.post(f"/s/{campaign}", data={**answers, **hidden_fields(html)}).status_code == 303


def test_forged_render_time_is_not_trusted(app, client, campaign):
    app.config["MIN_FILL_SECONDS"] = 1
    answers = full_answers(survey_of(app, campaign), "office")
    assert submit(client, campaign, answers, started="forged.value.sig").status_code == 422
    assert count(app, Response) == 0


def test_offered_groups_limit_the_form(app, client):
    from app.services import campaigns
    from app.services.surveys import import_survey
    from tests.conftest import OSQ

    with app.app_context():
        import_survey(OSQ.read_bytes())
        slug = campaigns.open_campaign("office-service-quality", "仅基层", groups=["office", "grassroots"]).slug
    html = client.get(f"/s/{slug}").get_data(as_text=True)
    assert 'value="grassroots"' in html and 'name="group" value="departments"' not in html
    answers = full_answers(survey_of(app, slug), "departments")
    assert submit(client, slug, answers).status_code == 422
    assert submit(client, slug, full_answers(survey_of(app, slug), "grassroots")).status_code == 303


def test_open_link_soft_guard(app, client, campaign):
    answers = full_answers(survey_of(app, campaign), "office")
    assert submit(client, campaign, answers).status_code == 303
    again = client.get(f"/s/{campaign}")
    assert again.status_code == 200 and "已在这台设备上填写过" in again.get_data(as_text=True)
    assert 'name="sid"' in client.get(f"/s/{campaign}?again=1").get_data(as_text=True)
    fresh = app.test_client()
    assert 'name="sid"' in fresh.get(f"/s/{campaign}").get_data(as_text=True)


def questions_of(html: str) -> str:
    """Return the question markup of a form page (every section of the form, in order)."""
    return re.search(r'<section class="section".*</section>', html, re.S).group(0)


@pytest.fixture
def renders(monkeypatch):
    """Record each rendering of the question markup from its template: (locale, offered groups, blank?)."""
    from app.survey import questions

    calls = []

    def render(survey, locale, groups_offered, answers, errors):
        calls.append((locale, groups_offered, not answers and not errors))
        return real(survey, locale, groups_offered, answers, errors)

    real = questions._render
    monkeypatch.setattr(questions, "_render", render)
    return calls


def test_blank_form_questions_are_rendered_once_but_tokens_every_time(app, campaign, renders):
    first, second = (app.test_client().get(f"/s/{campaign}").get_data(as_text=True) for _ in range(2))
    assert renders == [("zh", None, True)]
    assert questions_of(first) == questions_of(second)
    tokens = [hidden_fields(html) for html in (first, second)]
    for name in ("csrf_token", "sid", "started"):
        assert tokens[0][name] != tokens[1][name], name
    english = app.test_client().get(f"/s/{campaign}?lang=en").get_data(as_text=True)
    assert len(renders) == 2 and questions_of(english) != questions_of(first) and "How it is now" in english
    assert '<a href="/s/' in english and "?lang=zh" in english  # the language switch is per request


def test_cached_questions_follow_the_campaign_and_the_survey_version(app, client, campaign, renders):
    from app.services import campaigns
    from app.services.surveys import import_survey
    from tests.conftest import OSQ

    assert 'name="group" value="departments"' in client.get(f"/s/{campaign}").get_data(as_text=True)
    with app.app_context():
        campaigns.update_campaign(get_campaign(campaign), 0, groups=["office", "grassroots"])
    html = client.get(f"/s/{campaign}").get_data(as_text=True)
    assert 'name="group" value="departments"' not in html and 'name="group" value="grassroots"' in html
    changed = OSQ.read_text(encoding="utf-8").replace("您属于以下哪一类人员？", "您属于哪一类人员（新版）？")
    with app.app_context():
        import_survey(changed)
        newer = campaigns.open_campaign("office-service-quality", "新版活动").slug
    assert "（新版）" in client.get(f"/s/{newer}").get_data(as_text=True)
    assert "（新版）" not in client.get(f"/s/{campaign}").get_data(as_text=True)
    assert len(renders) == 3


def test_answers_and_errors_are_never_cached(app, client, campaign, renders):
    survey = survey_of(app, campaign)
    blank = client.get(f"/s/{campaign}").get_data(as_text=True)
    answers = full_answers(survey, "office")
    del answers["service_p2"]
    answers["suggestion"] = ["只属于这位同事的意见"]
    again = submit(client, campaign, answers)
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and 'id="err-service_p2"' in html and "只属于这位同事的意见" in html
    assert re.search(r'name="goals_p1" value="\d" checked', html)
    other = app.test_client().get(f"/s/{campaign}").get_data(as_text=True)
    assert questions_of(other) == questions_of(blank)
    assert " checked" not in other and "只属于这位同事的意见" not in other and "err-" not in other
    assert renders == [("zh", None, True), ("zh", None, False)]  # the re-render was neither cached nor served


def test_question_cache_is_bounded_and_keyed_by_the_survey_object(app, campaign):
    import copy

    from markupsafe import Markup

    from app.survey.questions import QuestionCache

    survey = survey_of(app, campaign)
    twin = copy.copy(survey)  # equal, but another object: as if parsed from another database
    cache = QuestionCache(max_entries=2)
    for locale in ("zh", "en", "fr"):
        cache.put(survey, (locale,), Markup(locale))
    assert len(cache) == 2 and cache.get(survey, ("zh",)) is None and cache.get(survey, ("fr",)) == "fr"
    assert cache.get(twin, ("fr",)) is None
    cache.clear()
    assert len(cache) == 0


def close_elsewhere(app, slug):
    """Close the campaign as another worker or process would: in the database, behind this worker's back."""
    with app.app_context():
        db.session.execute(text("UPDATE campaigns SET closed_at = CURRENT_TIMESTAMP WHERE slug = :slug"),
                           {"slug": slug})
        db.session.commit()


def kept_campaigns(app) -> int:
    from app.services.surveys import _CAMPAIGNS_EXTENSION

    return len(app.extensions.get(_CAMPAIGNS_EXTENSION) or ())


def test_the_form_may_be_shown_from_a_recent_reading_but_a_submission_reads_its_campaign_afresh(app, client,
                                                                                                  campaign):
    import time

    app.config["CAMPAIGN_CACHE_SECONDS"] = 0.5
    answers = full_answers(survey_of(app, campaign), "office")
    page = client.get(f"/s/{campaign}")
    assert page.status_code == 200 and kept_campaigns(app) == 1
    close_elsewhere(app, campaign)
    assert client.get(f"/s/{campaign}?again=1").status_code == 200  # this worker read it open a moment ago
    late = client.post(f"/s/{campaign}", data={**answers, **hidden_fields(page.get_data(as_text=True))})
    assert late.status_code == 410 and "已结束" in late.get_data(as_text=True)
    assert count(app, Response) == 0 and count(app, SubmissionToken) == 0
    time.sleep(0.6)
    assert client.get(f"/s/{campaign}?again=1").status_code == 410


def test_a_change_committed_in_this_worker_shows_at_once(app, client, campaign):
    from app.services.campaigns import close_campaign, reopen_campaign

    assert app.config["CAMPAIGN_CACHE_SECONDS"] >= 5  # the default: the page below would still be kept
    assert client.get(f"/s/{campaign}").status_code == 200
    with app.app_context():
        close_campaign(get_campaign(campaign))
    assert client.get(f"/s/{campaign}").status_code == 410
    assert client.get(f"/s/{campaign}/thanks").status_code == 200  # still known: the thank-you page stays
    with app.app_context():
        reopen_campaign(get_campaign(campaign), None)
        db.session.commit()
    assert client.get(f"/s/{campaign}").status_code == 200
    answers = full_answers(survey_of(app, campaign), "office")
    assert submit(client, campaign, answers).status_code == 303
    assert kept_campaigns(app) == 1  # a submission changes no campaign, so the form stays kept


def test_with_no_cache_every_page_reads_its_campaign(app, client, campaign):
    app.config["CAMPAIGN_CACHE_SECONDS"] = 0
    assert client.get(f"/s/{campaign}").status_code == 200
    close_elsewhere(app, campaign)
    assert client.get(f"/s/{campaign}").status_code == 410
    assert kept_campaigns(app) == 0


def test_unknown_campaigns_are_not_kept(app, client, campaign):
    for n in range(20):
        assert client.get(f"/s/no-such-campaign-{n}").status_code == 404
    assert kept_campaigns(app) == 0
    assert client.get(f"/s/{campaign}").status_code == 200 and kept_campaigns(app) == 1


def test_round_trips_on_postgresql_a_submission_stands_or_falls_as_a_whole(app, client, campaign, runner):
    """On PostgreSQL the public form reads without BEGIN and ROLLBACK (autocommit), and an open-link submission is
    one statement, atomic by itself, that commits on its own; with a one-time code the token, the code and the rows
    are several statements, written in one transaction."""
    from tests.test_codes import code_campaign, generate
    from tests.test_codes import post as post_with_code

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite reads in its own process, without round trips")
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0], conn.connection.dbapi_connection.autocommit))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
    try:
        page = client.get(f"/s/{campaign}")
        reads = list(seen)
        del seen[:]
        assert client.get(f"/s/{campaign}?again=1").status_code == 200
        kept = list(seen)
        answers = full_answers(survey_of(app, campaign), "office")
        del seen[:]
        assert client.post(f"/s/{campaign}", data={**answers, **hidden_fields(page.get_data(as_text=True))}
                           ).status_code == 303
        open_link = list(seen)
        slug = code_campaign(app)
        (code,) = generate(runner, slug, 1)
        del seen[:]
        assert post_with_code(app, slug, code).status_code == 303
        with_code = list(seen)
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", note)
    assert reads == [("SELECT", True)]  # the campaign with its survey and the previous wave's id: one query
    assert kept == []  # the next page within CAMPAIGN_CACHE_SECONDS: none
    assert open_link == [("SELECT", True), ("WITH", True)]  # every row in one statement
    # The POST: its campaign read, then the token, the code and the rows in one transaction.
    assert with_code[-4:] == [("SELECT", True), ("INSERT", False), ("UPDATE", False), ("WITH", False)]
    assert count(app, Response) == 2
