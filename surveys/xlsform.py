"""Convert an XLSForm spreadsheet (.xlsx, as used by KoboToolbox and ODK) into a survey definition.

:func:`to_definition` turns the workbook into the same mapping a YAML definition parses to (see
docs/survey-format.md, "XLSForm upload", for the mapping); :func:`load_xlsform` also builds the
:class:`surveys.schema.Survey`. The workbook is read with openpyxl in read-only mode with ``data_only``: a
formula cell reads as the value the spreadsheet program last saved with it (empty if none was saved) and
nothing is ever evaluated. ``relevant`` expressions are translated only in a few simple forms, never run.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from surveys.loader import LOCALE_RE, SurveyDefinitionError, from_dict
from surveys.schema import LIKERT_CODES, Survey

MAX_XLSFORM_BYTES = 2_000_000
MAX_UNPACKED_BYTES = 20_000_000
MAX_ARCHIVE_MEMBERS = 500
MAX_ROWS = 5000
MAX_COLUMNS = 200

DEFAULT_LOCALE = "zh"  # the language of plain `label` columns when the form names no language at all
LANGUAGE_NAMES = {"chinese": "zh", "中文": "zh", "汉语": "zh", "english": "en", "英文": "en", "英语": "en"}
TEXT_COLUMNS = {"survey": ("label", "hint"), "choices": ("label",), "settings": ("form_title",)}
TRUE_WORDS = {"yes", "true", "true()", "1"}
FALSE_WORDS = {"", "no", "false", "false()", "0"}
LIKERT_BLOCKS = {"perception", "expectation", "cause", "morale"}
# Rows of these types are skipped: calculations, and device / user metadata OfficePulse never collects.
IGNORED_TYPES = {
    "calculate", "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username",
    "email", "audit", "start-geopoint", "background-audio",
}
# Columns whose rules OfficePulse cannot honour: a non-empty cell is an error rather than a silent change.
UNSUPPORTED_COLUMNS = ("constraint", "choice_filter", "calculation", "trigger", "repeat_count")
SUPPORTED_RELEVANT = "only ${q} = 'code' and selected(${q}, 'code'), joined with 'and' / 'or', are supported"


@dataclass
class _Sheet:
    """One sheet: its header (plain columns and per-locale text columns) and its non-empty rows."""

    title: str
    header: tuple[Any, ...] = ()
    columns: dict[str, int] = field(default_factory=dict)
    texts: dict[str, dict[str, int]] = field(default_factory=dict)  # base column -> locale -> index
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)  # (row number, values)

    def raw(self, values: tuple[Any, ...], column: str) -> Any:
        index = self.columns.get(column)
        return values[index] if index is not None and index < len(values) else None

    def value(self, values: tuple[Any, ...], column: str) -> str:
        return _str(self.raw(values, column))

    def text(self, values: tuple[Any, ...], column: str) -> dict[str, str] | None:
        """Return the locale -> text mapping of ``column`` in a row (None when every language is empty)."""
        result = {}
        for locale, index in self.texts.get(column, {}).items():
            value = _str(values[index]) if index < len(values) else ""
            if value:
                result[locale] = value
        return result or None


class _Unsupported(Exception):
    """A ``relevant`` expression outside the supported forms."""


def to_definition(data: bytes, source: str = "<upload>") -> dict[str, Any]:
    """Convert the XLSForm workbook ``data`` into a survey definition mapping and validate it.

    The mapping is what a YAML definition parses to (plain dicts, lists, strings, ints and booleans), so it
    can be dumped as YAML or passed to :func:`surveys.from_dict`. Raises :class:`SurveyDefinitionError`
    listing every problem: those of the spreadsheet name its sheet and row (and question where known), and
    those found by the schema validation are located at the row that defines the question, section or
    choice list.
    """
    converter = _Converter(source)
    definition = converter.convert(data)
    problems = list(converter.problems)
    if definition is not None:
        try:
            from_dict(definition, source=source)
        except SurveyDefinitionError as exc:
            problems += [converter.locate(p) for p in exc.problems if not converter.already_reported(p)]
    if problems:
        raise SurveyDefinitionError(source, problems)
    assert definition is not None
    return definition


def load_xlsform(data: bytes, source: str = "<upload>") -> Survey:
    """Return the validated :class:`Survey` of the XLSForm workbook ``data``; see :func:`to_definition`."""
    return from_dict(to_definition(data, source), source=source)


class _Converter:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []
        self.places: dict[str, str] = {}  # from_dict's "<where>" -> "sheet '...' row N"
        self.reported_group_question = False
        self.sheet_names: list[str] = []

    # -- problems --------------------------------------------------------------------------------------

    def error(self, where: str, column: str, message: str) -> None:
        self.problems.append(f"{where}, field '{column}': {message}")

    def place(self, where: str, sheet: str, row: int) -> None:
        self.places.setdefault(where, f"sheet '{sheet}' row {row}")

    def locate(self, problem: str) -> str:
        """Prefix a from_dict problem with the sheet and row defining the thing it names."""
        where, _, rest = problem.partition(", field ")
        if where == "survey":
            where = "survey " + rest.partition("'")[2].partition("'")[0]  # settings fields, not sections
        place = self.places.get(where)
        return f"{place}, {problem}" if place else problem

    def already_reported(self, problem: str) -> bool:
        return self.reported_group_question and problem.startswith("survey, field 'group_question'")

    # -- workbook --------------------------------------------------------------------------------------

    def convert(self, data: bytes) -> dict[str, Any] | None:
        """Return the definition built from ``data`` (None when it cannot be built at all)."""
        if not isinstance(data, (bytes, bytearray)):
            self.problems.append("must be the bytes of an .xlsx file")
            return None
        if len(data) > MAX_XLSFORM_BYTES:
            self.problems.append(f"is larger than {MAX_XLSFORM_BYTES} bytes")
            return None
        sheets = self._read_workbook(bytes(data))
        if sheets is None:
            return None
        survey = sheets.get("survey")
        if survey is None:
            self.problems.append(
                "has no 'survey' sheet (an XLSForm has the sheets 'survey', 'choices' and 'settings'); "
                f"its sheets are: {', '.join(repr(s) for s in self.sheet_names) or 'none'}"
            )
            return None
        return self._definition(survey, sheets.get("choices"), sheets.get("settings"))

    def _read_workbook(self, data: bytes) -> dict[str, _Sheet] | None:
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            self.problems.append("is an old Excel 97-2003 (.xls) file: save it as an .xlsx workbook and upload that")
            return None
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError):
            self.problems.append("is not an .xlsx workbook (Excel 2007 or later, as KoboToolbox / ODK use)")
            return None
        if len(members) > MAX_ARCHIVE_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            self.problems.append("is too large once unpacked to be a survey form")
            return None
        from openpyxl import load_workbook  # imported when first needed (it takes a third of a second)

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        except Exception:  # openpyxl raises many kinds of error for a malformed package
            self.problems.append("is not an .xlsx workbook that can be read (Excel 2007 or later)")
            return None
        try:
            self.sheet_names = list(workbook.sheetnames)
            names = {name.strip().lower(): name for name in workbook.sheetnames}
            sheets: dict[str, _Sheet] = {}
            for wanted in ("survey", "choices", "settings"):
                if wanted in names:
                    sheets[wanted] = self._read_sheet(workbook[names[wanted]], wanted)
            return sheets
        finally:
            workbook.close()

    def _read_sheet(self, worksheet, title: str) -> _Sheet:
        sheet = _Sheet(title)
        try:
            worksheet.reset_dimensions()  # some writers store a wrong size; read what is there
            for number, values in enumerate(worksheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), 1):
                if number > MAX_ROWS:
                    self.error(f"sheet '{title}'", "rows", f"has more than {MAX_ROWS} rows")
                    break
                values = tuple(values)
                if not any(_str(v) for v in values):
                    continue
                if not sheet.header:
                    sheet.header = values
                else:
                    sheet.rows.append((number, values))
        except Exception as exc:  # a malformed sheet part
            self.error(f"sheet '{title}'", "sheet", f"cannot be read ({type(exc).__name__})")
        return sheet

    # -- header and languages --------------------------------------------------------------------------

    def _languages(self, sheets: list[_Sheet], settings_row: tuple[Any, ...] | None, settings: _Sheet | None):
        """Fill each sheet's columns and text columns; return the ordered locales (default first)."""
        parsed: dict[str, list[tuple[str, str | None, int, str]]] = {}
        found: list[str] = []
        for sheet in sheets:
            parsed[sheet.title] = []
            for index, raw in enumerate(sheet.header):
                name = _str(raw)
                if not name:
                    continue
                base, _, language = name.partition("::")
                base = "_".join(base.lower().split())  # 'list name' -> 'list_name'
                if not language and base not in TEXT_COLUMNS[sheet.title]:
                    if base in sheet.columns:
                        self.error(f"sheet '{sheet.title}'", name, "the column appears twice")
                    sheet.columns.setdefault(base, index)
                    continue
                if not language:
                    parsed[sheet.title].append((base, None, index, name))
                    continue
                if base not in TEXT_COLUMNS[sheet.title]:
                    continue  # media::image::English (en), constraint_message::..., ...: not used
                locale = _locale(language)
                if locale is None:
                    self.error(
                        f"sheet '{sheet.title}'", name,
                        "cannot tell the language code; write the column as e.g. 'label::English (en)'",
                    )
                    continue
                parsed[sheet.title].append((base, locale, index, name))
                if locale not in found:
                    found.append(locale)

        default = None
        raw_default = settings.value(settings_row, "default_language") if settings and settings_row else ""
        if raw_default:
            default = _locale(raw_default)
            if default is None:
                self.error(
                    f"sheet 'settings' row {settings.rows[0][0]}", "default_language",
                    f"cannot tell the language code of '{raw_default}'; write e.g. 'Chinese (zh)' or 'zh'",
                )
        if default is None:
            default = found[0] if found else DEFAULT_LOCALE
        locales = [default] + [x for x in found if x != default]

        for sheet in sheets:
            for base, locale, index, column in parsed[sheet.title]:
                locale = locale or default
                if locale in sheet.texts.setdefault(base, {}):
                    self.error(
                        f"sheet '{sheet.title}'", column,
                        f"two columns give the '{locale}' {base}; a plain '{base}' column is in the default "
                        f"language '{default}' (set default_language in the settings sheet to change it)",
                    )
                    continue
                sheet.texts[base][locale] = index
        return locales

    # -- definition ------------------------------------------------------------------------------------

    def _definition(self, survey: _Sheet, choices: _Sheet | None, settings: _Sheet | None) -> dict | None:
        settings_row = settings.rows[0][1] if settings and settings.rows else None
        sheets = [s for s in (survey, choices, settings) if s is not None]
        locales = self._languages(sheets, settings_row, settings)

        missing = [c for c in ("type", "name") if c not in survey.columns]
        if not survey.texts.get("label"):
            missing.append("label")
        for column in missing:
            self.error("sheet 'survey'", column, "missing column")
        if missing:
            return None

        definition: dict[str, Any] = {"key": None, "version": 1, "locales": locales}
        title = self._settings(definition, settings, settings_row)
        lists = self._choice_lists(choices)
        sections, used_lists, group_candidates = self._sections(survey, lists, title)
        if used_lists and choices is None:
            self.problems.append("has no 'choices' sheet, but select questions use choice lists")
        definition["choices"] = {name: lists[name][1] for name in lists if name in used_lists}
        for name in definition["choices"]:
            self.place(f"choice list '{name}'", "choices", lists[name][0])
        definition["sections"] = sections

        group_question = definition.pop("group_question", None) or (group_candidates[0] if group_candidates else None)
        if group_question:
            definition["group_question"] = group_question
        else:
            self.reported_group_question = True
            self.error(
                "sheet 'settings'", "group_question",
                "no respondent-group question: name the select_one question 'group', call its list 'groups', "
                "or give its name in a 'group_question' column of the settings sheet",
            )
        return definition

    def _settings(self, definition: dict, settings: _Sheet | None, row: tuple[Any, ...] | None) -> dict | None:
        """Fill key, version, title and group_question from the settings sheet; return the title."""
        key = ""
        title = None
        if settings is not None and row is not None:
            for column in ("key", "version", "locales", "title", "group_question"):
                self.place(f"survey {column}", "settings", settings.rows[0][0])
            key = settings.value(row, "form_id") or settings.value(row, "id_string")
            definition["version"] = _version(settings.raw(row, "version"))
            title = settings.text(row, "form_title")
            if settings.value(row, "group_question"):
                definition["group_question"] = settings.value(row, "group_question")
        if not key and PurePath(self.source).suffix.lower() == ".xlsx":
            key = PurePath(self.source).stem
        key = re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-")[:64].strip("-")
        if not key:
            self.error("sheet 'settings'", "form_id", "is required (the survey key, e.g. office-service-quality)")
        definition["key"] = key or "survey"
        if title is not None:
            definition["title"] = title
        return title

    def _choice_lists(self, sheet: _Sheet | None) -> dict[str, tuple[int, list[dict]]]:
        """Return each list name -> (first row, choices)."""
        lists: dict[str, tuple[int, list[dict]]] = {}
        if sheet is None:
            return lists
        for column in ("list_name", "name"):
            if column not in sheet.columns:
                self.error("sheet 'choices'", column, "missing column")
        if "list_name" not in sheet.columns or "name" not in sheet.columns:
            return lists
        for number, values in sheet.rows:
            where = f"sheet 'choices' row {number}"
            list_name = sheet.value(values, "list_name")
            code = sheet.value(values, "name")
            if not list_name:
                self.error(where, "list_name", "is empty")
                continue
            if not code:
                self.error(where, "name", "is empty (the choice code)")
                continue
            _, items = lists.setdefault(list_name, (number, []))
            self.place(f"choice list '{list_name}' choice '{code}'", "choices", number)
            choice: dict[str, Any] = {"code": code}
            label = sheet.text(values, "label")
            if label is not None:
                choice["label"] = label
            items.append(choice)
        return lists

    def _sections(self, sheet: _Sheet, lists: dict, title: dict | None):
        sections: list[dict] = []
        used_lists: list[str] = []
        group_candidates: list[str] = []
        kinds: dict[str, str] = {}  # question name -> XLSForm kind (select_one, select_multiple, ...)
        group: dict | None = None  # the open begin_group section
        depth = 0
        default: dict | None = None  # the open section of questions outside any group
        pending_intro: list[dict] = []  # notes before the first question outside groups
        open_rows: list[int] = []
        defaults = 0  # sections made for runs of questions outside groups

        def add_section(section: dict, number: int) -> None:
            sections.append(section)
            self.place(f"section '{section['id']}'", "survey", number)
            self.place(f"section {len(sections)}", "survey", number)

        for number, values in sheet.rows:
            raw_type = sheet.value(values, "type")
            name = sheet.value(values, "name")
            kind, argument = _parse_type(raw_type)
            what = "section" if kind in ("begin_group", "end_group") else "question"
            where = f"sheet 'survey' row {number}" + (f", {what} '{name}'" if name else "")
            if not kind:
                if name or sheet.text(values, "label"):
                    self.error(where, "type", "is empty")
                continue
            if kind in IGNORED_TYPES:
                continue
            for column in UNSUPPORTED_COLUMNS:
                if sheet.value(values, column):
                    self.error(where, column, f"'{column}' is not supported; leave the column empty")

            if kind == "begin_group":
                depth += 1
                open_rows.append(number)
                if depth > 1:
                    self.error(where, "type", "groups inside groups are not supported (sections are flat)")
                    continue
                default = None
                pending_intro = []
                group = {"id": name}
                if sheet.text(values, "label") is not None:
                    group["title"] = sheet.text(values, "label")
                if not name:
                    self.error(where, "name", "is empty (the section id)")
                show_if = self._relevant(sheet, values, where, kinds)
                if show_if:
                    group["show_if"] = show_if
                group["questions"] = []
                add_section(group, number)
                continue
            if kind == "end_group":
                if depth == 0:
                    self.error(where, "type", "end_group without a begin_group")
                    continue
                depth -= 1
                open_rows.pop()
                if depth == 0:
                    group = None
                continue
            if kind == "note":
                text = sheet.text(values, "label")
                target = group if group is not None else default
                if text is None:
                    continue
                if target is None:
                    pending_intro.append(text)
                elif not target["questions"]:
                    target["intro"] = _join([target["intro"], text]) if "intro" in target else text
                continue  # a note after the first question of its section is not shown

            question = self._question(sheet, values, number, where, kind, argument, lists, kinds)
            if question is None:
                continue
            if question["type"] == "single" and (argument == "groups" or question["id"] == "group"):
                group_candidates.append(question["id"])
            if "choices" in question and question["choices"] not in used_lists:
                used_lists.append(question["choices"])
            if group is not None:
                target = group
            else:
                if default is None:
                    defaults += 1
                    default = {"id": "main" if defaults == 1 else f"main_{defaults}"}
                    if title is not None:
                        default["title"] = title
                    if pending_intro:
                        default["intro"] = _join(pending_intro)
                    pending_intro = []
                    default["questions"] = []
                    add_section(default, number)
                target = default
            target["questions"].append(question)
            self.place(f"question '{question['id']}'", "survey", number)
            self.place(f"section '{target['id']}' question {len(target['questions'])}", "survey", number)

        for number in open_rows:
            self.error(f"sheet 'survey' row {number}", "type", "begin_group is never closed by an end_group")
        return sections, used_lists, group_candidates

    def _question(self, sheet, values, number, where, kind, argument, lists, kinds) -> dict | None:
        name = sheet.value(values, "name")
        if not name:
            self.error(where, "name", "is empty (the question id)")
            return None
        question: dict[str, Any] = {"id": name}
        block = sheet.value(values, "block")
        pair_of = sheet.value(values, "pair_of")
        if kind in ("select_one", "select_multiple"):
            if argument.endswith("or_other"):
                self.error(where, "type", "'or_other' is not supported; add an 'other' choice and a text question")
                return None
            if not argument or " " in argument:
                self.error(where, "type", f"'{kind}' needs one choice list name, e.g. '{kind} groups'")
                return None
            if kind == "select_multiple":
                qtype = "multi"
            elif block in LIKERT_BLOCKS or pair_of:
                qtype = "likert"
            else:
                codes = tuple(c["code"] for c in lists.get(argument, (0, []))[1])
                likert_look = "likert" in sheet.value(values, "appearance").lower().split()
                qtype = "likert" if likert_look and codes == LIKERT_CODES else "single"
            question["type"] = qtype
        elif kind == "text":
            question["type"] = "text"
        elif kind == "range":
            if not _is_nps_range(sheet.value(values, "parameters")):
                self.error(where, "parameters", "only a range with start=0 end=10 (step=1) is supported, as nps")
                return None
            question["type"] = "nps"
        elif kind == "integer":
            if name != "enps":
                self.error(where, "type", "an integer question is supported only as the 0-10 'enps' question")
                return None
            question["type"] = "nps"
        else:
            self.error(where, "type", f"unsupported question type '{sheet.value(values, 'type')}'")
            return None
        kinds[name] = kind

        text = sheet.text(values, "label")
        if text is not None:
            question["text"] = text
        help_text = sheet.text(values, "hint")
        if help_text is not None:
            question["help"] = help_text
        if kind in ("select_one", "select_multiple"):
            question["choices"] = argument
        for column in ("dimension", "block", "pair_of"):
            if sheet.value(values, column):
                question[column] = sheet.value(values, column)
        for column in ("required", "allow_dont_know"):
            flag = _flag(sheet.value(values, column))
            if flag is None:
                self.error(where, column, "must be yes or no (expressions are not supported)")
            elif flag:
                question[column] = True
        raw_length = sheet.value(values, "max_length")
        if raw_length:
            if re.fullmatch(r"\d+", raw_length):
                question["max_length"] = int(raw_length)
            else:
                self.error(where, "max_length", "must be a whole number")
        show_if = self._relevant(sheet, values, where, kinds)
        if show_if:
            question["show_if"] = show_if
        return question

    def _relevant(self, sheet: _Sheet, values, where: str, kinds: dict[str, str]) -> dict | None:
        expression = sheet.value(values, "relevant")
        if not expression:
            return None
        try:
            return _condition(_RelevantParser(expression, kinds).parse())
        except _Unsupported as exc:
            self.error(where, "relevant", f"unsupported expression \"{expression}\": {exc}; {SUPPORTED_RELEVANT}")
            return None


# -- relevant expressions ------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""\s*(?:\$\{\s*(?P<ref>[^}\s]+)\s*\}|'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<num>\d+)(?![\w.])"""
    r"""|(?P<punct>[=(),])|(?P<word>[A-Za-z_][\w.:-]*))"""
)


class _RelevantParser:
    """Parse ``a or b``, ``a and b``, ``( ... )`` of ``${q} = 'code'`` and ``selected(${q}, 'code')``.

    The result is a tree of ("atom", question, code), ("and", [...]) and ("or", [...]); nothing is evaluated.
    """

    def __init__(self, expression: str, kinds: dict[str, str]):
        self.kinds = kinds
        self.tokens: list[tuple[str, str]] = []
        position = 0
        stripped = expression.rstrip()
        while position < len(stripped):
            match = _TOKEN_RE.match(stripped, position)
            if not match or match.end() == position:
                raise _Unsupported(f"cannot read '{stripped[position:].strip()[:20]}'")
            kind = match.lastgroup or ""
            value = match.group(kind)
            if kind in ("sq", "dq", "num"):
                kind = "literal"
            self.tokens.append((kind, value))
            position = match.end()
        self.index = 0

    def parse(self):
        node = self._or()
        if self.index != len(self.tokens):
            raise _Unsupported(f"unexpected '{self.tokens[self.index][1]}'")
        return node

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def _take(self, kind: str, value: str | None = None) -> str:
        token_kind, token_value = self._peek()
        if token_kind != kind or (value is not None and token_value != value):
            expected = value or {"ref": "${question}", "literal": "a quoted code"}.get(kind, kind)
            raise _Unsupported(f"expected {expected} but found '{token_value or 'the end'}'")
        self.index += 1
        return token_value

    def _or(self):
        items = [self._and()]
        while self._peek() == ("word", "or"):
            self.index += 1
            items.append(self._and())
        return items[0] if len(items) == 1 else ("or", items)

    def _and(self):
        items = [self._primary()]
        while self._peek() == ("word", "and"):
            self.index += 1
            items.append(self._primary())
        return items[0] if len(items) == 1 else ("and", items)

    def _primary(self):
        kind, value = self._peek()
        if (kind, value) == ("punct", "("):
            self.index += 1
            node = self._or()
            self._take("punct", ")")
            return node
        if (kind, value) == ("word", "selected"):
            self.index += 1
            self._take("punct", "(")
            question = self._take("ref")
            self._take("punct", ",")
            code = self._code()
            self._take("punct", ")")
            return ("atom", question, code)
        if kind == "ref":
            self.index += 1
            self._take("punct", "=")
            code = self._code()
            if self.kinds.get(value) == "select_multiple":
                raise _Unsupported(f"use selected(${{{value}}}, '{code}') for the select_multiple question '{value}'")
            return ("atom", value, code)
        raise _Unsupported(f"unexpected '{value or 'end'}'")

    def _code(self) -> str:
        code = self._take("literal").strip()
        if not code:
            raise _Unsupported("an empty code ('') cannot be tested")
        return code


def _condition(node) -> dict[str, list[str]]:
    """Turn a parsed expression into a show_if mapping: an 'and' of per-question 'or's of codes."""
    if node[0] == "atom":
        return {node[1]: [node[2]]}
    parts = [_condition(child) for child in node[1]]
    if node[0] == "and":
        merged: dict[str, list[str]] = {}
        for part in parts:
            for question, codes in part.items():
                if question in merged:
                    raise _Unsupported(f"'and' of two tests of the same question '{question}'")
                merged[question] = codes
        return merged
    questions = {q for part in parts for q in part}
    if len(questions) != 1 or any(len(part) != 1 for part in parts):
        raise _Unsupported("'or' is supported only between tests of one question")
    question = questions.pop()
    codes: list[str] = []
    for part in parts:
        codes += [c for c in part[question] if c not in codes]
    return {question: codes}


# -- cells -----------------------------------------------------------------------------------------------


def _str(value: Any) -> str:
    """Return a cell value as stripped text (numbers without a spurious '.0')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).strip()


def _flag(text: str) -> bool | None:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _version(value: Any) -> int:
    text = _str(value)
    return int(text) if re.fullmatch(r"\d{1,18}", text) and int(text) >= 1 else 1


def _locale(language: str) -> str | None:
    """Return the locale code of a language column suffix: 'English (en)', 'en', 'zh-TW' or 'Chinese'."""
    language = language.strip()
    match = re.fullmatch(r".*?\(\s*([^()]+?)\s*\)", language)
    if match:
        code = match.group(1)
    elif language.lower() in LANGUAGE_NAMES:
        code = LANGUAGE_NAMES[language.lower()]
    else:
        code = language
    head, _, tail = code.replace("_", "-").partition("-")
    code = head.lower() + (f"-{tail}" if tail else "")
    return code if LOCALE_RE.match(code) else None


def _parse_type(raw: str) -> tuple[str, str]:
    """Split a type cell into (kind, argument): 'select_one groups' -> ('select_one', 'groups')."""
    words = raw.split()
    if not words:
        return "", ""
    first = words[0].lower()
    if first in ("begin", "end", "select") and len(words) > 1:  # 'begin group', 'select one LIST'
        first = f"{first}_{words[1].lower()}"
        words = words[1:]
    return first, " ".join(words[1:])


def _is_nps_range(parameters: str) -> bool:
    found = {}
    for item in re.split(r"[\s;,]+", parameters.strip()):
        if item:
            name, _, value = item.partition("=")
            found[name.strip().lower()] = value.strip()
    numbers = {k: v[:-2] if v.endswith(".0") else v for k, v in found.items()}
    return set(numbers) <= {"start", "end", "step"} and numbers.get("start") == "0" and numbers.get(
        "end") == "10" and numbers.get("step", "1") == "1"


def _join(texts: Iterable[dict[str, str]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for text in texts:
        for locale, value in text.items():
            result[locale] = f"{result[locale]}\n\n{value}" if locale in result else value
    return result
