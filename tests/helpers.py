"""Helpers that build answers for the bundled surveys."""

from __future__ import annotations

from surveys import Survey
from surveys.answers import visible


def full_answers(survey: Survey, group: str, seed: int = 0) -> dict[str, list[str]]:
    """Return form data answering every question visible to ``group`` (a deterministic pattern)."""
    form: dict[str, list[str]] = {survey.group_question: [group]}
    codes: dict[str, frozenset[str]] = {survey.group_question: frozenset([group])}
    for i, q in enumerate(survey.questions):
        if q.id == survey.group_question or not visible(q, codes):
            continue
        if q.type == "text":
            form[q.id] = [f"意见 {i} {seed}"]
            continue
        options = [c for c in q.codes if c != "dk"]
        chosen = options[(i + seed) % len(options)]
        form[q.id] = [chosen]
        codes[q.id] = frozenset([chosen])
    return form
