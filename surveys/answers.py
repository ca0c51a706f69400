"""Validate submitted answers against a survey: the server-side, authoritative rules of the form."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from surveys.schema import Question, Survey
from surveys.scrub import scrub

# Control characters other than tab and newline never belong in a comment.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

REQUIRED = "required"
INVALID = "invalid"
TOO_LONG = "too_long"


@dataclass
class Submission:
    """The clean answers of one respondent: coded answers, texts, and the problems found."""

    group: str | None = None
    codes: dict[str, frozenset[str]] = field(default_factory=dict)  # question id -> chosen codes
    texts: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # question id -> REQUIRED | INVALID | TOO_LONG

    @property
    def ok(self) -> bool:
        return not self.errors


def clean_text(raw: str) -> str:
    """Return ``raw`` in NFC with unified newlines, no control characters and no outer blanks."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def visible(question: Question, codes: Mapping[str, frozenset[str]]) -> bool:
    """Return True when ``question`` is shown, given the coded answers so far."""
    return question.show_if is None or question.show_if.holds(codes)


def validate(
    survey: Survey, form: Mapping[str, Sequence[str]], groups: Collection[str] | None = None
) -> Submission:
    """Check every question of ``survey`` against ``form`` (question id -> submitted values).

    Unknown fields are ignored; answers to questions whose condition is false are discarded, and their
    required flag does not apply. Questions are taken in order, so a condition sees only earlier answers.
    ``groups`` limits the respondent groups a campaign offers (None: all of the survey's groups).
    """
    result = Submission()
    for q in survey.questions:
        values = [v for v in form.get(q.id, ()) if isinstance(v, str)]
        if not visible(q, result.codes):
            continue
        if q.type == "text":
            text = clean_text(values[0]) if values else ""
            if len(text) > q.max_length:
                result.errors[q.id] = TOO_LONG
            elif text:
                result.texts[q.id] = scrub(text)[0]  # phone numbers, ID numbers, e-mail... never stored
            elif q.required:
                result.errors[q.id] = REQUIRED
            continue
        chosen = {v.strip() for v in values if v.strip()}
        if not chosen:
            if q.required:
                result.errors[q.id] = REQUIRED
            continue
        allowed = set(groups) if groups is not None and q.id == survey.group_question else set(q.codes)
        if not chosen <= allowed or (q.type != "multi" and len(chosen) > 1):
            result.errors[q.id] = INVALID
            continue
        result.codes[q.id] = frozenset(chosen)
    group = result.codes.get(survey.group_question)
    result.group = next(iter(group)) if group else None
    return result
