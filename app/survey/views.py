"""Public routes: the survey form, the thank-you page and the privacy statement."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from app.extensions import csrf
from app.services import receipts
from app.services.campaigns import today
from app.services.ledger import you_said_we_did
from app.services.responses import Outcome, count_rejection, submit_response
from app.services.surveys import campaign_with_definition, shown_campaign
from app.survey.forms import ResponseForm
from app.survey.guard import already_answered, remember_answered
from app.survey.questions import questions
from surveys.answers import validate

bp = Blueprint("survey", __name__)


def load_open_campaign(slug: str):
    """Return the campaign and its survey, or abort: 404 unknown, 403 not yet open, 410 closed.

    A submission reads the campaign afresh; showing the form may use the worker's recent reading of it.
    """
    found = campaign_with_definition(slug) if request.method == "POST" else shown_campaign(slug)
    if found is None:
        abort(404)
    campaign, survey = found
    status = campaign.status(today())
    if status != "open":
        if status == "closed":
            code, message = 410, _("This survey has closed. Thank you for your interest.")
        else:
            code, message = 403, _("This survey is not open yet. It opens on %(date)s.", date=campaign.opens_on)
        abort(make_response(render_template("error.html", code=code, message=message), code))
    return campaign, survey


def render_form(campaign, survey, meta, answers, errors=None, notice=None, status=200):
    locale = survey.locale(str(get_locale()))
    errors = errors or {}
    return render_template(
        "survey/form.html",
        campaign=campaign,
        survey=survey,
        locale=locale,
        loop_closed=you_said_we_did(campaign, locale),
        meta=meta,
        questions=questions(survey, locale, campaign.groups_offered, answers, errors),
        errors=errors,
        notice=notice,
    ), status


@bp.route("/s/<slug>", methods=["GET", "POST"])
@csrf.exempt  # checked by ResponseForm below, so that an expired token re-renders with every answer kept
def form(slug: str):
    campaign, survey = load_open_campaign(slug)
    meta = ResponseForm(formdata=request.form if request.method == "POST" else None)  # files are never fields
    if request.method == "GET":
        if campaign.collection_mode == "open" and already_answered(slug) and not request.args.get("again"):
            return render_template("survey/answered.html", campaign=campaign, survey=survey,
                                   locale=survey.locale(str(get_locale())))
        meta.start()
        meta.code.data = request.args.get("code", "")
        return render_form(campaign, survey, meta, {})

    answers = request.form.to_dict(flat=False)
    submission = validate(survey, answers, groups=campaign.groups_offered)
    token_ok = meta.validate()
    if token_ok and meta.looks_automated():
        count_rejection(campaign.id, "honeypot")
        return redirect(url_for(".thanks", slug=slug), 303)  # a bot learns nothing from the answer
    if not token_ok or meta.sid.errors:
        meta.start()
        notice = "expired" if submission.ok else None
        return render_form(campaign, survey, meta, answers, submission.errors, notice, 400 if notice else 422)
    taken = meta.seconds_taken()
    if taken is None or taken < current_app.config["MIN_FILL_SECONDS"]:
        count_rejection(campaign.id, "too_fast")
        meta.stamp()
        return render_form(campaign, survey, meta, answers, submission.errors, "too_fast", 422)
    mode = campaign.collection_mode  # read now: storing the response expires the campaign's attributes
    code = (meta.code.data or "").strip() if mode == "codes" else None
    errors = dict(submission.errors)
    if code == "":
        errors["code"] = "required"
    if errors:
        return render_form(campaign, survey, meta, answers, errors, status=422)
    outcome, receipt = submit_response(campaign, submission, meta.sid.data, code)
    if outcome is Outcome.BAD_CODE:
        return render_form(campaign, survey, meta, answers, {"code": "bad_code"}, status=422)
    if receipt:
        session["receipt"] = receipt  # shown once on the thank-you page, never put in a URL
    response = redirect(url_for(".thanks", slug=slug), 303)
    if mode == "open":
        remember_answered(response, slug)
    return response


@bp.get("/s/<slug>/thanks")
def thanks(slug: str):
    found = shown_campaign(slug)
    if found is None:
        abort(404)
    campaign, survey = found
    return render_template("survey/thanks.html", campaign=campaign, survey=survey, receipt=session.pop("receipt", None),
                           locale=survey.locale(str(get_locale())))


@bp.get("/r/<code>")
def receipt(code: str):
    found = receipts.find(code)
    if found is None:
        abort(404)
    response, campaign = found
    return render_template("survey/receipt.html", code=code, campaign=campaign, submitted_on=response.submitted_on,
                           can_withdraw=campaign.status(today()) == "open")


@bp.post("/r/<code>/withdraw")
def withdraw(code: str):
    found = receipts.find(code)
    if found is None:
        abort(404)
    response, campaign = found
    if campaign.status(today()) != "open":
        return render_template("survey/receipt.html", code=code, campaign=campaign, can_withdraw=False,
                               submitted_on=response.submitted_on, refused=True), 409
    receipts.withdraw(response)
    return render_template("survey/withdrawn.html", campaign=campaign)


@bp.get("/privacy")
def privacy():
    return render_template("survey/privacy.html")
