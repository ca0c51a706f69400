"""Load and validate survey definitions: YAML text -> :class:`surveys.schema.Survey`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser: the same safe loader, about ten times faster than the pure-Python one
    from yaml import CSafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as CSafeLoader

from surveys.schema import (
    BLOCKS,
    DEFAULT_DONT_KNOW_LABEL,
    DEFAULT_TEXT_MAX_LENGTH,
    LIKERT_CODES,
    MAX_TEXT_MAX_LENGTH,
    QUESTION_TYPES,
    Choice,
    Condition,
    Question,
    Section,
    Survey,
)

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
LOCALE_RE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2,4})?$")
CHOICE_TYPES = ("likert", "single", "multi")
CONDITION_TYPES = ("likert", "single", "multi", "nps")
MAX_DEFINITION_BYTES = 1_000_000
# Field names the form itself uses; a question may not take them.
RESERVED_IDS = frozenset({"code", "sid", "started", "website", "csrf_token", "lang", "again"})

SURVEY_FIELDS = {
    "key", "version", "locales", "title", "description", "group_question", "dont_know_label",
    "grade_weights", "choices", "sections",
}
SECTION_FIELDS = {"id", "title", "intro", "show_if", "questions"}
QUESTION_FIELDS = {
    "id", "type", "text", "help", "choices", "dimension", "block", "required", "allow_dont_know",
    "max_length", "show_if", "pair_of", "low_label", "high_label",
}


class SurveyDefinitionError(ValueError):
    """A survey definition is invalid; ``problems`` lists every problem found, each a readable line."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {p}" for p in self.problems)


class _Checker:
    """Collect every problem of one definition instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def error(self, where: str, field: str, message: str) -> None:
        self.problems.append(f"{where}, field '{field}': {message}")

    def text(self, raw: Any, locales: tuple[str, ...], where: str, field: str, required: bool = True):
        """Return a locale->text dict, reporting a missing translation for each absent locale."""
        if raw is None:
            if required:
                self.error(where, field, "is required")
            return None
        if isinstance(raw, str):
            raw = {locales[0]: raw} if locales else {}
        if not isinstance(raw, Mapping):
            self.error(where, field, "must be a mapping of locale to text")
            return None
        result = {}
        for loc in locales:
            value = raw.get(loc)
            if not isinstance(value, str) or not value.strip():
                self.error(where, field, f"missing translation '{loc}'")
            else:
                result[loc] = value.strip()
        for extra in set(raw) - set(locales):
            self.error(where, field, f"locale '{extra}' is not listed in 'locales'")
        return result

    def unknown_fields(self, raw: Mapping, allowed: set[str], where: str) -> None:
        for name in sorted(set(raw) - allowed, key=str):
            self.error(where, str(name), "unknown field")

    def boolean(self, raw: Mapping, name: str, where: str) -> bool:
        value = raw.get(name, False)
        if not isinstance(value, bool):
            self.error(where, name, "must be true or false")
            return False
        return value


def load(path: str | Path) -> Survey:
    """Load and validate the survey definition in the YAML file ``path``.

    Raises :class:`SurveyDefinitionError` listing every problem, each naming the file, the question id
    and the field.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SurveyDefinitionError(str(path), [f"cannot be read: {exc.strerror}"]) from exc
    return loads(data, source=str(path))


def loads(text: str | bytes, source: str = "<survey>") -> Survey:
    """Parse YAML ``text`` (safe loader only) and validate it; see :func:`load`."""
    if len(text) > MAX_DEFINITION_BYTES:
        raise SurveyDefinitionError(source, [f"is larger than {MAX_DEFINITION_BYTES} bytes"])
    try:
        try:
            data = yaml.load(text, Loader=CSafeLoader)
        except yaml.YAMLError:  # parse again with the pure-Python loader, whose messages point at the problem
            data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SurveyDefinitionError(source, [f"is not valid YAML: {where}{problem}"]) from exc
    except UnicodeDecodeError as exc:
        raise SurveyDefinitionError(source, ["is not UTF-8 text"]) from exc
    except RecursionError as exc:  # e.g. [[[[...]]]] thousands deep: refuse rather than crash
        raise SurveyDefinitionError(source, ["is nested too deeply to be a survey"]) from exc
    return from_dict(data, source=source)


def from_dict(data: Any, source: str = "<survey>") -> Survey:
    """Validate an already parsed definition (e.g. a stored snapshot) and build the :class:`Survey`."""
    c = _Checker(source)
    if not isinstance(data, Mapping):
        raise SurveyDefinitionError(source, ["the top level must be a mapping (key: value pairs)"])
    top = "survey"
    c.unknown_fields(data, SURVEY_FIELDS, top)

    key = data.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        c.error(top, "key", "must be lowercase letters, digits and '-'")
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        c.error(top, "version", "must be a positive integer")
        version = 1

    raw_locales = data.get("locales", ["zh", "en"])
    if (
        not isinstance(raw_locales, list)
        or not raw_locales
        or not all(isinstance(x, str) and LOCALE_RE.match(x) for x in raw_locales)
        or len(set(raw_locales)) != len(raw_locales)
    ):
        c.error(top, "locales", "must be a non-empty list of distinct locale codes such as [zh, en]")
        raw_locales = ["zh"]
    locales = tuple(raw_locales)

    title = c.text(data.get("title"), locales, top, "title")
    description = c.text(data.get("description"), locales, top, "description", required=False)
    dk_label = c.text(
        data.get("dont_know_label", {loc: DEFAULT_DONT_KNOW_LABEL.get(loc, "?") for loc in locales}),
        locales, top, "dont_know_label",
    )

    choice_lists = _choice_lists(c, data.get("choices", {}), locales)
    sections, questions = _sections(c, data.get("sections"), locales, choice_lists)

    group_question = data.get("group_question")
    group_q = questions.get(group_question) if isinstance(group_question, str) else None
    if group_q is None:
        c.error(top, "group_question", "must name a question of the survey")
    elif group_q.type != "single" or group_q.show_if is not None:
        c.error(f"question '{group_question}'", "type", "the group question must be an unconditional 'single'")
    elif not group_q.required:
        c.error(f"question '{group_question}'", "required", "the group question must be required")

    grade_weights = _grade_weights(c, data.get("grade_weights"), questions)

    if c.problems:
        raise SurveyDefinitionError(source, c.problems)
    return Survey(
        key=key,
        version=version,
        locales=locales,
        title=title,
        description=description,
        group_question=group_question,
        dont_know_label=dk_label,
        grade_weights=grade_weights,
        sections=sections,
    )


def _choice_lists(c: _Checker, raw: Any, locales: tuple[str, ...]) -> dict[str, tuple[Choice, ...]]:
    if not isinstance(raw, Mapping):
        c.error("survey", "choices", "must be a mapping of list id to a list of choices")
        return {}
    lists: dict[str, tuple[Choice, ...]] = {}
    for list_id, items in raw.items():
        where = f"choice list '{list_id}'"
        if not isinstance(list_id, str) or not ID_RE.match(list_id):
            c.error(where, "id", "must match [a-z][a-z0-9_]*")
        if not isinstance(items, list) or not items:
            c.error(where, "choices", "must be a non-empty list")
            continue
        choices = []
        for i, item in enumerate(items, 1):
            if not isinstance(item, Mapping) or "code" not in item:
                c.error(where, f"choice {i}", "must be a mapping with 'code' and 'label'")
                continue
            code = str(item["code"]) if isinstance(item["code"], (str, int)) else None
            if code is None or not CODE_RE.match(code) or code == "dk":
                c.error(where, f"choice {i} code", "must be a short code of letters, digits, '_', '-' (not 'dk')")
                continue
            label = c.text(item.get("label"), locales, f"{where} choice '{code}'", "label")
            choices.append(Choice(code=code, label=label or {}))
        codes = [ch.code for ch in choices]
        for dup in sorted({x for x in codes if codes.count(x) > 1}):
            c.error(where, "code", f"duplicate code '{dup}'")
        lists[str(list_id)] = tuple(choices)
    return lists


def _condition(c: _Checker, raw: Any, where: str, earlier: Mapping[str, Question]) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw:
        c.error(where, "show_if", "must map earlier question ids to lists of codes, e.g. {group: [office]}")
        return None
    terms = []
    for qid, codes in raw.items():
        target = earlier.get(qid)
        if target is None:
            c.error(where, "show_if", f"'{qid}' is not an earlier question")
            continue
        if target.type not in CONDITION_TYPES:
            c.error(where, "show_if", f"'{qid}' is a {target.type} question; conditions need coded answers")
            continue
        if not isinstance(codes, list) or not codes:
            codes = [codes] if isinstance(codes, (str, int)) else []
        wanted = {str(x) for x in codes}
        if not wanted:
            c.error(where, "show_if", f"'{qid}' needs a list of codes")
            continue
        for bad in sorted(wanted - set(target.codes)):
            c.error(where, "show_if", f"'{bad}' is not a code of question '{qid}'")
        terms.append((qid, frozenset(wanted)))
    return Condition(tuple(terms)) if terms else None


def _combine(a: Condition | None, b: Condition | None) -> Condition | None:
    """Return the condition that holds when both ``a`` and ``b`` hold."""
    if a is None or b is None:
        return a or b
    merged: dict[str, frozenset[str]] = dict(a.terms)
    for qid, codes in b.terms:
        merged[qid] = merged[qid] & codes if qid in merged else codes
    return Condition(tuple(merged.items()))


def _sections(c, raw, locales, choice_lists):
    questions: dict[str, Question] = {}
    sections: list[Section] = []
    if not isinstance(raw, list) or not raw:
        c.error("survey", "sections", "must be a non-empty list")
        return (), questions
    seen_sections: set[str] = set()
    for si, sraw in enumerate(raw, 1):
        where = f"section {si}"
        if not isinstance(sraw, Mapping):
            c.error(where, "section", "must be a mapping")
            continue
        sid = sraw.get("id")
        if not isinstance(sid, str) or not ID_RE.match(sid):
            c.error(where, "id", "must match [a-z][a-z0-9_]*")
            sid = f"section{si}"
        elif sid in seen_sections:
            c.error(f"section '{sid}'", "id", "duplicate section id")
        seen_sections.add(sid)
        where = f"section '{sid}'"
        c.unknown_fields(sraw, SECTION_FIELDS, where)
        title = c.text(sraw.get("title"), locales, where, "title")
        intro = c.text(sraw.get("intro"), locales, where, "intro", required=False)
        show_if = _condition(c, sraw.get("show_if"), where, questions)
        qraws = sraw.get("questions")
        if not isinstance(qraws, list) or not qraws:
            c.error(where, "questions", "must be a non-empty list")
            qraws = []
        section_questions = []
        for qi, qraw in enumerate(qraws, 1):
            q = _question(c, qraw, f"{where} question {qi}", sid, locales, choice_lists, questions, show_if)
            if q is None:
                continue
            if q.id in questions:
                c.error(f"question '{q.id}'", "id", "duplicate question id")
                continue
            questions[q.id] = q
            section_questions.append(q)
        sections.append(Section(sid, title or {}, tuple(section_questions), intro, show_if))
    return tuple(sections), questions


def _question(c, raw, where, section_id, locales, choice_lists, earlier, section_condition):
    if not isinstance(raw, Mapping):
        c.error(where, "question", "must be a mapping")
        return None
    qid = raw.get("id")
    if not isinstance(qid, str) or not ID_RE.match(qid):
        c.error(where, "id", "must match [a-z][a-z0-9_]* (at most 40 characters)")
        return None
    where = f"question '{qid}'"
    if qid in RESERVED_IDS:
        c.error(where, "id", f"'{qid}' is reserved by the form; choose another id")
    c.unknown_fields(raw, QUESTION_FIELDS, where)
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        c.error(where, "type", f"must be one of {', '.join(QUESTION_TYPES)}")
        return None

    pair_of = raw.get("pair_of")
    if pair_of is not None:
        target = earlier.get(pair_of)
        if qtype != "likert":
            c.error(where, "pair_of", "only a likert question can be paired")
        elif target is None:
            c.error(where, "pair_of", f"'{pair_of}' is not an earlier question")
        elif target.type != "likert" or target.block != "perception" or target.section_id != section_id:
            c.error(where, "pair_of", f"'{pair_of}' must be a likert perception question of the same section")
        elif raw.get("block", "expectation") != "expectation":
            c.error(where, "block", "a paired question must be an expectation")
    text = c.text(raw.get("text"), locales, where, "text", required=pair_of is None)
    if text is None and pair_of in earlier:
        text = earlier[pair_of].text

    choices: tuple[Choice, ...] = ()
    list_id = raw.get("choices")
    if qtype in CHOICE_TYPES:
        if list_id not in choice_lists:
            c.error(where, "choices", f"unknown choice list '{list_id}'")
        else:
            choices = choice_lists[list_id]
            if qtype == "likert" and tuple(ch.code for ch in choices) != LIKERT_CODES:
                c.error(where, "choices", f"choice list '{list_id}' must have the codes 1..5 in order")
    elif list_id is not None:
        c.error(where, "choices", f"a {qtype} question takes no choice list")

    block = raw.get("block", "expectation" if pair_of else None)
    if block is not None and block not in BLOCKS:
        c.error(where, "block", f"must be one of {', '.join(BLOCKS)}")
    dimension = raw.get("dimension")
    if pair_of in earlier and dimension is None:
        dimension = earlier[pair_of].dimension
    if dimension is not None and (not isinstance(dimension, str) or not ID_RE.match(dimension)):
        c.error(where, "dimension", "must match [a-z][a-z0-9_]*")

    allow_dk = c.boolean(raw, "allow_dont_know", where)
    if allow_dk and qtype not in ("likert", "single"):
        c.error(where, "allow_dont_know", "only likert and single questions offer 'don't know'")
    max_length = raw.get("max_length", DEFAULT_TEXT_MAX_LENGTH)
    if qtype != "text" and "max_length" in raw:
        c.error(where, "max_length", "only text questions have a maximum length")
    elif not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= MAX_TEXT_MAX_LENGTH:
        c.error(where, "max_length", f"must be an integer from 1 to {MAX_TEXT_MAX_LENGTH}")
        max_length = DEFAULT_TEXT_MAX_LENGTH
    for label in ("low_label", "high_label"):
        if label in raw and qtype != "nps":
            c.error(where, label, "only nps questions have end labels")

    own_condition = _condition(c, raw.get("show_if"), where, earlier)
    return Question(
        id=qid,
        type=qtype,
        text=text or {},
        section_id=section_id,
        help=c.text(raw.get("help"), locales, where, "help", required=False),
        choices=choices,
        dimension=dimension,
        block=block,
        required=c.boolean(raw, "required", where),
        allow_dont_know=allow_dk,
        max_length=max_length,
        show_if=_combine(section_condition, own_condition),
        pair_of=pair_of,
        low_label=c.text(raw.get("low_label"), locales, where, "low_label", required=False),
        high_label=c.text(raw.get("high_label"), locales, where, "high_label", required=False),
    )


def _grade_weights(c: _Checker, raw: Any, questions: Mapping[str, Question]) -> dict[str, float] | None:
    if raw is None:
        return None
    overall = [q for q in questions.values() if q.block == "overall" and q.type == "single"]
    if not isinstance(raw, Mapping) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 100 for v in raw.values()
    ):
        c.error("survey", "grade_weights", "must map grade codes to numbers from 0 to 100")
        return None
    if not overall:
        c.error("survey", "grade_weights", "needs a single-choice question with block 'overall'")
        return None
    codes = {ch.code for ch in overall[0].choices}
    weights = {str(k): float(v) for k, v in raw.items()}
    if set(weights) != codes:
        c.error("survey", "grade_weights", f"must give a weight for exactly the codes {sorted(codes)}")
    return weights
