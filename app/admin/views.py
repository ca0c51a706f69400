"""The office head's pages. Every route here requires a logged-in admin."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from analysis import FilterRefused
from app.admin import bp
from app.admin.forms import ActionForm, LoginForm, weak_point_choices
from app.extensions import db, limiter, login_manager
from app.models import User
from app.services import ledger
from app.services.accounts import authenticate
from app.services.campaigns import get_campaign, list_campaigns, public_url, today
from app.services.export import responses_csv
from app.services.results import campaign_results, chart_list, comparison

PUBLIC_ENDPOINTS = {"admin.login"}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@bp.before_request
def require_login():
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(formdata=request.form if request.method == "POST" else None)  # files are never fields
    if form.validate_on_submit():
        if not limiter.allow_login(form.username.data):  # counted before the password is checked
            abort(429)
        user = authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(url_for(".dashboard"), 303)
        form.password.errors.append(_("Wrong username or password."))
    return render_template("admin/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for(".login"), 303)


@bp.get("/")
def dashboard():
    return render_template("admin/dashboard.html", rows=list_campaigns())


def campaign_or_404(slug: str):
    campaign = get_campaign(slug)
    if campaign is None:
        abort(404)
    return campaign


def filtered_results(campaign):
    """Return the results for the ?group= filter, or all results with a flashed message if it is refused."""
    group = request.args.get("group") or None
    try:
        return campaign_results(campaign, group)
    except FilterRefused:
        flash(_("This filter would describe fewer than %(k)s people (or leave fewer than %(k)s outside it), "
                "so it is not applied, to protect anonymity. All responses are shown.", k=campaign.min_group_size),
              "error")
        return campaign_results(campaign)


COMMENTS_PER_PAGE = 100


def comment_page(results, page: int) -> dict:
    """One page of the (already shuffled) comments shown to the head: a large campaign has tens of thousands."""
    comments = results.report.get("comments")
    total = 0 if comments is None else len(comments)
    pages = max(1, -(-total // COMMENTS_PER_PAGE))
    page = min(max(page, 1), pages)
    first = (page - 1) * COMMENTS_PER_PAGE
    texts = [] if comments is None else comments["text"].iloc[first:first + COMMENTS_PER_PAGE].tolist()
    return {"texts": texts, "page": page, "pages": pages, "total": total, "first": first + 1,
            "last": first + len(texts)}


@bp.get("/campaigns/<slug>")
def campaign(slug: str):
    campaign = campaign_or_404(slug)
    results = filtered_results(campaign)
    survey = results.survey
    lang = str(get_locale())
    previous = ledger.previous_wave(campaign)
    previous_actions: dict[str | None, list] = {}
    for action in ledger.actions_of(previous) if previous else []:
        previous_actions.setdefault(action.dimension, []).append(action)
    return render_template(
        "admin/campaign.html",
        campaign=campaign,
        previous=previous,
        previous_actions=previous_actions,
        changes=comparison(results, previous.id, campaign.id) if previous and not results.group else {},
        actions=ledger.actions_of(campaign),
        action_form=ActionForm.for_survey(survey),
        weak_points={choice.value: choice.label for choice in weak_point_choices(survey)},
        survey=survey,
        locale=survey.locale(str(get_locale())),
        status=campaign.status(today()),
        url=public_url(campaign),
        results=results,
        data=results.json(),
        charts=chart_list(lang),
        comments=comment_page(results, request.args.get("comments", 1, type=int)),
    )


@bp.get("/campaigns/<slug>/responses.csv")
def responses_export(slug: str):
    campaign = campaign_or_404(slug)
    rows = responses_csv(
        campaign,
        locale=str(get_locale()),
        labels=request.args.get("labels") == "1",
        question_row=request.args.get("questions") == "1",
    )
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="responses-{campaign.slug}.csv"',
            "Cache-Control": "no-store",
        },
    )
