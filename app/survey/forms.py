"""The fixed part of the survey form; the questions themselves are validated by surveys.answers."""

from __future__ import annotations

import secrets
import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, TimestampSigner
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp


def new_submission_id() -> str:
    return secrets.token_urlsafe(24)


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt="officepulse form started")


class ResponseForm(FlaskForm):
    """CSRF token, the per-render submission id, the render time (signed, never stored), the one-time code
    (code mode) and a honeypot field that people never see."""

    # Labels given, although never shown: a missing label is translated, which makes Flask-WTF read WTForms'
    # message catalog from disk on every request.
    sid = HiddenField("Sid", validators=[InputRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")])
    started = HiddenField("Started", validators=[Optional(), Length(max=200)])
    code = StringField(_l("Participation code"), validators=[Optional(), Length(max=40)])
    website = StringField("Website", validators=[Optional(), Length(max=500)])

    def start(self) -> None:
        """Give a freshly rendered form its submission id and signed render time."""
        self.sid.data = new_submission_id()
        self.stamp()

    def stamp(self) -> None:
        self.started.data = _signer().sign(self.sid.data).decode()

    def seconds_taken(self) -> float | None:
        """Return how long the form was open, or None if the signed render time is missing or forged."""
        try:
            value, signed_at = _signer().unsign(self.started.data or "", return_timestamp=True)
        except BadSignature:
            return None
        if value.decode() != self.sid.data:
            return None
        return time.time() - signed_at.timestamp()

    def looks_automated(self) -> bool:
        """Return True when the honeypot was filled in (people never see that field)."""
        return bool((self.website.data or "").strip())
