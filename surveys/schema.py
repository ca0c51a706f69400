"""The validated, immutable model of a survey definition (see docs/survey-format.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

QUESTION_TYPES = ("likert", "single", "multi", "nps", "text")
BLOCKS = ("perception", "expectation", "cause", "morale", "enps", "overall")
DONT_KNOW = "dk"
LIKERT_CODES = ("1", "2", "3", "4", "5")
NPS_CODES = tuple(str(i) for i in range(11))
DEFAULT_TEXT_MAX_LENGTH = 500
MAX_TEXT_MAX_LENGTH = 5000
DEFAULT_DONT_KNOW_LABEL = {"zh": "不了解", "en": "Don't know"}

Text = Mapping[str, str]  # locale -> text


@dataclass(frozen=True)
class Choice:
    code: str
    label: Text


@dataclass(frozen=True)
class Condition:
    """All of ``terms`` must hold: the answer to each question id is among its codes."""

    terms: tuple[tuple[str, frozenset[str]], ...]

    def holds(self, answers: Mapping[str, object]) -> bool:
        """Return True when every term is satisfied by ``answers`` (code or set of codes per question)."""
        for qid, codes in self.terms:
            given = answers.get(qid)
            chosen = set(given) if isinstance(given, (set, frozenset, list, tuple)) else {given}
            if not chosen & codes:
                return False
        return True

    def to_json(self) -> dict[str, list[str]]:
        return {qid: sorted(codes) for qid, codes in self.terms}


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: Text
    section_id: str
    help: Text | None = None
    choices: tuple[Choice, ...] = ()
    dimension: str | None = None
    block: str | None = None
    required: bool = False
    allow_dont_know: bool = False
    max_length: int = DEFAULT_TEXT_MAX_LENGTH
    show_if: Condition | None = None
    pair_of: str | None = None
    low_label: Text | None = None
    high_label: Text | None = None

    @property
    def item(self) -> str:
        """Return the statement this question rates (a paired expectation shares its perception's id)."""
        return self.pair_of or self.id

    @property
    def codes(self) -> tuple[str, ...]:
        """Return every code an answer to this question may take."""
        if self.type == "nps":
            return NPS_CODES
        codes = tuple(c.code for c in self.choices)
        return codes + (DONT_KNOW,) if self.allow_dont_know else codes

    def choice_label(self, code: str, locale: str, dont_know_label: Text) -> str:
        """Return the label of ``code`` in ``locale`` (the code itself for NPS and unknown codes)."""
        if code == DONT_KNOW and self.allow_dont_know:
            return dont_know_label[locale]
        for choice in self.choices:
            if choice.code == code:
                return choice.label[locale]
        return code


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    questions: tuple[Question, ...]
    intro: Text | None = None
    show_if: Condition | None = None


@dataclass(frozen=True)
class Survey:
    key: str
    version: int
    locales: tuple[str, ...]
    title: Text
    group_question: str
    sections: tuple[Section, ...]
    description: Text | None = None
    dont_know_label: Text = field(default_factory=lambda: dict(DEFAULT_DONT_KNOW_LABEL))
    grade_weights: Mapping[str, float] | None = None

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for s in self.sections for q in s.questions)

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    @property
    def pairs(self) -> dict[str, Question]:
        """Return each paired expectation question keyed by the perception question it rates."""
        return {q.pair_of: q for q in self.questions if q.pair_of}

    @property
    def groups(self) -> tuple[Choice, ...]:
        """Return the respondent groups (the choices of the group question)."""
        return self.question(self.group_question).choices

    def locale(self, wanted: str | None) -> str:
        """Return ``wanted`` if the survey has that locale, else the default one."""
        return wanted if wanted in self.locales else self.default_locale
