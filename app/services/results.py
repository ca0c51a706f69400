"""A campaign's analysed results, computed once per response count and shared by every output."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from analysis import build_report, build_wave_report, check_filter, load_responses, reported_groups, results_json
from app.extensions import db
from app.models import Campaign, Response, SurveyVersion
from app.services.campaigns import today
from app.services.surveys import definition
from surveys import Survey

CACHE_SIZE = 16


@dataclass(frozen=True)
class Results:
    """Everything the results page, the charts, the JSON, the PDF and the spreadsheet are made from."""

    campaign_slug: str
    campaign_name: str
    survey: Survey
    n_responses: int
    report: dict[str, Any]
    waves: dict[str, Any] | None
    group: str | None = None  # the respondent group the results are filtered to, if any
    rendered: dict[tuple, bytes] = field(default_factory=dict, compare=False, repr=False)

    def json(self) -> dict[str, Any]:
        return results_json(self.report, campaign=self.campaign_slug, survey=self.survey.key,
                            n_responses=self.n_responses, waves=self.waves)


# matplotlib (analysis.charts, analysis.pdf) and scipy are imported when first needed: importing them takes
# seconds, which every `flask` command and every worker start would otherwise pay.
_cache: OrderedDict[tuple, Results] = OrderedDict()
_lock = threading.Lock()
# matplotlib's rc_context changes process-wide state while a chart is built: one drawing at a time.
_draw_lock = threading.Lock()
CHART_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


def warm_up() -> None:
    """Import and set up, once per server, what computing and drawing results needs: matplotlib with the charts'
    font, scipy.stats and jieba's dictionary (seconds in all; `gunicorn.conf.py` calls this before forking)."""
    import scipy.stats  # noqa: F401

    import analysis.charts  # noqa: F401
    from analysis.themes import prepare_segmenter

    prepare_segmenter()


def response_count(campaign: Campaign) -> int:
    return db.session.execute(
        db.select(db.func.count()).select_from(Response).where(Response.campaign_id == campaign.id)
    ).scalar_one()


def earlier_waves(campaign: Campaign) -> list[Campaign]:
    """Return the campaigns of the same survey opened up to this one, oldest first (this one last)."""
    survey_id = campaign.survey_version.survey_id
    return list(db.session.execute(
        db.select(Campaign)
        .join(SurveyVersion, Campaign.survey_version_id == SurveyVersion.id)
        .where(SurveyVersion.survey_id == survey_id, Campaign.id <= campaign.id)
        .order_by(Campaign.id)
    ).scalars())


def campaign_results(campaign: Campaign, group: str | None = None) -> Results:
    """Return the campaign's results, recomputed only when its (or an earlier wave's) responses changed.

    With ``group``, the results describe that reported group only; raises ``analysis.FilterRefused`` when
    the group or everyone else is smaller than k.
    """
    waves = earlier_waves(campaign)
    counts = tuple((c.id, response_count(c)) for c in waves)
    key = (db.engine.url.render_as_string(), campaign.id, campaign.min_group_size, counts, group)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    results = _compute(campaign, waves, counts[-1][1], group)
    with _lock:
        _cache[key] = results
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return results


def _compute(campaign: Campaign, waves: list[Campaign], n_responses: int, group: str | None) -> Results:
    survey = definition(campaign.survey_version)
    k = campaign.min_group_size
    conn = db.session.connection()
    answers, comments = load_responses(conn, campaign.id, survey)
    wave_report = None
    slug_id = {c.slug: c.id for c in waves}
    if group is not None:
        answers, comments = _only(answers, comments, group, k)
    report = build_report(answers, comments, k=k, k_comments=campaign.min_comment_group_size,
                          weights=survey.grade_weights)
    # Waves without a single answer (an opened but unused campaign) are not waves of the trend.
    earlier = [campaign_results(c) for c in waves[:-1] if response_count(c)] if group is None else []
    if earlier and len(answers):
        frames = [load_responses(conn, slug_id[r.campaign_slug], r.survey)[0] for r in earlier]
        wave_report = dict(build_wave_report([*frames, answers], k=k))
        from analysis.charts import enps_by_wave

        wave_report["enps"] = enps_by_wave([*(r.report for r in earlier), report])
    return Results(campaign.slug, campaign.name, survey, n_responses, report, wave_report, group)


def _only(answers, comments, group: str, k: int):
    """Keep the responses of one reported group, or raise FilterRefused if it or the rest is below k."""
    sizes = answers.groupby("group")["response_id"].nunique()
    reported = reported_groups(sizes.to_dict(), k)
    chosen = {g for g, shown in reported.items() if shown == group}
    n_selected = int(sizes[sorted(chosen)].sum()) if chosen else 0
    check_filter(n_selected, int(sizes.sum()), k)
    return answers[answers["group"].isin(chosen)], comments[comments["group"].isin(chosen)]


def chart_list(locale: str) -> list[dict[str, str]]:
    """The charts of the results page in order: name, title and caption in the language."""
    from analysis.charts import CAPTIONS, CHARTS, TITLES

    return [{"name": name, "title": TITLES[name][locale], "caption": CAPTIONS[name][locale]} for name in CHARTS]


def chart(results: Results, name: str, fmt: str, locale: str) -> bytes:
    """Return one chart as PNG or SVG bytes, drawn once per results and language."""
    from analysis.charts import CHARTS, draw, item_labels

    if name not in CHARTS or fmt not in CHART_FORMATS:
        raise KeyError(name)
    key = ("chart", name, fmt, locale)
    if key not in results.rendered:
        with _draw_lock:
            figure = draw(name, results.report, locale, waves=results.waves, items=item_labels(results.survey, locale))
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, dpi=110)
        results.rendered[key] = buffer.getvalue()
    return results.rendered[key]


def report_pdf(results: Results, locale: str) -> bytes:
    """Return the multi-page PDF report, built once per results and language."""
    from analysis.charts import item_labels
    from analysis.pdf import write_report_pdf

    key = ("pdf", locale)
    if key not in results.rendered:
        buffer = io.BytesIO()
        with _draw_lock:
            write_report_pdf(results.report, buffer, title=results.survey.title[results.survey.locale(locale)],
                             campaign=results.campaign_name, n_responses=results.n_responses, locale=locale,
                             waves=results.waves, items=item_labels(results.survey, locale), today=today())
        results.rendered[key] = buffer.getvalue()
    return results.rendered[key]


def comparison(results: Results, previous_id: int, current_id: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Return, per dimension, the change of score and gap from the previous wave (all respondents).

    ``{dimension: {"score": {...}, "gap": {...}}}`` with ``change``, ``ci_low``, ``ci_high``, ``label``
    (improved / no clear change / worse), and None figures where either wave is suppressed.
    """
    if not results.waves or "changes" not in results.waves:
        return {}
    changes = results.waves["changes"]
    rows = changes[(changes["campaign_from"] == previous_id) & (changes["campaign_to"] == current_id)
                   & (changes["group"] == "all")]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows.to_dict("records"):
        hidden = bool(row.get("suppressed"))
        out.setdefault(row["dimension"], {})[row["measure"]] = {
            key: None if hidden or row[key] is None or row[key] != row[key] else row[key]
            for key in ("change", "ci_low", "ci_high", "label")
        }
    return out
