"""The survey definition format, its loader and the answer rules (pure Python, no database)."""

from __future__ import annotations

import textwrap

import pytest

import surveys
from surveys.answers import INVALID, REQUIRED, TOO_LONG, clean_text, validate
from tests.helpers import full_answers

MINIMAL = """
key: mini
version: 1
locales: [zh, en]
title: {zh: 小问卷, en: Mini}
group_question: group
choices:
  groups:
    - {code: office, label: {zh: 办公室, en: Office}}
    - {code: grassroots, label: {zh: 基层, en: Grassroots}}
  five:
    - {code: 1, label: {zh: 很差, en: Very poor}}
    - {code: 2, label: {zh: 较差, en: Poor}}
    - {code: 3, label: {zh: 一般, en: Fair}}
    - {code: 4, label: {zh: 较好, en: Good}}
    - {code: 5, label: {zh: 很好, en: Very good}}
  tools:
    - {code: pc, label: {zh: 电脑, en: Computer}}
    - {code: fax, label: {zh: 传真, en: Fax}}
sections:
  - id: about
    title: {zh: 关于您, en: About you}
    questions:
      - {id: group, type: single, choices: groups, required: true, text: {zh: 类别, en: Group}}
  - id: main
    title: {zh: 评价, en: Ratings}
    questions:
      - {id: s_p1, type: likert, choices: five, block: perception, dimension: service, allow_dont_know: true,
         required: true, text: {zh: 主动了解需求, en: Finds out needs}}
      - {id: s_e1, type: likert, choices: five, pair_of: s_p1, required: true}
      - {id: broken, type: multi, choices: tools, text: {zh: 哪些设备坏了, en: Which tools broke}}
      - {id: note, type: text, max_length: 10, text: {zh: 意见, en: Comment}}
  - id: morale
    title: {zh: 士气, en: Morale}
    show_if: {group: [office]}
    questions:
      - {id: enps, type: nps, block: enps, required: true, text: {zh: 推荐吗, en: "Recommend?"}}
"""


def mini() -> surveys.Survey:
    return surveys.loads(MINIMAL, source="mini.yaml")


def test_bundled_surveys_load_without_errors():
    paths = surveys.bundled_paths()
    assert {p.name for p in paths} >= {"office-service-quality.yaml", "monthly-pulse.yaml"}
    for path in paths:
        survey = surveys.load(path)
        assert survey.locales[:2] == ("zh", "en")
        assert survey.group_question


def test_bundled_questionnaire_measures_what_questionnaire_md_says():
    s = surveys.load(surveys.TEMPLATES_DIR / "office-service-quality.yaml")
    assert s.key == "office-service-quality"
    assert [c.code for c in s.groups] == ["office", "departments", "grassroots", "leaders"]
    dims = {q.dimension for q in s.questions if q.block == "perception"}
    assert dims == {"goals", "service", "positioning", "innovation", "vitality", "support"}
    for q in s.questions:
        if q.block == "perception":
            assert s.pairs[q.id].block == "expectation", q.id  # every statement is rated twice
    causes = {q.id for q in s.questions if q.block == "cause"}
    assert causes == {f"cause_{c}" for c in
                      ("awareness", "rules", "incentives", "pay", "leadership", "equipment", "skills")}
    enps = s.question("enps")
    assert enps.type == "nps" and enps.show_if.holds({"group": {"office"}})
    assert not enps.show_if.holds({"group": {"grassroots"}})
    assert s.question("overall").block == "overall" and s.grade_weights["very_satisfied"] == 100
    assert all(q.max_length <= 500 for q in s.questions if q.type == "text")


def test_expectation_inherits_statement_and_dimension():
    s = mini()
    e = s.question("s_e1")
    assert e.text == s.question("s_p1").text and e.dimension == "service" and e.block == "expectation"
    assert e.item == "s_p1"
    assert s.question("enps").show_if.to_json() == {"group": ["office"]}


BROKEN_CASES = [
    ("choices: five, block", "choices: nope, block", "question 's_p1', field 'choices': unknown choice list"),
    ("{id: s_e1,", "{id: s_p1,", "question 's_p1', field 'id': duplicate question id"),
    ("show_if: {group: [office]}", "show_if: {enps: ['9']}", "section 'morale', field 'show_if': 'enps' is not an"),
    ("{zh: 主动了解需求, en: Finds out needs}", "{zh: 主动了解需求}",
     "question 's_p1', field 'text': missing translation 'en'"),
    ("type: nps", "type: rating", "field 'type': must be one of"),
    ("max_length: 10", "max_length: 0", "question 'note', field 'max_length'"),
    ("group_question: group", "group_question: nobody", "field 'group_question'"),
    ("pair_of: s_p1", "pair_of: broken", "question 's_e1', field 'pair_of'"),
    ("show_if: {group: [office]}", "show_if: {group: [ghost]}", "'ghost' is not a code of question 'group'"),
    ("{code: 5, label", "{code: 6, label", "must have the codes 1..5 in order"),
    ("title: {zh: 评价, en: Ratings}", "title: {zh: 评价, en: Ratings}\n    colour: red", "field 'colour': unknown"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN_CASES)
def test_loader_names_file_question_and_field(old, new, expected):
    assert old in MINIMAL
    with pytest.raises(surveys.SurveyDefinitionError) as info:
        surveys.loads(MINIMAL.replace(old, new, 1), source="broken.yaml")
    text = str(info.value)
    assert expected in text
    assert all(line.startswith("broken.yaml: ") for line in text.splitlines())


def test_loader_reports_every_problem_at_once():
    broken = MINIMAL.replace("choices: five, block: perception", "choices: nope, block: perception").replace(
        "max_length: 10", "max_length: -1"
    )
    with pytest.raises(surveys.SurveyDefinitionError) as info:
        surveys.loads(broken, source="two.yaml")
    assert len(info.value.problems) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [("key: [unclosed", "not valid YAML: line 1"), ("- just\n- a list", "top level must be a mapping"),
     ("!!python/object/apply:os.system ['true']", "not valid YAML")],
)
def test_loader_rejects_non_surveys_safely(text, expected):
    with pytest.raises(surveys.SurveyDefinitionError, match=expected.replace("(", r"\(")):
        surveys.loads(text, source="x.yaml")


def test_condition_on_later_question_is_refused():
    text = MINIMAL.replace(
        "      - {id: broken, type: multi,",
        "      - {id: early, type: text, show_if: {enps: ['9']}, text: {zh: 早, en: Early}}\n"
        "      - {id: broken, type: multi,",
    )
    with pytest.raises(surveys.SurveyDefinitionError, match="'enps' is not an earlier question"):
        surveys.loads(text, source="x.yaml")


def test_validate_accepts_a_full_answer_and_discards_hidden_questions():
    s = mini()
    form = {"group": ["grassroots"], "s_p1": ["dk"], "s_e1": ["4"], "broken": ["pc", "fax"],
            "note": ["  好\r\n的 "], "enps": ["9"], "unknown_field": ["x"]}
    result = validate(s, form)
    assert result.ok, result.errors
    assert result.group == "grassroots"
    assert result.codes == {"group": {"grassroots"}, "s_p1": {"dk"}, "s_e1": {"4"}, "broken": {"pc", "fax"}}
    assert result.texts == {"note": "好\n的"}  # enps is for office staff only: discarded


def test_validate_applies_required_only_to_visible_questions():
    s = mini()
    assert validate(s, {"group": ["grassroots"], "s_p1": ["3"], "s_e1": ["3"]}).ok
    office = validate(s, {"group": ["office"], "s_p1": ["3"], "s_e1": ["3"]})
    assert office.errors == {"enps": REQUIRED}


@pytest.mark.parametrize(
    ("field", "values", "error"),
    [("s_p1", ["6"], INVALID), ("s_p1", ["1", "2"], INVALID), ("s_e1", ["dk"], INVALID), ("group", ["boss"], INVALID),
     ("broken", ["pc", "printer"], INVALID), ("note", ["x" * 11], TOO_LONG), ("s_p1", [], REQUIRED),
     ("s_e1", ["  "], REQUIRED)],
)
def test_validate_reports_bad_answers(field, values, error):
    form = {"group": ["grassroots"], "s_p1": ["3"], "s_e1": ["3"], field: values}
    assert validate(mini(), form).errors == {field: error}


def test_clean_text_removes_control_characters_but_keeps_emoji_and_newlines():
    assert clean_text("a\x00b\x1bc\td\r\ne 😀\u0085") == "abc\td\ne 😀"


def test_full_answers_helper_is_valid_for_every_group():
    s = surveys.load(surveys.TEMPLATES_DIR / "office-service-quality.yaml")
    for group in ("office", "departments", "grassroots", "leaders"):
        assert validate(s, full_answers(s, group)).ok


def test_check_command_prints_problems_and_fails(tmp_path, runner):
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("choices: five, block", "choices: nope, block"), encoding="utf-8")
    ok = runner.invoke(args=["survey", "check", str(good)])
    assert ok.exit_code == 0 and "OK" in ok.output
    failed = runner.invoke(args=["survey", "check", str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}: question 's_p1', field 'choices': unknown choice list 'nope'" in failed.output


def test_minimal_definition_is_documented_shape():
    # The format documented in docs/survey-format.md starts with these keys.
    doc = (surveys.TEMPLATES_DIR.parent.parent / "docs" / "survey-format.md").read_text(encoding="utf-8")
    for key in ("group_question", "show_if", "pair_of", "allow_dont_know", "max_length"):
        assert key in doc
    assert textwrap.dedent(MINIMAL).strip().startswith("key: mini")
