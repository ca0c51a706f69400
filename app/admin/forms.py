"""Admin forms."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from analysis import label
from app.services.campaigns import MIN_K


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
    """Create or edit a campaign. The survey is chosen only when creating."""

    survey = SelectField(_l("Survey"), validators=[Optional()])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)],
                       description=_l("For example: 2026 first-half survey of the office's work"))
    opens_on = DateField(_l("Opens on"), validators=[InputRequired()])
    closes_on = DateField(_l("Closes on"), validators=[Optional()], description=_l("Leave empty to close by hand."))
    min_group_size = IntegerField(
        _l("Minimum group size (k)"), validators=[InputRequired(), NumberRange(min=MIN_K, max=100)],
        description=_l("No figure about fewer than k people is ever shown. At least 3; 5 is recommended."))
    mode = RadioField(_l("How people take part"), choices=[
        SelectChoice("open", _l("Open link: anyone with the link or QR code may answer")),
        SelectChoice("codes", _l("One-time codes: each answer needs a code from a printed slip")),
    ], default="open")
    groups = MultiCheckboxField(_l("Respondent groups offered"), validators=[Optional()],
                                description=_l("Leave all ticked to offer every group of the survey."))


class ReopenForm(FlaskForm):
    closes_on = DateField(_l("New closing date"), validators=[Optional()])


class SurveyUploadForm(FlaskForm):
    file = FileField(_l("Survey file (YAML or XLSForm .xlsx)"), validators=[
        FileRequired(_l("Please choose a file.")),
        FileAllowed(["yaml", "yml", "xlsx"], _l("Only .yaml, .yml or .xlsx files can be uploaded.")),
    ])


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (close a campaign, log out)."""


def weak_point_choices(survey) -> list[SelectChoice]:
    """The dimensions and causes of a survey, named as in the results, for the ledger."""
    lang = str(get_locale())
    choices = [SelectChoice("", _l("(general)"))]
    for kind, block in (("dimension", "perception"), ("cause", "cause")):
        seen: list[str] = []
        for q in survey.questions:
            if q.block == block and q.dimension and q.dimension not in seen:
                seen.append(q.dimension)
        choices += [SelectChoice(code, label(kind, code, lang)) for code in seen]
    return choices


class ActionForm(FlaskForm):
    """A rectification action against a weak dimension or cause."""

    @classmethod
    def for_survey(cls, survey) -> ActionForm:
        form = cls()
        form.dimension.choices = weak_point_choices(survey)
        return form

    dimension = SelectField(_l("Weak point"), validators=[Optional()])
    what = TextAreaField(_l("Action"), validators=[InputRequired(), Length(max=2000)],
                         description=_l("What will be done, concretely."))
    responsible_post = StringField(_l("Responsible post"), validators=[Optional(), Length(max=100)],
                                   description=_l("A post or unit (e.g. 办公室综合岗), no person's name needed."))
    due_on = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=[
        SelectChoice("planned", _l("Planned")), SelectChoice("in_progress", _l("In progress")),
        SelectChoice("done", _l("Done"))], default="planned")
    evidence = TextAreaField(_l("Evidence"), validators=[Optional(), Length(max=4000)],
                             description=_l("What shows that it was done (a document, a new procedure...)."))


class ActionUpdateForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[
        SelectChoice("planned", _l("Planned")), SelectChoice("in_progress", _l("In progress")),
        SelectChoice("done", _l("Done"))])
    evidence = TextAreaField(_l("Evidence"), validators=[Optional(), Length(max=4000)])
