"""Open, close and list campaigns."""

from __future__ import annotations

import os
import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, url_for

from app.extensions import db
from app.models import Campaign, Response, Survey, SurveyVersion, utcnow
from app.services.surveys import definition, latest_version

MIN_K = 3
MODES = ("open", "codes")


class CampaignError(ValueError):
    """A campaign cannot be opened or changed as asked; the message says why."""


def today() -> date:
    """Return the office's calendar date (the only time ever stored with a response)."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


SLUG_ALPHABET = string.ascii_letters + string.digits


def new_slug() -> str:
    """Return a random, unguessable campaign slug: 16 letters or digits, 95 bits (safe in URLs and shells)."""
    return "".join(secrets.choice(SLUG_ALPHABET) for _ in range(16))


def open_campaign(
    survey_key: str,
    name: str,
    min_group_size: int | None = None,
    closes_on: date | None = None,
    opens_on: date | None = None,
    mode: str = "open",
    groups: list[str] | None = None,
) -> Campaign:
    """Open a campaign of the newest version of ``survey_key``; raise CampaignError on bad input."""
    version = latest_version(survey_key)
    if version is None:
        raise CampaignError(f"no survey with key '{survey_key}'; import it first")
    if mode not in MODES:
        raise CampaignError(f"the collection mode must be one of {', '.join(MODES)}")
    offered = _offered_groups(definition(version), groups)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise CampaignError("the campaign needs a name of 1 to 200 characters")
    k = current_app.config["DEFAULT_MIN_GROUP_SIZE"] if min_group_size is None else min_group_size
    if k < MIN_K:
        raise CampaignError(f"the minimum group size must be at least {MIN_K}")
    start = opens_on or today()
    if closes_on is not None and closes_on < max(start, today()):
        raise CampaignError("the closing date must not be in the past or before the opening date")
    campaign = Campaign(
        slug=new_slug(),
        name=name,
        survey_version=version,
        min_group_size=k,
        min_comment_group_size=max(k, current_app.config["DEFAULT_MIN_COMMENT_GROUP_SIZE"]),
        opens_on=start,
        closes_on=closes_on,
        collection_mode=mode,
        offered_groups=offered,
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


def _offered_groups(survey, groups: list[str] | None) -> str | None:
    """Return the stored form of the offered groups (None: all), refusing unknown or empty choices."""
    if not groups:
        return None
    known = [c.code for c in survey.groups]
    unknown = sorted(set(groups) - set(known))
    if unknown:
        raise CampaignError(f"unknown respondent groups: {', '.join(unknown)}")
    chosen = [g for g in known if g in groups]
    return None if chosen == known else " ".join(chosen)


def get_campaign(slug: str) -> Campaign | None:
    return db.session.execute(db.select(Campaign).filter_by(slug=slug)).scalar_one_or_none()


def close_campaign(campaign: Campaign) -> None:
    if campaign.closed_at is None:
        campaign.closed_at = utcnow()
        db.session.commit()


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    survey_key: str
    status: str
    responses: int


def list_campaigns() -> list[CampaignRow]:
    """Return every campaign, newest first, with its status and response count (one query)."""
    count = (
        db.select(db.func.count(Response.id)).where(Response.campaign_id == Campaign.id).scalar_subquery()
    )
    rows = db.session.execute(
        db.select(Campaign, Survey.key, count)
        .join(SurveyVersion, Campaign.survey_version_id == SurveyVersion.id)
        .join(Survey, SurveyVersion.survey_id == Survey.id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ).all()
    now = today()
    return [CampaignRow(c, key, c.status(now), n) for c, key, n in rows]


def public_url(campaign: Campaign) -> str:
    """Return the survey link people open.

    PUBLIC_BASE_URL wins; otherwise the request's own host, or outside a request (the CLI) the address
    ``make run`` serves on.
    """
    base = current_app.config.get("PUBLIC_BASE_URL")
    if has_request_context():
        path = url_for("survey.form", slug=campaign.slug)
        return (base.rstrip("/") if base else request.host_url.rstrip("/")) + path
    if not base:
        base = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
    return base.rstrip("/") + current_app.url_map.bind("").build("survey.form", {"slug": campaign.slug})
