"""Open, close and list campaigns."""

from __future__ import annotations

import os
import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Campaign, Response, Survey, SurveyVersion, utcnow
from app.services import storage
from app.services.surveys import definition, latest_version

MIN_K = 3
MODES = ("open", "codes")


class CampaignError(ValueError):
    """A campaign cannot be opened or changed as asked; the message says why."""


def today() -> date:
    """Return the office's calendar date (the only time ever stored with a response)."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


# Letters and digits without the look-alikes 0/O/o, 1/l/I: slugs are typed from printed posters.
SLUG_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0Oo1lI")


def new_slug() -> str:
    """Return a random, unguessable campaign slug: 16 unambiguous letters or digits, 92 bits."""
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
        raise CampaignError(_l("No survey with the key '%(key)s'; import it first.", key=survey_key))
    k = current_app.config["DEFAULT_MIN_GROUP_SIZE"] if min_group_size is None else min_group_size
    campaign = Campaign(slug=new_slug(), survey_version=version)
    _apply(campaign, definition(version), name=name, min_group_size=k, opens_on=opens_on or today(),
           closes_on=closes_on, mode=mode, groups=groups)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def update_campaign(campaign: Campaign, responses: int, **changes) -> None:
    """Change a campaign's settings; once anyone has answered, anonymity may only get stronger.

    With responses: k may only rise, the collection mode and the opening date stay, and fewer groups may
    not be offered (an offered group's answers would otherwise be in a category too small to exist).
    """
    current = {"name": campaign.name, "min_group_size": campaign.min_group_size, "opens_on": campaign.opens_on,
               "closes_on": campaign.closes_on, "mode": campaign.collection_mode, "groups": campaign.groups_offered}
    wanted = {**current, **changes}
    if responses:
        if wanted["min_group_size"] < current["min_group_size"]:
            raise CampaignError(_l("Answers have been given: the minimum group size can only be raised."))
        if wanted["mode"] != current["mode"]:
            raise CampaignError(_l("Answers have been given: the collection mode can no longer change."))
        if wanted["opens_on"] != current["opens_on"]:
            raise CampaignError(_l("Answers have been given: the opening date can no longer change."))
    elif wanted["opens_on"] != current["opens_on"] and wanted["opens_on"] < today():
        raise CampaignError(_l("The opening date cannot be in the past."))
    _apply(campaign, definition(campaign.survey_version), **wanted)
    db.session.commit()


def _apply(campaign: Campaign, survey, *, name, min_group_size, opens_on, closes_on, mode, groups) -> None:
    """Check a campaign's settings together and set them; raise CampaignError naming the first problem."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise CampaignError(_l("The campaign needs a name of 1 to 200 characters."))
    if min_group_size < MIN_K:
        raise CampaignError(_l("The minimum group size must be at least %(k)s.", k=MIN_K))
    if mode not in MODES:
        raise CampaignError(_l("The collection mode must be 'open' or 'codes'."))
    if closes_on is not None and closes_on < max(opens_on, today()):
        raise CampaignError(_l("The closing date must not be in the past or before the opening date."))
    campaign.name = name
    campaign.min_group_size = min_group_size
    campaign.min_comment_group_size = max(min_group_size, current_app.config["DEFAULT_MIN_COMMENT_GROUP_SIZE"])
    campaign.opens_on = opens_on
    campaign.closes_on = closes_on
    campaign.collection_mode = mode
    campaign.offered_groups = _offered_groups(survey, groups)


def _offered_groups(survey, groups: list[str] | None) -> str | None:
    """Return the stored form of the offered groups (None: all), refusing unknown choices."""
    if not groups:
        return None
    known = [c.code for c in survey.groups]
    unknown = sorted(set(groups) - set(known))
    if unknown:
        raise CampaignError(_l("Unknown respondent groups: %(groups)s", groups=", ".join(unknown)))
    chosen = [g for g in known if g in groups]
    return None if chosen == known else " ".join(chosen)


def get_campaign(slug: str) -> Campaign | None:
    return db.session.execute(db.select(Campaign).filter_by(slug=slug)).scalar_one_or_none()


def close_campaign(campaign: Campaign) -> storage.ScrambleResult | None:
    """Stop taking answers, then scramble the campaign's storage order (PostgreSQL; see app.services.storage).

    Returns None if the campaign was closed already. The closing stands even if the scramble fails (the
    tables stayed locked by others, or the database refused): the failure is logged and returned in the
    result's ``error``, and the nightly ``flask campaign scramble`` finds the campaign still pending.
    """
    if campaign.closed_at is not None:
        return None
    slug = campaign.slug
    campaign.closed_at = utcnow()
    db.session.commit()
    try:
        return storage.scramble([campaign])
    except (storage.StorageError, SQLAlchemyError) as exc:
        db.session.rollback()
        current_app.logger.warning("campaign %s closed, storage order not scrambled: %s", slug, exc)
        return storage.ScrambleResult(storage.backend(), campaigns=1, error=str(exc))


def reopen_campaign(campaign: Campaign, closes_on: date | None) -> None:
    """Take answers again, until ``closes_on`` (None: until closed by hand)."""
    if closes_on is not None and closes_on < today():
        raise CampaignError(_l("The closing date must not be in the past or before the opening date."))
    campaign.closed_at = None
    campaign.closes_on = closes_on
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
