"""Public routes: the survey form, the thank-you page and the privacy statement."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.extensions import csrf
from app.services.campaigns import get_campaign, today
from app.services.responses import submit_response
from app.services.surveys import definition
from app.survey.forms import ResponseForm, new_submission_id
from surveys.answers import validate

bp = Blueprint("survey", __name__)


def load_open_campaign(slug: str):
    """Return the campaign and its survey, or abort: 404 unknown, 403 not yet open, 410 closed."""
    campaign = get_campaign(slug)
    if campaign is None:
        abort(404)
    status = campaign.status(today())
    if status != "open":
        if status == "closed":
            code, message = 410, _("This survey has closed. Thank you for your interest.")
        else:
            code, message = 403, _("This survey is not open yet. It opens on %(date)s.", date=campaign.opens_on)
        abort(make_response(render_template("error.html", code=code, message=message), code))
    return campaign, definition(campaign.survey_version)


@bp.route("/s/<slug>", methods=["GET", "POST"])
@csrf.exempt  # checked by ResponseForm below, so that an expired token re-renders with every answer kept
def form(slug: str):
    campaign, survey = load_open_campaign(slug)
    meta = ResponseForm()
    answers = request.form.to_dict(flat=False) if request.method == "POST" else {}
    submission = validate(survey, answers) if request.method == "POST" else None
    if submission is not None:
        token_ok = meta.validate()
        if token_ok and submission.ok:
            submit_response(campaign, submission, meta.sid.data)
            return redirect(url_for(".thanks", slug=slug), 303)
        expired = not token_ok and submission.ok
        if meta.sid.errors:
            meta.sid.data = new_submission_id()
        status = 400 if expired else 422
    else:
        meta.sid.data = new_submission_id()
        expired, status = False, 200
    return render_template(
        "survey/form.html",
        campaign=campaign,
        survey=survey,
        locale=survey.locale(str(get_locale())),
        meta=meta,
        answers=answers,
        errors=submission.errors if submission else {},
        expired=expired,
    ), status


@bp.get("/s/<slug>/thanks")
def thanks(slug: str):
    campaign = get_campaign(slug)
    if campaign is None:
        abort(404)
    survey = definition(campaign.survey_version)
    return render_template("survey/thanks.html", campaign=campaign, survey=survey,
                           locale=survey.locale(str(get_locale())))


@bp.get("/privacy")
def privacy():
    return render_template("survey/privacy.html")
