"""XLSForm (.xlsx) upload: the spreadsheet -> survey definition mapping and its error reports."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
import yaml
from openpyxl import Workbook

import surveys
from surveys.xlsform import load_xlsform, to_definition

ZH, EN = "label::Chinese (zh)", "label::English (en)"
SURVEY_HEADER = [
    "type",
    "name",
    ZH,
    EN,
    "hint::Chinese (zh)",
    "hint::English (en)",
    "required",
    "relevant",
    "appearance",
    "dimension",
    "block",
    "pair_of",
    "allow_dont_know",
    "max_length",
    "parameters",
    "calculation",
    "constraint",
]
CHOICES = [
    ["list_name", "name", ZH, EN],
    ["groups", "office", "办公室", "Office"],
    ["groups", "grassroots", "基层", "Grassroots"],
    ["five", 1, "很差", "Very poor"],
    ["five", 2, "较差", "Poor"],
    ["five", 3, "一般", "Fair"],
    ["five", 4, "较好", "Good"],
    ["five", 5, "很好", "Very good"],
    ["tools", "pc", "电脑", "Computer"],
    ["tools", "fax", "传真", "Fax"],
]
SETTINGS = [
    ["form_id", "version", "form_title::Chinese (zh)", "form_title::English (en)", "default_language"],
    ["Office_Pulse 2024", 3, "办公室调查", "Office survey", "Chinese (zh)"],
]


def row(type_, name="", zh="", en="", **cells):
    """A survey-sheet row in SURVEY_HEADER order; keyword cells by column name (hint_zh, hint_en, ...)."""
    values = {
        "type": type_,
        "name": name,
        ZH: zh,
        EN: en,
        **{
            k.replace("hint_", "hint::").replace("::zh", "::Chinese (zh)").replace("::en", "::English (en)"): v
            for k, v in cells.items()
        },
    }
    return [values.get(column) for column in SURVEY_HEADER]


FORM = [
    SURVEY_HEADER,
    row("start", "start"),
    row("note", "welcome", "欢迎", "Welcome"),
    row("select_one groups", "group", "您属于哪一类？", "Which group?", required="yes"),
    row("calculate", "calc", calculation="1 + 1"),
    row("begin_group", "ratings", "评价", "Ratings", relevant="${group} = 'office' or ${group} = 'grassroots'"),
    row("note", "ratings_intro", "请评价", "Please rate"),
    row(
        "select_one five",
        "s_p1",
        "主动了解需求",
        "Finds out needs",
        block="perception",
        dimension="service",
        allow_dont_know="yes",
        required="TRUE",
        hint_zh="提示",
        hint_en="A hint",
    ),
    row("select_one five", "s_e1", pair_of="s_p1", required=1),
    row(
        "select_multiple tools", "broken", "哪些设备坏了", "Which tools broke", relevant="selected(${group}, 'office')"
    ),
    row("text", "comment", "意见", "Comment", max_length=10),
    row("end_group"),
    row("begin group", "morale", "士气", "Morale", relevant="${group}='office'"),
    row("range", "enps", "推荐吗", "Recommend?", parameters="start=0 end=10 step=1", block="enps", required="yes"),
    row("end group"),
]

EQUIVALENT_YAML = """
key: office-pulse-2024
version: 3
locales: [zh, en]
title: {zh: 办公室调查, en: Office survey}
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
  - id: main
    title: {zh: 办公室调查, en: Office survey}
    intro: {zh: 欢迎, en: Welcome}
    questions:
      - {id: group, type: single, choices: groups, required: true, text: {zh: 您属于哪一类？, en: "Which group?"}}
  - id: ratings
    title: {zh: 评价, en: Ratings}
    intro: {zh: 请评价, en: Please rate}
    show_if: {group: [office, grassroots]}
    questions:
      - {id: s_p1, type: likert, choices: five, block: perception, dimension: service, allow_dont_know: true,
         required: true, text: {zh: 主动了解需求, en: Finds out needs}, help: {zh: 提示, en: A hint}}
      - {id: s_e1, type: likert, choices: five, pair_of: s_p1, required: true}
      - {id: broken, type: multi, choices: tools, text: {zh: 哪些设备坏了, en: Which tools broke},
         show_if: {group: [office]}}
      - {id: comment, type: text, max_length: 10, text: {zh: 意见, en: Comment}}
  - id: morale
    title: {zh: 士气, en: Morale}
    show_if: {group: [office]}
    questions:
      - {id: enps, type: nps, block: enps, required: true, text: {zh: 推荐吗, en: "Recommend?"}}
"""


def xlsx(survey=FORM, choices=CHOICES, settings=SETTINGS, **other_sheets) -> bytes:
    """Build a workbook with openpyxl; a sheet given as None is left out."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in {"survey": survey, "choices": choices, "settings": settings, **other_sheets}.items():
        if rows is None:
            continue
        sheet = workbook.create_sheet(title)
        for values in rows:
            sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problems(data: bytes, source: str = "form.xlsx") -> list[str]:
    with pytest.raises(surveys.SurveyDefinitionError) as info:
        to_definition(data, source)
    assert info.value.source == source
    assert str(info.value).startswith(f"{source}: ")
    return info.value.problems


def simple_form(*rows, header=("type", "name", "label", "required", "relevant")):
    """A monolingual (zh) form: the group question first, then ``rows`` (spreadsheet rows 3, 4, ...)."""
    return xlsx(
        survey=[list(header), ["select_one groups", "group", "类别", "yes"], *[list(r) for r in rows]],
        choices=[
            ["list_name", "name", "label"],
            ["groups", "office", "办公室"],
            ["groups", "units", "基层"],
            *[["five", i, f"{i}分"] for i in range(1, 6)],
        ],
        settings=[["form_id", "form_title"], ["simple", "简单问卷"]],
    )


# -- the mapping ---------------------------------------------------------------------------------------


def test_bilingual_form_loads_like_the_equivalent_yaml():
    survey = load_xlsform(xlsx(), "form.xlsx")
    expected = surveys.loads(EQUIVALENT_YAML, source="form.yaml")
    assert survey.key == "office-pulse-2024" and survey.version == 3
    assert survey.locales == ("zh", "en")
    assert [s.id for s in survey.sections] == ["main", "ratings", "morale"]
    assert [(q.id, q.type) for q in survey.questions] == [
        ("group", "single"),
        ("s_p1", "likert"),
        ("s_e1", "likert"),
        ("broken", "multi"),
        ("comment", "text"),
        ("enps", "nps"),
    ]
    assert survey.question("s_e1").block == "expectation" and survey.question("s_e1").dimension == "service"
    assert survey.question("broken").show_if.to_json() == {"group": ["office"]}
    assert survey.question("enps").show_if.to_json() == {"group": ["office"]}
    assert survey.question("comment").max_length == 10
    assert survey.sections[1].intro == {"zh": "请评价", "en": "Please rate"}
    assert survey.pairs == {"s_p1": survey.question("s_e1")}
    assert survey == expected


def test_definition_is_plain_data_that_round_trips_through_yaml():
    definition = to_definition(xlsx(), "form.xlsx")
    text = yaml.safe_dump(definition, allow_unicode=True, sort_keys=False)
    assert surveys.loads(text, source="dumped.yaml") == surveys.loads(EQUIVALENT_YAML)
    assert definition["choices"]["five"][0] == {"code": "1", "label": {"zh": "很差", "en": "Very poor"}}
    assert "calc" not in text and "start" not in text  # calculate and metadata rows are dropped


def test_languages_from_codes_names_and_plain_label_with_default_language():
    survey = xlsx(
        survey=[
            ["type", "name", "label", "label::English", "required"],
            ["select_one groups", "group", "类别", "Group", "yes"],
        ],
        choices=[["list name", "name", "label::zh", "label::en"], ["groups", "a", "甲", "A"]],
        settings=[
            ["form_id", "form_title", "form_title::English", "default_language", "group_question"],
            ["Languages!", "语言", "Languages", "中文", "group"],
        ],
    )
    definition = to_definition(survey, "<upload>")
    assert definition["locales"] == ["zh", "en"]
    assert definition["key"] == "languages"
    assert definition["sections"][0]["questions"][0]["text"] == {"zh": "类别", "en": "Group"}


def test_monolingual_form_without_languages_is_chinese_and_key_comes_from_the_file_name():
    data = xlsx(
        survey=[["type", "name", "label", "required"], ["select_one groups", "group", "类别", "yes"]],
        choices=[["list_name", "name", "label"], ["groups", "a", "甲"]],
        settings=[["form_title"], ["问卷"]],
    )
    survey = load_xlsform(data, "uploads/Office Form.xlsx")
    assert survey.locales == ("zh",) and survey.key == "office-form" and survey.version == 1


@pytest.mark.parametrize(
    ("type_", "extra", "expected"),
    [
        ("select_one five", {"appearance": "likert"}, "likert"),  # XLSForm's own likert appearance, 1..5
        ("select_one five", {"block": "overall"}, "single"),  # an overall grade stays a single choice
        ("select_one five", {}, "single"),
        ("select_one groups", {"appearance": "likert"}, "single"),  # not the codes 1..5
        ("integer", {}, "nps"),  # only as the question named enps
        ("select multiple groups", {}, "multi"),
    ],
)
def test_question_types(type_, extra, expected):
    header = ["type", "name", "label", "required", "appearance", "block"]
    data = simple_form(
        [type_, "enps", "问题", "", extra.get("appearance", ""), extra.get("block", "")],
        header=header,
    )
    assert load_xlsform(data, "form.xlsx").question("enps").type == expected


@pytest.mark.parametrize(
    ("expression", "show_if"),
    [
        ("${group} = 'office'", {"group": ["office"]}),
        ('${group}="office" or ${group} = "units"', {"group": ["office", "units"]}),
        ("selected(${group}, 'office') or selected( ${group} , 'units' )", {"group": ["office", "units"]}),
        ("(${group} = 'office' or ${group} = 'units') and ${q} = 3", {"group": ["office", "units"], "q": ["3"]}),
        ("${group} = 'office' and selected(${q}, '5')", {"group": ["office"], "q": ["5"]}),
    ],
)
def test_supported_relevant_expressions(expression, show_if):
    data = simple_form(["select_one five", "q", "评分", "", ""], ["text", "why", "原因", "", expression])
    assert to_definition(data, "form.xlsx")["sections"][0]["questions"][2]["show_if"] == show_if


# -- problems ------------------------------------------------------------------------------------------


def test_not_an_xlsx_file():
    assert problems(b"key: not a workbook\n") == [
        "is not an .xlsx workbook (Excel 2007 or later, as KoboToolbox / ODK use)"
    ]
    assert "save it as an .xlsx" in problems(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "a zip, but no workbook")
    assert problems(buffer.getvalue()) == ["is not an .xlsx workbook that can be read (Excel 2007 or later)"]


def test_too_large_upload_is_refused_before_reading():
    assert problems(b"PK" + b"\0" * 3_000_000) == ["is larger than 2000000 bytes"]


def test_missing_survey_sheet_and_missing_columns():
    [problem] = problems(xlsx(survey=None, Sheet1=[["a"]]))
    assert "has no 'survey' sheet" in problem and "'choices', 'settings', 'Sheet1'" in problem
    assert problems(xlsx(survey=[["type", "label"], ["text", "Hi"]])) == [
        "sheet 'survey', field 'name': missing column"
    ]


def test_unknown_type_names_sheet_row_and_question():
    assert problems(simple_form(["geopoint", "where", "在哪里", "", ""])) == [
        "sheet 'survey' row 3, question 'where', field 'type': unsupported question type 'geopoint'"
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "${group} != 'office'",
        "${group} = 'office' or ${q} = '1'",  # 'or' across questions
        "selected(${q}, '1') and selected(${q}, '2')",  # 'and' on one question
        "count-selected(${q}) > 1",
        "${group} = ''",
        "${group} = 'office' and",
    ],
)
def test_unsupported_relevant_expression_is_reported_not_evaluated(expression):
    data = simple_form(["select_multiple five", "q", "评分", "", ""], ["text", "why", "原因", "", expression])
    [problem] = problems(data)
    assert problem.startswith(
        f"sheet 'survey' row 4, question 'why', field 'relevant': unsupported expression \"{expression}\""
    )


def test_equality_on_a_select_multiple_must_use_selected():
    data = simple_form(["select_multiple five", "q", "评分", "", ""], ["text", "why", "原因", "", "${q} = '1'"])
    assert "use selected(${q}, '1')" in problems(data)[0]


def test_missing_translation_and_unknown_list_are_located_at_the_question_row():
    form = [
        SURVEY_HEADER,
        row("select_one groups", "group", "类别", "Group", required="yes"),
        row("text", "comment", "意见", ""),
        row("select_one nolist", "pick", "选", "Pick"),
    ]
    assert problems(xlsx(survey=form)) == [
        "sheet 'survey' row 3, question 'comment', field 'text': missing translation 'en'",
        "sheet 'survey' row 4, question 'pick', field 'choices': unknown choice list 'nolist'",
    ]


def test_every_problem_is_collected():
    form = [
        SURVEY_HEADER,
        row("select_one groups", "group", "类别", "Group", required="maybe"),
        row("begin_group", "g", "组", "Group", relevant="${group} > 1"),
        row("decimal", "amount", "金额", "Amount"),
        row("text", "Bad Name", "名", "Name", constraint=". != ''"),
        row("begin_group", "inner", "内", "Inner"),
        row("end_group"),
        row("range", "scale", "量表", "Scale", parameters="start=1 end=5"),
    ]
    choices = [*CHOICES, ["five", "", "空", "Empty"]]
    found = problems(xlsx(survey=form, choices=choices))
    assert found[:8] == [
        "sheet 'choices' row 11, field 'name': is empty (the choice code)",
        "sheet 'survey' row 2, question 'group', field 'required': must be yes or no (expressions are not supported)",
        "sheet 'survey' row 3, section 'g', field 'relevant': unsupported expression \"${group} > 1\": "
        "cannot read '> 1'; only ${q} = 'code' and selected(${q}, 'code'), joined with 'and' / 'or', are supported",
        "sheet 'survey' row 4, question 'amount', field 'type': unsupported question type 'decimal'",
        "sheet 'survey' row 5, question 'Bad Name', field 'constraint': 'constraint' is not supported; "
        "leave the column empty",
        "sheet 'survey' row 6, section 'inner', field 'type': groups inside groups are not supported "
        "(sections are flat)",
        "sheet 'survey' row 8, question 'scale', field 'parameters': only a range with start=0 end=10 (step=1) "
        "is supported, as nps",
        "sheet 'survey' row 3, field 'type': begin_group is never closed by an end_group",
    ]
    # ... and then the schema's own checks, located at the row of the question they name
    assert (
        "sheet 'survey' row 5, section 'g' question 1, field 'id': must match [a-z][a-z0-9_]* "
        "(at most 40 characters)" in found
    )
    assert "sheet 'survey' row 2, question 'group', field 'required': the group question must be required" in found


def test_missing_group_question_and_form_id():
    data = xlsx(
        survey=[["type", "name", "label"], ["select_one units", "who", "谁"]],
        choices=[["list_name", "name", "label"], ["units", "a", "甲"]],
        settings=[["form_title"], ["问卷"]],
    )
    found = problems(data, source="<upload>")
    assert "sheet 'settings', field 'form_id': is required (the survey key, e.g. office-service-quality)" in found
    assert any(p.startswith("sheet 'settings', field 'group_question': no respondent-group question") for p in found)
    assert not any(p.startswith("survey, field 'group_question'") for p in found)  # not reported twice


def test_unknown_language_and_duplicate_language_columns():
    data = xlsx(survey=[["type", "name", "label", "label::zh", "label::Klingon"], ["text", "a", "甲", "乙", "x"]])
    found = problems(data)
    assert (
        "sheet 'survey', field 'label::Klingon': cannot tell the language code; write the column as e.g. "
        "'label::English (en)'" in found
    )
    assert any(p.startswith("sheet 'survey', field 'label::zh': two columns give the 'zh' label") for p in found)


# -- formulas ------------------------------------------------------------------------------------------


def _with_cached_value(data: bytes, cell: str, cached: str) -> bytes:
    """Give the formula in ``cell`` of the first sheet a saved (cached) string value, as Excel would."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content, count = re.subn(
                    rf'<c r="{cell}"><f>(.*?)</f><v\s*/>'.encode(),
                    rf'<c r="{cell}" t="str"><f>\1</f><v>{cached}</v>'.encode(),
                    content,
                )
                assert count == 1
            archive.writestr(item, content)
    return target.getvalue()


FORMULA = '=HYPERLINK("http://example.invalid/", "evaluated")'


def test_formula_label_is_read_as_its_cached_value_never_evaluated():
    data = _with_cached_value(simple_form(["text", "comment", FORMULA, "", ""]), "C3", "Saved text")
    comment = load_xlsform(data, "form.xlsx").question("comment")
    assert comment.text == {"zh": "Saved text"}


def test_formula_label_without_a_cached_value_reads_as_empty():
    found = problems(simple_form(["text", "comment", FORMULA, "", ""]))
    assert found == ["sheet 'survey' row 3, question 'comment', field 'text': is required"]


def test_questions_after_a_group_start_a_new_default_section_and_late_notes_are_dropped():
    data = simple_form(
        ["note", "n1", "说明", "", ""],  # after the group question: not shown
        ["begin_group", "g", "组", "", ""],
        ["note", "n2", "组说明", "", ""],
        ["text", "a", "甲", "", ""],
        ["end_group", "", "", "", ""],
        ["text", "b", "乙", "", ""],
    )
    survey = load_xlsform(data, "form.xlsx")
    assert [(s.id, s.intro, [q.id for q in s.questions]) for s in survey.sections] == [
        ("main", None, ["group"]),
        ("g", {"zh": "组说明"}, ["a"]),
        ("main_2", None, ["b"]),
    ]
    assert survey.sections[2].title == {"zh": "简单问卷"}
