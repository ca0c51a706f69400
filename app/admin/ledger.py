"""The rectification ledger (整改台账) and waves: record actions, update them, run the survey again."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _

from app.admin import bp
from app.admin.forms import ActionForm, ActionUpdateForm, ConfirmForm
from app.admin.views import campaign_or_404
from app.extensions import db
from app.models import Action
from app.services import audit, ledger
from app.services.campaigns import CampaignError
from app.services.surveys import definition


@bp.post("/campaigns/<slug>/actions")
def action_add(slug: str):
    campaign = campaign_or_404(slug)
    form = ActionForm.for_survey(definition(campaign.survey_version))
    if form.validate_on_submit():
        try:
            action = ledger.add_action(campaign, dimension=form.dimension.data, what=form.what.data,
                                       responsible_post=form.responsible_post.data, due_on=form.due_on.data,
                                       status=form.status.data, evidence=form.evidence.data)
        except CampaignError as exc:
            flash(str(exc), "error")
        else:
            audit.record("action.add", slug, f"#{action.id} {action.dimension or '-'}: {action.what[:80]}")
            flash(_("The action is recorded in the ledger."), "ok")
    else:
        flash(_("The action was not recorded: %(problems)s", problems="; ".join(
            f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items())), "error")
    return redirect(url_for(".campaign", slug=slug, _anchor="ledger"), 303)


@bp.post("/campaigns/<slug>/actions/<int:action_id>")
def action_update(slug: str, action_id: int):
    campaign = campaign_or_404(slug)
    action = db.session.get(Action, action_id)
    if action is None or action.campaign_id != campaign.id:
        abort(404)
    form = ActionUpdateForm()
    if form.validate_on_submit():
        ledger.update_action(action, status=form.status.data, evidence=form.evidence.data)
        audit.record("action.update", slug, f"#{action.id} {action.status}")
        flash(_("Saved."), "ok")
    else:
        flash(_("The change was not saved; please check the form."), "error")
    return redirect(url_for(".campaign", slug=slug, _anchor="ledger"), 303)


@bp.post("/campaigns/<slug>/run-again")
def run_again(slug: str):
    campaign = campaign_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    follow = ledger.run_again(campaign)
    audit.record("campaign.run_again", follow.slug, f"next wave of {slug}")
    flash(_("The next wave is open, with the same questions and anonymity settings. Check its dates below."), "ok")
    return redirect(url_for(".campaign_edit", slug=follow.slug), 303)
