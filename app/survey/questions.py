"""Render the questions of the survey form; a blank form's are rendered once per worker and reused.

The questions are nearly all of the form page (about 80 KB for the bundled questionnaire) and nearly all of the
CPU a form request costs. Blank, they depend on nothing but the parsed survey, its locale, the UI language and
the groups the campaign offers, so they are rendered for each such combination once and put into the page as
Markup. Everything that differs from one request to the next (CSRF token, submission id, signed render time,
participation code, notices, "you said, we did", language links) is in survey/form.html and rendered every
time. Questions with answers or errors hold one respondent's input and are never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

from surveys import Survey

EXTENSION = "officepulse.questions"
MAX_ENTRIES = 32  # survey versions x languages x offered groups in use at once; about 80 KB each


class QuestionCache:
    """A bounded, thread-safe LRU of rendered questions.

    A key names its survey by identity (``id``), and the entry keeps that very object alive and is only returned
    for it: markup can never be served for another survey, even one with the same version id in another database.
    A new version of a survey is a new object, so its questions are rendered afresh; old entries age out.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[Survey, Markup]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, survey: Survey, key: tuple) -> Markup | None:
        with self._lock:
            entry = self._entries.get((id(survey), *key))
            if entry is None or entry[0] is not survey:
                return None
            self._entries.move_to_end((id(survey), *key))
            return entry[1]

    def put(self, survey: Survey, key: tuple, markup: Markup) -> None:
        with self._lock:
            self._entries[(id(survey), *key)] = (survey, markup)
            self._entries.move_to_end((id(survey), *key))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def question_cache() -> QuestionCache:
    """Return this application's cache of blank questions (one per app, so one per worker)."""
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        cache = current_app.extensions.setdefault(EXTENSION, QuestionCache())
    return cache


def questions(
    survey: Survey,
    locale: str,
    groups_offered: Sequence[str] | None,
    answers: Mapping[str, Sequence[str]] | None = None,
    errors: Mapping[str, str] | None = None,
    cache: bool = True,
) -> Markup:
    """Return the sections and questions of the form as Markup, with ``answers`` checked and ``errors`` shown.

    A blank form's markup (no answers, no errors) comes from the worker's cache when ``cache`` is true. The
    template sees only these arguments and the UI language, all of which are in the key; it is rendered without
    Flask's context processors, so it cannot reach the request, the session or ``g``.
    """
    if answers or errors or not cache:
        return _render(survey, locale, groups_offered, answers or {}, errors or {})
    key = (locale, str(get_locale()), tuple(groups_offered) if groups_offered else None)
    store = question_cache()
    markup = store.get(survey, key)
    if markup is None:
        markup = _render(survey, locale, groups_offered, {}, {})
        store.put(survey, key, markup)
    return markup


def _render(survey, locale, groups_offered, answers, errors) -> Markup:
    template = current_app.jinja_env.get_template("survey/_sections.html")
    # The output of an autoescaping template (every value in it escaped), not text from a request.
    html = template.render(survey=survey, locale=locale, groups_offered=groups_offered or None, answers=answers,
                           errors=errors)
    return Markup(html)  # nosec B704
