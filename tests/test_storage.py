"""The storage order of responses says nothing about their arrival order, on PostgreSQL too.

On PostgreSQL a heap keeps rows where they were inserted and each row carries the id of the transaction that
wrote it (``xmin``); ``app.services.storage`` rewrites and reorders them when a campaign closes and nightly.
On SQLite (``WITHOUT ROWID`` tables) there is nothing to do.

The order checks use 2,000 responses. Under a random order, Spearman's rho between arrival and storage order
is about normal with mean 0 and standard deviation 1/sqrt(n - 1): for n = 200 that is 0.071, and |rho| > 0.1
would happen by chance in about 16% of runs; for n = 2,000 it is 0.022, and |rho| > 0.1 (4.5 standard
deviations) happens about once in 100,000 runs. Before the scramble the same measure gives rho = 1.
"""

from __future__ import annotations

import re

import pytest
from scipy.stats import spearmanr
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.services import codes, receipts, storage
from app.services.campaigns import close_campaign, get_campaign, open_campaign
from app.services.export import responses_csv
from app.services.responses import Outcome, store_responses, submit_response
from app.services.surveys import definition, import_survey
from app.survey.forms import new_submission_id
from surveys.answers import validate
from tests.conftest import OSQ, login
from tests.helpers import full_answers

N = 2000
GROUPS = ("office", "departments", "grassroots", "leaders")
TABLES = ("submission_tokens", "participation_codes", "responses", "answers", "comments", "receipts")


def postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite stores these tables in key order")


def sql(statement: str, **params) -> list:
    return db.session.execute(text(statement), params).all()


def rho(arrival: list[str], stored: list[str]) -> float:
    """Spearman's rho between the arrival rank and the storage rank of the same keys."""
    assert sorted(arrival) == sorted(stored)
    rank = {key: i for i, key in enumerate(arrival)}
    return spearmanr(range(len(stored)), [rank[key] for key in stored]).statistic


def heap_order(table: str, column: str) -> list[str]:
    """``column`` of the table's rows in physical order, each value once (its first row)."""
    return list(dict.fromkeys(v for (v,) in sql(f"SELECT {column} FROM {table} ORDER BY ctid")))


def writers(table: str) -> set[str]:
    """The distinct ``xmin`` (writing transaction ids) of the table's rows."""
    return {x for (x,) in sql(f"SELECT DISTINCT xmin::text FROM {table}")}


def all_row_versions(table: str) -> set[str] | None:
    """The ``xmin`` of every row version physically in the table, dead ones included (pageinspect; None
    when that extension is not available)."""
    try:
        db.session.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        db.session.commit()
    except SQLAlchemyError:  # not installed, or not allowed: this check is then skipped
        db.session.rollback()
        return None
    return {x for (x,) in sql(
        f"SELECT DISTINCT items.t_xmin::text FROM generate_series(0, pg_relation_size('{table}') / "
        f"current_setting('block_size')::int - 1) AS page, heap_page_items(get_raw_page('{table}', page::int)) "
        "AS items WHERE items.lp_flags = 1")}


def snapshot(campaign) -> tuple[dict[str, int], bytes]:
    counts = {t: sql(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    return counts, "".join(responses_csv(campaign, locale="zh", labels=False, question_row=False)).encode()


def test_scramble_hides_the_arrival_order_on_postgresql(app):
    """2,000 responses through the real write path (code mode: submission id, one-time code, receipt), then
    the campaign is closed: no table keeps their arrival order, in the heap or in xmin; nothing is lost."""
    postgres_only(app)
    with app.app_context():
        import_survey(OSQ.read_bytes(), filename=str(OSQ))
        campaign = open_campaign("office-service-quality", "顺序测试", mode="codes")
        survey = definition(campaign.survey_version)
        issued = codes.generate_codes(campaign, N)
        arrival, tokens, used, kept = [], [], [], []
        for i in range(N):
            submission = validate(survey, full_answers(survey, GROUPS[i % 4], seed=i))
            token, code = new_submission_id(), issued[(i * 7919) % N]  # codes used in another order
            outcome, receipt = submit_response(campaign, submission, token, code)
            assert outcome is Outcome.STORED
            arrival.append(receipts.find(receipt)[0].id)
            tokens.append(token)
            used.append(codes.code_hmac(code))
            kept.append(receipt)
        campaign = get_campaign(campaign.slug)
        assert [c.id for c in storage.pending_campaigns()] == [campaign.id]
        # The problem being solved: as inserted, the heap replays the arrival order exactly.
        assert rho(arrival, heap_order("responses", "id")) == pytest.approx(1.0)
        assert len(writers("responses")) == N
        before = snapshot(campaign)

        result = close_campaign(campaign)

        assert result is not None and result.done, result
        assert result.rows["responses"] == N and result.rows["submission_tokens"] == N
        assert result.rows["participation_codes"] == N and result.rows["receipts"] == N
        order = {
            "responses": rho(arrival, heap_order("responses", "id")),
            "answers": rho(arrival, heap_order("answers", "response_id")),
            "comments": rho(arrival, heap_order("comments", "response_id")),
            "receipts": rho(arrival, heap_order("receipts", "response_id")),
            "submission_tokens": rho(tokens, heap_order("submission_tokens", "token")),
            "participation_codes": rho(used, [h for (h,) in sql(
                "SELECT code_hmac FROM participation_codes WHERE used ORDER BY ctid")]),
        }
        assert all(abs(r) < 0.1 for r in order.values()), order
        for table in ("responses", "answers", "comments", "receipts", "submission_tokens"):
            assert len(writers(table)) == 1, table  # one rewriting transaction: xmin orders nothing
        assert len({x for (x,) in sql("SELECT DISTINCT xmin::text FROM participation_codes WHERE used")}) == 1
        assert writers("responses") == writers("answers") == writers("receipts")
        for table in ("responses", "answers", "receipts"):
            versions = all_row_versions(table)
            assert versions is None or versions == writers(table), table  # no old row version lingers
        # Nothing lost or changed: the same rows, the same export, receipts and replays still work.
        assert snapshot(get_campaign(campaign.slug)) == before
        assert receipts.find(kept[123])[0].id == arrival[123]
        again = submit_response(get_campaign(campaign.slug), validate(survey, full_answers(survey, "office")),
                                tokens[5])
        assert again == (Outcome.REPLAY, None)
        assert storage.pending_campaigns() == []


def add(campaign, survey, n: int, start: int = 0) -> None:
    for i in range(start, start + n):  # one transaction per response, as submissions come
        store_responses(campaign, [validate(survey, full_answers(survey, GROUPS[i % 4], seed=i))])


def test_nightly_scramble_takes_the_pending_campaigns(app, runner, campaign):
    postgres_only(app)
    with app.app_context():
        c = get_campaign(campaign)
        survey = definition(c.survey_version)
        other = open_campaign("office-service-quality", "另一个活动")
        add(c, survey, 30)
        add(other, survey, 1)  # one response has no order to hide
        assert [p.slug for p in storage.pending_campaigns()] == [campaign]

    first = runner.invoke(args=["campaign", "scramble"])
    assert first.exit_code == 0, first.output
    assert "Scrambled the storage order of 1 campaign(s)" in first.output and "30 responses" in first.output
    again = runner.invoke(args=["campaign", "scramble"])
    assert again.exit_code == 0 and "Nothing to do: no campaign has answers" in again.output

    with app.app_context():
        add(get_campaign(campaign), survey, 1, start=30)  # an answer after the scramble: pending again
        assert [p.slug for p in storage.pending_campaigns()] == [campaign]
    one = runner.invoke(args=["campaign", "scramble", campaign])
    assert one.exit_code == 0 and "31 responses" in one.output
    every = runner.invoke(args=["campaign", "scramble", "--all"])
    assert every.exit_code == 0 and "of every campaign" in every.output and "32 responses" in every.output
    with app.app_context():
        assert storage.pending_campaigns() == [] and len(writers("responses")) == 1
    assert runner.invoke(args=["campaign", "scramble", "nope"]).exit_code == 1
    assert runner.invoke(args=["campaign", "scramble", campaign, "--all"]).exit_code == 1


def test_closing_in_the_browser_scrambles_the_campaign(app, client, campaign, admin):
    postgres_only(app)
    with app.app_context():
        add(get_campaign(campaign), definition(get_campaign(campaign).survey_version), 25)
        assert storage.pending_campaigns()
    login(client)
    page = f"/admin/campaigns/{campaign}"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(page).get_data(as_text=True)).group(1)
    assert client.post(f"{page}/close", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert get_campaign(campaign).closed_at is not None
        assert storage.pending_campaigns() == [] and len(writers("answers")) == 1


def test_a_busy_table_leaves_the_campaign_closed_and_pending(app, campaign, monkeypatch):
    """A long reader holds the tables: the scramble gives up after its attempts, the closing stands, and the
    campaign stays pending for the nightly run, which succeeds once the reader is gone."""
    postgres_only(app)
    monkeypatch.setattr(storage, "LOCK_TIMEOUT", "100ms")
    monkeypatch.setattr(storage, "LOCK_ATTEMPTS", 2)
    monkeypatch.setattr(storage, "LOCK_PAUSE", 0.05)
    with app.app_context():
        c = get_campaign(campaign)
        add(c, definition(c.survey_version), 30)
        with db.engine.connect() as reader:
            reader.execute(text("SELECT count(*) FROM answers"))  # holds ACCESS SHARE until it ends
            with pytest.raises(storage.StorageBusy):
                storage.scramble([get_campaign(campaign)])
            result = close_campaign(get_campaign(campaign))
            reader.rollback()
        assert result is not None and not result.done and "could not lock" in result.error
        assert get_campaign(campaign).closed_at is not None
        assert [p.slug for p in storage.pending_campaigns()] == [campaign]  # rewritten, but not reordered
        assert storage.scramble(storage.pending_campaigns()).done
        assert storage.pending_campaigns() == []


def test_scramble_is_a_harmless_no_op_on_sqlite(app, runner, campaign):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite only")
    with app.app_context():
        c = get_campaign(campaign)
        add(c, definition(c.survey_version), 12)
        before = snapshot(c)
        assert storage.pending_campaigns() == []
        result = storage.scramble([c])
        assert result.backend == "sqlite" and not result.done and not result.rows
    scrambled = runner.invoke(args=["campaign", "scramble"])
    assert scrambled.exit_code == 0 and "Nothing to do: sqlite stores the response tables" in scrambled.output
    closed = runner.invoke(args=["campaign", "close", campaign])
    assert closed.exit_code == 0 and closed.output.strip() == f"Closed campaign '测试活动' ({campaign})"
    with app.app_context():
        assert snapshot(get_campaign(campaign)) == before
