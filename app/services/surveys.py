"""Store survey definitions as immutable versions and get validated Survey objects back."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain

import yaml
from cachetools import TTLCache
from flask import current_app, has_app_context
from sqlalchemy import bindparam, event
from sqlalchemy.orm import Session, joinedload, undefer

from app.extensions import db
from app.models import Campaign, SurveyVersion
from app.models import Survey as SurveyRow
from surveys import Survey, SurveyDefinitionError, loads
from surveys.xlsform import to_definition


@dataclass(frozen=True)
class ImportResult:
    version: SurveyVersion
    created: bool


def import_survey(source: str | bytes, filename: str = "<upload>") -> ImportResult:
    """Validate ``source`` and store it as the next version of its survey key (unless unchanged).

    Raises :class:`surveys.SurveyDefinitionError` when the definition is invalid; nothing is stored then.
    """
    text = source.decode("utf-8") if isinstance(source, bytes) else source
    survey = loads(text, source=filename)
    row = db.session.execute(db.select(SurveyRow).filter_by(key=survey.key)).scalar_one_or_none()
    if row is None:
        row = SurveyRow(key=survey.key)
        db.session.add(row)
    elif row.versions and row.versions[-1].source == text:
        return ImportResult(row.versions[-1], created=False)
    number = row.versions[-1].number + 1 if row.versions else 1
    version = SurveyVersion(survey=row, number=number, title=survey.title[survey.default_locale], source=text)
    db.session.add(version)
    db.session.commit()
    return ImportResult(version, created=True)


def parse_upload(data: bytes, filename: str) -> tuple[str, Survey]:
    """Return the YAML text and the validated survey of an uploaded .yaml/.yml or XLSForm .xlsx file.

    Raises :class:`surveys.SurveyDefinitionError` listing every problem; nothing is stored.
    """
    if filename.lower().endswith(".xlsx"):
        source = yaml.safe_dump(to_definition(data, filename), allow_unicode=True, sort_keys=False)
    else:
        try:
            source = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SurveyDefinitionError(filename, ["is not UTF-8 text"]) from exc
    return source, loads(source, source=filename)


def list_surveys() -> list[SurveyRow]:
    return list(db.session.execute(db.select(SurveyRow).order_by(SurveyRow.key)).scalars())


def latest_version(key: str) -> SurveyVersion | None:
    """Return the newest stored version of the survey ``key``, or None."""
    return db.session.execute(
        db.select(SurveyVersion)
        .join(SurveyRow)
        .where(SurveyRow.key == key)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def definition(version: SurveyVersion) -> Survey:
    """Return the validated survey of a stored version (parsed once per process)."""
    return _parse(version.id, version.source)


def campaign_with_definition(slug: str) -> tuple[Campaign, Survey] | None:
    """Return the campaign ``slug`` and its validated survey, or None; one query, for the public form.

    The id of the previous wave comes with it, for the form's "you said, we did" (see ``ledger.previous_wave``).
    """
    session = db.session()  # the request's Session itself (the scoped proxy has no in_transaction)
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        # A public page only reads: outside a transaction, PostgreSQL needs no BEGIN and ROLLBACK, two round trips
        # of the three such a page would cost. A submission is then one statement, atomic by itself, or begins a
        # transaction of its own (responses._write_connection).
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    campaign = session.execute(_campaign_by_slug(), {"slug": slug}).scalar_one_or_none()
    return None if campaign is None else (campaign, definition(campaign.survey_version))


def shown_campaign(slug: str) -> tuple[Campaign, Survey] | None:
    """``campaign_with_definition`` for the pages that only show a campaign (the blank form, the thank-you page),
    kept by this worker for ``CAMPAIGN_CACHE_SECONDS`` (0: not kept).

    A change to a campaign committed in this worker shows at once (see ``_forget_changed_campaigns``); one made
    by another worker or process shows within those seconds. A submission always reads its campaign afresh, so
    none is taken after the campaign closed, however the form was shown. The campaign kept is detached from the
    session, so that no commit expires it: everything these pages read of it is loaded with it.
    """
    seconds = current_app.config["CAMPAIGN_CACHE_SECONDS"]
    if not seconds:
        return campaign_with_definition(slug)
    kept = _shown_campaigns(seconds)
    with kept.lock:
        found = kept.get(slug)
    if found is None:
        found = campaign_with_definition(slug)
        if found is not None:  # unknown slugs are not kept: anyone can make up any number of them
            db.session.expunge(found[0])  # detached now, as it is when kept: no commit can expire it
            with kept.lock:
                kept[slug] = found
    return found


CAMPAIGNS_KEPT = 256  # campaigns open at once in one deployment, with room to spare
_CAMPAIGNS_EXTENSION = "officepulse.shown_campaigns"


class _ShownCampaigns(TTLCache):
    def __init__(self, seconds: float) -> None:
        super().__init__(maxsize=CAMPAIGNS_KEPT, ttl=seconds)
        self.lock = threading.Lock()


def _shown_campaigns(seconds: float) -> _ShownCampaigns:
    """Return this application's kept campaigns (one store per app, so one per worker)."""
    kept = current_app.extensions.get(_CAMPAIGNS_EXTENSION)
    if kept is None:
        kept = current_app.extensions.setdefault(_CAMPAIGNS_EXTENSION, _ShownCampaigns(seconds))
    return kept


@event.listens_for(Session, "after_flush")
def _note_changed_campaigns(session: Session, context) -> None:
    if any(isinstance(obj, Campaign) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info["campaigns_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_changed_campaigns(session: Session) -> None:
    """Once a change to a campaign is committed, this worker shows campaigns as they now are."""
    if session.info.pop("campaigns_changed", False) and has_app_context():
        kept = current_app.extensions.get(_CAMPAIGNS_EXTENSION)
        if kept is not None:
            with kept.lock:
                kept.clear()


@cache
def _campaign_by_slug():
    """The statement of ``campaign_with_definition``, built once: every public request runs it."""
    return (
        db.select(Campaign)
        .options(joinedload(Campaign.survey_version), undefer(Campaign.previous_wave_id))
        .where(Campaign.slug == bindparam("slug"))
    )


@lru_cache(maxsize=64)
def _parse(version_id: int, source: str) -> Survey:
    return loads(source, source=f"survey version {version_id}")
