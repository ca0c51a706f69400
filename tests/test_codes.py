"""One-time participation codes: generation, storage as HMAC only, single use under races."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, inspect, select

from app.extensions import db
from app.models import ParticipationCode, RejectionCount, Response
from app.services import campaigns, codes
from app.services.surveys import definition, import_survey
from tests.conftest import OSQ, hidden_fields
from tests.helpers import full_answers

CODE_RE = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}$")


def code_campaign(app):
    with app.app_context():
        import_survey(OSQ.read_bytes())
        return campaigns.open_campaign("office-service-quality", "码", mode="codes").slug


def generate(runner, slug, n):
    result = runner.invoke(args=["codes", "generate", slug, "--count", str(n)])
    assert result.exit_code == 0, result.output
    return result.output.split()


def count(app, model):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def post(app, slug, code, seed=0):
    client = app.test_client()
    with app.app_context():
        survey = definition(campaigns.get_campaign(slug).survey_version)
    page = client.get(f"/s/{slug}?code={code}").get_data(as_text=True)
    return client.post(f"/s/{slug}", data={**full_answers(survey, "office", seed), **hidden_fields(page),
                                           "code": code})


def test_codes_are_unambiguous_and_stored_only_as_hmac(app, runner):
    slug = code_campaign(app)
    printed = generate(runner, slug, 25)
    assert len(printed) == len(set(printed)) == 25 and all(CODE_RE.match(c) for c in printed)
    with app.app_context():
        rows = db.session.execute(select(ParticipationCode)).scalars().all()
        stored = {r.code_hmac for r in rows}
        assert len(stored) == 25 and not any(c.replace("-", "") in " ".join(stored) for c in printed)
        assert {codes.code_hmac(c) for c in printed} == stored
        columns = {c["name"] for c in inspect(db.engine).get_columns("participation_codes")}
    assert columns == {"code_hmac", "campaign_id", "used"}  # no time, no link to a response


def test_form_prefills_the_code_from_the_link(app, runner):
    slug = code_campaign(app)
    code = generate(runner, slug, 1)[0]
    html = app.test_client().get(f"/s/{slug}?code={code}").get_data(as_text=True)
    assert re.search(rf'<input[^>]*name="code"[^>]*value="{code}"', html)


def test_a_code_is_accepted_once(app, runner):
    slug = code_campaign(app)
    first, second = generate(runner, slug, 2)
    assert post(app, slug, first).status_code == 303
    reused = post(app, slug, first, seed=1)
    assert reused.status_code == 422 and "已被使用" in reused.get_data(as_text=True)
    wrong = post(app, slug, "ZZZZZ-ZZZZZ", seed=2)
    assert wrong.status_code == 422
    missing = post(app, slug, "", seed=3)
    assert missing.status_code == 422 and "请输入参与码" in missing.get_data(as_text=True)
    assert post(app, slug, second.lower().replace("-", " "), seed=4).status_code == 303  # typed loosely
    assert count(app, Response) == 2
    with app.app_context():
        rejected = db.session.execute(select(RejectionCount.count).filter_by(reason="code")).scalar_one()
    assert rejected == 2


def test_twenty_simultaneous_uses_of_one_code_store_one_response(app, runner):
    slug = code_campaign(app)
    code = generate(runner, slug, 1)[0]
    with app.app_context():
        survey = definition(campaigns.get_campaign(slug).survey_version)
    prepared = []
    for i in range(20):
        client = app.test_client()
        page = client.get(f"/s/{slug}").get_data(as_text=True)
        prepared.append((client, {**full_answers(survey, "grassroots", i), **hidden_fields(page), "code": code}))
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda p: p[0].post(f"/s/{slug}", data=p[1]).status_code, prepared))
    assert sorted(statuses) == [303] + [422] * 19
    assert count(app, Response) == 1


def test_open_mode_campaigns_need_no_code_and_refuse_codes(app, runner, campaign):
    result = runner.invoke(args=["codes", "generate", campaign, "--count", "3"])
    assert result.exit_code == 1 and "--mode codes" in result.output
    assert runner.invoke(args=["codes", "generate", "nope", "--count", "3"]).exit_code == 1
    assert runner.invoke(args=["codes", "generate", campaign, "--count", "0"]).exit_code == 2
