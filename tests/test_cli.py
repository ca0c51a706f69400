"""Flask commands: survey import, campaigns, accounts, bootstrap."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Campaign, SurveyVersion, User
from tests.conftest import OSQ, office_today


def run(runner, *args, env=None):
    return runner.invoke(args=list(args), env=env)


def test_survey_import_creates_a_version_only_when_the_file_changes(app, runner, tmp_path):
    first = run(runner, "survey", "import", str(OSQ))
    assert first.exit_code == 0 and "imported as version 1" in first.output
    again = run(runner, "survey", "import", str(OSQ))
    assert again.exit_code == 0 and "unchanged, still version 1" in again.output
    changed = tmp_path / "osq.yaml"
    changed.write_text(OSQ.read_text(encoding="utf-8").replace("version: 1", "version: 2", 1), encoding="utf-8")
    third = run(runner, "survey", "import", str(changed))
    assert third.exit_code == 0 and "imported as version 2" in third.output
    with app.app_context():
        assert [v.number for v in db.session.execute(select(SurveyVersion)).scalars()] == [1, 2]


def test_survey_import_refuses_an_invalid_file(app, runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: x\nsections: []\n", encoding="utf-8")
    result = run(runner, "survey", "import", str(bad))
    assert result.exit_code == 1 and f"{bad}: survey, field 'title'" in result.output
    with app.app_context():
        assert db.session.execute(select(SurveyVersion)).first() is None
    missing = run(runner, "survey", "import", str(tmp_path / "missing.yaml"))
    assert missing.exit_code == 1


def test_campaign_open_list_close(app, runner):
    run(runner, "survey", "import", str(OSQ))
    closes = (office_today(app) + timedelta(days=14)).isoformat()
    opened = run(runner, "campaign", "open", "office-service-quality", "--name", "第一轮", "--min-group-size", "6",
                 "--closes", closes)
    assert opened.exit_code == 0, opened.output
    url = opened.output.strip().splitlines()[-1]
    assert url.startswith("http://") and "/s/" in url
    slug = url.rsplit("/", 1)[1]
    assert len(slug) >= 16
    with app.app_context():
        c = db.session.execute(select(Campaign)).scalar_one()
        assert (c.slug, c.min_group_size, c.closes_on.isoformat(), c.survey_version.number) == (slug, 6, closes, 1)
    listed = run(runner, "campaign", "list")
    assert f"{slug}\topen\t0\toffice-service-quality\t第一轮" in listed.output
    assert run(runner, "campaign", "close", slug).exit_code == 0
    assert f"{slug}\tclosed" in run(runner, "campaign", "list").output
    assert run(runner, "campaign", "close", "nope").exit_code == 1


def test_public_url_uses_public_base_url(app, runner):
    app.config["PUBLIC_BASE_URL"] = "https://survey.example.org/"
    run(runner, "survey", "import", str(OSQ))
    opened = run(runner, "campaign", "open", "office-service-quality", "--name", "x")
    assert opened.output.strip().splitlines()[-1].startswith("https://survey.example.org/s/")


@pytest.mark.parametrize(
    ("args", "message"),
    [(["nope", "--name", "x"], "No survey with the key 'nope'"),
     (["office-service-quality", "--name", "x", "--min-group-size", "2"], "at least 3"),
     (["office-service-quality", "--name", "x", "--closes", "2020-01-01"], "closing date"),
     (["office-service-quality", "--name", "  "], "name")],
)
def test_campaign_open_refuses_bad_input(app, runner, args, message):
    run(runner, "survey", "import", str(OSQ))
    result = run(runner, "campaign", "open", *args)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.execute(select(Campaign)).first() is None


def test_create_admin(app, runner):
    ok = run(runner, "create-admin", "head", env={"OFFICEPULSE_ADMIN_PASSWORD": "a long password"})
    assert ok.exit_code == 0
    dup = run(runner, "create-admin", "head", env={"OFFICEPULSE_ADMIN_PASSWORD": "a long password"})
    assert dup.exit_code == 1 and "already exists" in dup.output
    short = run(runner, "create-admin", "other", env={"OFFICEPULSE_ADMIN_PASSWORD": "short"})
    assert short.exit_code == 1 and "at least" in short.output
    with app.app_context():
        assert [u.username for u in db.session.execute(select(User)).scalars()] == ["head"]


def test_bootstrap_is_idempotent(app, runner, tmp_path):
    first = run(runner, "bootstrap", "--qr", str(tmp_path / "qr.png"), env={"OFFICEPULSE_ADMIN_PASSWORD": ""})
    assert first.exit_code == 0, first.output
    assert "Admin login: admin / " in first.output and "/s/" in first.output
    second = run(runner, "bootstrap", "--qr", str(tmp_path / "qr.png"))
    assert second.exit_code == 0 and "existing account" in second.output
    survey_line = [line for line in first.output.splitlines() if line.startswith("Survey")][0]
    assert survey_line in second.output  # the same open demo campaign is reused
    from app.services.distribution import qr_png

    qr_path = Path(first.output.split("QR code of the survey: ")[1].splitlines()[0])
    assert qr_path == tmp_path / "qr.png"
    assert qr_path.read_bytes() == qr_png(survey_line.split(": ", 1)[1])  # the code of the printed address
    slug = survey_line.rsplit("/s/", 1)[1]
    assert f"/admin/campaigns/{slug}/poster" in first.output
    with app.app_context():
        assert len(db.session.execute(select(Campaign)).all()) == 1


def test_demo_data_fills_a_campaign_through_the_write_path(app, runner, campaign):
    from app.models import Answer, Response

    result = run(runner, "demo-data", campaign, "--responses", "120", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "Added 120 synthetic responses" in result.output
    with app.app_context():
        responses = db.session.execute(select(Response)).scalars().all()
        assert len(responses) == 120
        groups = {r.respondent_group for r in responses}
        assert groups <= {"office", "departments", "grassroots", "leaders"} and "grassroots" in groups
        office_ids = {r.id for r in responses if r.respondent_group == "office"}
        enps_ids = {a.response_id for a in db.session.execute(select(Answer).filter_by(question_id="enps")).scalars()}
        assert enps_ids and enps_ids <= office_ids  # conditions are respected
    assert run(runner, "demo-data", "nope", "--responses", "5").exit_code == 1
    assert run(runner, "demo-data", campaign, "--responses", "0").exit_code == 2


def test_synthetic_answers_follow_the_seed_pattern():
    from statistics import mean

    from surveys import load
    from surveys.answers import validate
    from surveys.synthetic import synthetic_answers

    survey = load(OSQ)
    forms = list(synthetic_answers(survey, 600, seed=1))
    assert forms == list(synthetic_answers(survey, 600, seed=1))  # deterministic
    assert all(validate(survey, f).ok for f in forms)

    def avg(qid_prefix, group=None):
        return mean(int(v[0]) for f in forms for q, v in f.items()
                    if q.startswith(qid_prefix) and v[0] != "dk" and (group is None or f["group"] == [group]))

    assert avg("service_p", "office") - avg("service_p", "grassroots") > 0.8
    causes = sorted((avg(f"cause_{c}"), c) for c in ("awareness", "rules", "incentives", "pay", "leadership",
                                                      "equipment", "skills"))
    assert {causes[-1][1], causes[-2][1]} == {"pay", "incentives"}


def test_flask_db_sets_up_flask_migrate_when_run(app, runner):
    """`flask db ...` is Flask-Migrate's own group (options included), loaded on first use."""
    assert "migrate" not in app.extensions
    with app.app_context():
        db.drop_all()
    upgraded = run(runner, "db", "-x", "unused=1", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "migrate" in app.extensions
    with app.app_context():
        assert db.session.execute(select(Campaign)).first() is None  # the migrated schema has the table
        assert db.session.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    assert "upgrade" in run(runner, "db", "--help").output


def test_the_app_starts_without_alembic(tmp_path):
    code = ("import sys; import wsgi; "
            "assert not {'alembic', 'flask_migrate'} & set(sys.modules), sorted(sys.modules)")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "SECRET_KEY": "x" * 40}
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
