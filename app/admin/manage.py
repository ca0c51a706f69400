"""Running campaigns from the browser: create, edit, close, reopen; surveys: upload and preview; audit log."""

from __future__ import annotations

from types import SimpleNamespace

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.admin import bp
from app.admin.forms import CampaignForm, ConfirmForm, ReopenForm, SurveyUploadForm
from app.admin.views import campaign_or_404
from app.services import audit
from app.services.campaigns import (
    CampaignError,
    close_campaign,
    open_campaign,
    reopen_campaign,
    today,
    update_campaign,
)
from app.services.results import response_count
from app.services.surveys import definition, import_survey, latest_version, list_surveys, parse_upload
from app.survey.forms import ResponseForm
from app.survey.questions import questions
from surveys import SurveyDefinitionError


def _survey_choices() -> list[SelectChoice]:
    locale = str(get_locale())
    choices = []
    for row in list_surveys():
        survey = definition(row.versions[-1])
        label = f"{survey.title[survey.locale(locale)]} ({row.key}, v{row.versions[-1].number})"
        choices.append(SelectChoice(row.key, label))
    return choices


def _group_choices(survey) -> list[SelectChoice]:
    return [SelectChoice(c.code, c.label[survey.locale(str(get_locale()))]) for c in survey.groups]


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_new():
    form = CampaignForm()
    form.survey.choices = _survey_choices()
    first = form.survey.choices[0].value if form.survey.choices else None
    key = form.survey.data or request.args.get("survey") or first
    version = latest_version(key) if key else None
    form.groups.choices = _group_choices(definition(version)) if version else []
    if request.method == "GET":
        form.survey.data, form.opens_on.data, form.min_group_size.data = key, today(), 5
        form.groups.data = [choice.value for choice in form.groups.choices]
    elif form.validate_on_submit():
        try:
            campaign = open_campaign(key, form.name.data, form.min_group_size.data, form.closes_on.data,
                                     form.opens_on.data, form.mode.data, form.groups.data)
        except CampaignError as exc:
            form.name.errors.append(str(exc))
        else:
            audit.record("campaign.open", campaign.slug, f"{key}, {campaign.name}, mode {campaign.collection_mode}")
            return redirect(url_for(".campaign", slug=campaign.slug), 303)
    return render_template("admin/campaign_form.html", form=form, creating=True), 422 if form.is_submitted() else 200


@bp.route("/campaigns/<slug>/edit", methods=["GET", "POST"])
def campaign_edit(slug: str):
    campaign = campaign_or_404(slug)
    answered = response_count(campaign)
    form = CampaignForm(obj=None if request.method == "POST" else campaign)
    del form.survey  # a campaign keeps the survey version it was opened with
    form.groups.choices = _group_choices(definition(campaign.survey_version))
    if request.method == "GET":
        form.mode.data = campaign.collection_mode
        form.groups.data = campaign.groups_offered or [choice.value for choice in form.groups.choices]
    elif form.validate_on_submit():
        try:
            update_campaign(campaign, answered, name=form.name.data, min_group_size=form.min_group_size.data,
                            opens_on=form.opens_on.data, closes_on=form.closes_on.data, mode=form.mode.data,
                            groups=form.groups.data)
        except CampaignError as exc:
            form.name.errors.append(str(exc))
        else:
            audit.record("campaign.edit", slug, f"k {campaign.min_group_size}, mode {campaign.collection_mode}")
            flash(_("Saved."), "ok")
            return redirect(url_for(".campaign", slug=slug), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/campaign_form.html", form=form, creating=False, campaign=campaign,
                           answered=answered), status


@bp.post("/campaigns/<slug>/close")
def campaign_close(slug: str):
    campaign = campaign_or_404(slug)
    if ConfirmForm().validate_on_submit():
        close_campaign(campaign)
        audit.record("campaign.close", slug)
        flash(_("The campaign is closed: the form no longer takes answers."), "ok")
    return redirect(url_for(".campaign", slug=slug), 303)


@bp.post("/campaigns/<slug>/reopen")
def campaign_reopen(slug: str):
    campaign = campaign_or_404(slug)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            reopen_campaign(campaign, form.closes_on.data)
        except CampaignError as exc:
            flash(str(exc), "error")
        else:
            audit.record("campaign.reopen", slug, f"closes {form.closes_on.data or '-'}")
            flash(_("The campaign is open again."), "ok")
    else:
        flash(_("Please enter a valid date."), "error")
    return redirect(url_for(".campaign", slug=slug), 303)


@bp.route("/surveys", methods=["GET", "POST"])
def surveys():
    form = SurveyUploadForm()
    problems: list[str] = []
    preview = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            source, survey = parse_upload(upload.read(), upload.filename or "upload.yaml")
        except SurveyDefinitionError as exc:
            problems = [str(exc).splitlines()[0]] if not exc.problems else [str(p) for p in exc.problems]
        else:
            if request.form.get("action") == "import":
                result = import_survey(source, filename=upload.filename)
                audit.record("survey.import", survey.key, f"version {result.version.number} from {upload.filename}")
                flash(_("Survey '%(key)s' stored as version %(n)s.", key=survey.key, n=result.version.number)
                      if result.created else _("Survey '%(key)s' is unchanged.", key=survey.key), "ok")
                return redirect(url_for(".surveys"), 303)
            preview = survey
    if preview is not None:
        return _preview(preview)
    status = 422 if problems or form.errors else 200
    return render_template("admin/surveys.html", form=form, problems=problems, rows=list_surveys(),
                           definition=definition), status


@bp.get("/surveys/<key>/preview")
def survey_preview(key: str):
    version = latest_version(key)
    if version is None:
        return render_template("error.html", code=404, message=_("This page does not exist.")), 404
    return _preview(definition(version))


def _preview(survey):
    """Render the form exactly as a respondent sees it, with nothing that could submit or store."""
    meta = ResponseForm()
    meta.start()
    stand_in = SimpleNamespace(slug="preview", min_group_size=5, collection_mode="open", groups_offered=None,
                               closes_on=None)
    locale = survey.locale(str(get_locale()))
    # Not cached: an uploaded survey is previewed once and never stored.
    return render_template("survey/form.html", campaign=stand_in, survey=survey, meta=meta, errors={}, notice=None,
                           preview=True, locale=locale, questions=questions(survey, locale, None, cache=False))


@bp.get("/audit")
def audit_log():
    return render_template("admin/audit.html", entries=audit.entries())
