"""Getting the survey to people: QR codes, the poster, one-time code slips."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange, StopValidation

from app.admin import bp
from app.admin.views import campaign_or_404
from app.services import distribution
from app.services.campaigns import public_url, today
from app.services.codes import code_counts
from app.services.surveys import definition

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
BAD_COUNT = _l("Enter a whole number from 1 to %(max)s.", max=distribution.MAX_SLIPS)


class CountField(IntegerField):
    """An integer field that gives one clear message for text, blanks and numbers out of range."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(BAD_COUNT)) from None

    def pre_validate(self, form):
        if self.process_errors:  # not a number: say so once, without the range check's second message
            raise StopValidation()


class CodesForm(FlaskForm):
    count = CountField(
        _l("Number of codes"),
        validators=[InputRequired(BAD_COUNT), NumberRange(min=1, max=distribution.MAX_SLIPS, message=BAD_COUNT)],
        description=_l("One code per person who may answer; at most %(max)s at a time.", max=distribution.MAX_SLIPS),
        render_kw={"inputmode": "numeric"},
    )


def poster_for(campaign) -> distribution.Poster:
    """Return every text of ``campaign``'s poster in the page's language."""
    survey = definition(campaign.survey_version)
    locale = str(get_locale())
    closes = _("Closes on %(date)s", date=campaign.closes_on.isoformat()) if campaign.closes_on else None
    return distribution.Poster(
        title=survey.title[survey.locale(locale)],
        campaign=campaign.name,
        url=public_url(campaign),
        scan=_("Scan with your phone to answer"),
        or_open=_("or open this address in a browser:"),
        closes=closes,
        privacy=distribution.privacy_statement(campaign, english=locale == "en"),
    )


@bp.get("/campaigns/<slug>/qr.png")
def qr_png(slug: str):
    return Response(distribution.qr_png(public_url(campaign_or_404(slug))), mimetype="image/png")


@bp.get("/campaigns/<slug>/qr.svg")
def qr_svg(slug: str):
    return Response(distribution.qr_svg(public_url(campaign_or_404(slug))), mimetype="image/svg+xml")


@bp.get("/campaigns/<slug>/poster")
def poster(slug: str):
    campaign = campaign_or_404(slug)
    poster = poster_for(campaign)
    local = urlsplit(poster.url).hostname in LOOPBACK_HOSTS
    return render_template("admin/poster.html", campaign=campaign, poster=poster, local_only=local)


@bp.get("/campaigns/<slug>/poster.pdf")
def poster_pdf(slug: str):
    campaign = campaign_or_404(slug)
    return Response(distribution.poster_pdf(poster_for(campaign)), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="poster-{campaign.slug}.pdf"'})


@bp.route("/campaigns/<slug>/codes", methods=["GET", "POST"])
def codes(slug: str):
    campaign = campaign_or_404(slug)
    usable = campaign.collection_mode == "codes" and campaign.status(today()) != "closed"
    form = CodesForm()
    if usable and form.validate_on_submit():
        slips = distribution.issue_codes(campaign, form.count.data)
        html = render_template("admin/slips.html", campaign=campaign, poster=poster_for(campaign), slips=slips,
                               privacy=distribution.slip_privacy(english=str(get_locale()) == "en"))
        return Response(html, headers={"Cache-Control": "no-store"})  # the codes exist only in this page
    issued, used = code_counts(campaign)
    status = 200 if request.method == "GET" else (422 if usable else 409)
    return render_template("admin/slips.html", campaign=campaign, form=form if usable else None,
                           issued=issued, used=used), status
