"""The fixed part of the survey form; the questions themselves are validated by surveys.answers."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import InputRequired, Regexp


def new_submission_id() -> str:
    return secrets.token_urlsafe(24)


class ResponseForm(FlaskForm):
    """CSRF token plus the per-render submission id that makes a replayed POST store nothing."""

    sid = HiddenField(validators=[InputRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")])
