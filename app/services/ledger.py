"""The rectification ledger (整改台账) and waves: actions against weak points, and the next campaign."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Action, Campaign
from app.services.campaigns import CampaignError, new_slug, today

STATUSES = ("planned", "in_progress", "done")


def actions_of(campaign: Campaign) -> list[Action]:
    return list(db.session.execute(
        db.select(Action).where(Action.campaign_id == campaign.id).order_by(Action.id)
    ).scalars())


def add_action(campaign: Campaign, *, dimension: str | None, what: str, responsible_post: str,
               due_on: date | None, status: str, evidence: str) -> Action:
    what = (what or "").strip()
    if not what:
        raise CampaignError(_l("Describe the action."))
    if status not in STATUSES:
        raise CampaignError(_l("Unknown status."))
    action = Action(campaign_id=campaign.id, dimension=dimension or None, what=what[:2000],
                    responsible_post=(responsible_post or "").strip()[:100], due_on=due_on, status=status,
                    evidence=(evidence or "").strip()[:4000])
    db.session.add(action)
    db.session.commit()
    return action


def update_action(action: Action, *, status: str, evidence: str) -> None:
    if status not in STATUSES:
        raise CampaignError(_l("Unknown status."))
    action.status = status
    action.evidence = (evidence or "").strip()[:4000]
    db.session.commit()


def previous_wave(campaign: Campaign) -> Campaign | None:
    """Return the campaign of the same survey opened just before this one, if any."""
    previous_id = campaign.previous_wave_id
    return None if previous_id is None else db.session.get(Campaign, previous_id)


def run_again(campaign: Campaign, name: str | None = None) -> Campaign:
    """Open the next wave: the same survey version (so the same question ids) and the same anonymity settings."""
    wave = 1
    previous = campaign
    while previous is not None:
        wave += 1
        previous = previous_wave(previous)
    follow = Campaign(
        slug=new_slug(),
        name=(name or "").strip() or f"{campaign.name} · 第 {wave} 轮",
        survey_version_id=campaign.survey_version_id,
        min_group_size=campaign.min_group_size,
        min_comment_group_size=campaign.min_comment_group_size,
        opens_on=today(),
        closes_on=None,
        collection_mode=campaign.collection_mode,
        offered_groups=campaign.offered_groups,
    )
    db.session.add(follow)
    db.session.commit()
    return follow


def you_said_we_did(campaign: Campaign, locale: str) -> dict | None:
    """Return what the previous wave found (suppressed, as the head saw it) and the actions taken, or None."""
    from app.services.results import campaign_results  # results import campaigns; keep this module light

    previous = previous_wave(campaign)
    if previous is None:
        return None
    findings = [f[locale] if locale in f else f["zh"] for f in campaign_results(previous).report["findings"][:3]]
    actions = actions_of(previous)
    if not findings and not actions:
        return None
    return {"name": previous.name, "findings": findings, "actions": actions}
