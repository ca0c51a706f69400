"""Streamed, Excel-safe CSV export of a campaign's responses."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import groupby

from analysis import MERGED, label, reported_groups
from app.extensions import db
from app.models import Answer, Campaign, Response
from app.services.surveys import definition

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH_ROWS = 2000


def neutralise(cell: str) -> str:
    """Return ``cell`` made inert for spreadsheet apps (no formula can start it)."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def group_counts(campaign: Campaign) -> dict[str, int]:
    rows = db.session.execute(
        db.select(Response.respondent_group, db.func.count())
        .where(Response.campaign_id == campaign.id)
        .group_by(Response.respondent_group)
    )
    return {g: n for g, n in rows}


def responses_csv(campaign: Campaign, locale: str, labels: bool = False, question_row: bool = False) -> Iterator[str]:
    """Return an iterator over the CSV text of every response: UTF-8 with BOM, CRLF, random (response-id) order.

    One row per response: the reported group, then one column per coded question (choice codes, or labels
    with ``labels``; a multi answer joins its codes with ';'). Free-text answers are not exported here:
    beside a row of answers they could identify their writer. No date or time is exported.
    Everything about the campaign is read before returning, so the rows can stream after the request.
    """
    survey = definition(campaign.survey_version)
    locale = survey.locale(locale)
    questions = [q for q in survey.questions if q.type != "text" and q.id != survey.group_question]
    group_q = survey.question(survey.group_question)
    reported = reported_groups(group_counts(campaign), campaign.min_group_size)

    def group_cell(code: str) -> str:
        shown = reported.get(code, MERGED)
        if not labels:
            return shown
        if shown == MERGED:
            return label("group", MERGED, locale)
        return group_q.choice_label(shown, locale, survey.dont_know_label)

    def answer_cell(q, codes: list[str]) -> str:
        if labels:
            codes = [q.choice_label(c, locale, survey.dont_know_label) for c in codes]
        return ";".join(codes)

    header = [["group", *(q.id for q in questions)]]
    if question_row:
        header.append([group_q.text[locale], *(q.text[locale] for q in questions)])
    query = (
        db.select(Response.id, Response.respondent_group, Answer.question_id, Answer.code)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.campaign_id == campaign.id)
        .order_by(Response.id, Answer.question_id, Answer.code)
        .execution_options(yield_per=BATCH_ROWS)
    )

    def rows() -> Iterator[list[str]]:
        yield from header
        result = db.session.execute(query)
        for (_, group), answer_rows in groupby(result, key=lambda r: (r[0], r[1])):
            answers: dict[str, list[str]] = {}
            for row in answer_rows:
                if row.question_id is not None:
                    answers.setdefault(row.question_id, []).append(row.code)
            yield [group_cell(group), *(answer_cell(q, answers.get(q.id, [])) for q in questions)]

    return _csv_text(rows())


def _csv_text(rows: Iterator[list[str]], rows_per_chunk: int = 500) -> Iterator[str]:
    """Yield Excel-safe CSV text in chunks: a BOM first, CRLF line ends, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    for i, row in enumerate(rows, 1):
        writer.writerow([neutralise(cell) for cell in row])
        if i % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
