"""The input contract, the test-frame builder, the library's purity, and its docstring examples."""

from __future__ import annotations

import doctest
import importlib
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import (
    ANSWER_COLUMNS,
    COMMENT_COLUMNS,
    AnalysisError,
    QuestionSpec,
    group_sizes,
    infer_question,
    label,
    make_frames,
    validate_answers,
)

ROOT = Path(__file__).resolve().parents[2]


def test_make_frames_follows_the_contract():
    answers, comments = make_frames([
        {"group": "office", "answers": {"service_p1": 4, "service_e1": "dk", "overall": "satisfied",
                                        "enps": 7, "tools": ["fax", "copier"]},
         "comments": {"improve_one": "多下基层"}},
        {"group": "grassroots", "answers": {"cause_pay": 5, "morale_1": 2}},
    ], campaign_id=1, questions={"tools": QuestionSpec("multi", None, None)})
    assert list(answers.columns) == list(ANSWER_COLUMNS)
    assert list(comments.columns) == list(COMMENT_COLUMNS)
    rows = answers.set_index(["response_id", "question_id", "code"])
    assert rows.loc[("r0001", "service_e1", "dk"), ["item", "block", "dont_know"]].tolist() == [
        "service_p1", "expectation", True]
    assert math.isnan(rows.loc[("r0001", "service_e1", "dk"), "value"])
    assert rows.loc[("r0001", "enps", "7"), ["qtype", "value"]].tolist() == ["nps", 7.0]
    assert rows.loc[("r0001", "overall", "satisfied"), "qtype"] == "single"
    assert len(answers.loc[answers["question_id"] == "tools"]) == 2  # one row per chosen code
    assert rows.loc[("r0002", "cause_pay", "5"), "block"] == "cause"
    assert pd.isna(rows.loc[("r0002", "cause_pay", "5"), "dimension"])
    assert answers["dont_know"].dtype == bool and answers["value"].dtype == float
    assert group_sizes(answers).to_dict() == {"grassroots": 1, "office": 1}


def test_infer_question():
    expected = QuestionSpec("likert", "perception", "innovation", "innovation_p3")
    assert infer_question("innovation_p3") == expected
    assert infer_question("morale_2").block == "morale"
    with pytest.raises(AnalysisError):
        infer_question("improve_one")


def valid():
    return make_frames([{"group": "office", "answers": {"goals_p1": 4, "enps": 9}}])[0]


@pytest.mark.parametrize("spoil", [
    lambda f: f.drop(columns="item"),
    lambda f: f.assign(group="all"),
    lambda f: f.assign(qtype="text"),
    lambda f: f.assign(value=[6.0, 9.0]),
    lambda f: f.assign(value=[4.0, 11.0]),
    lambda f: f.assign(value=["four", "9"]),
    lambda f: f.assign(response_id=[None, "r1"]),
    lambda f: f.assign(question_id="goals_p1", qtype="likert", value=[4.0, 3.0]),
    lambda f: f.assign(group=["office", "grassroots"]),
    lambda f: [1, 2],
])
def test_validate_answers_rejects_bad_input(spoil):
    with pytest.raises(AnalysisError):
        validate_answers(spoil(valid()))


def test_validate_answers_blanks_dont_know_values():
    frame = valid().assign(dont_know=[True, False])
    clean = validate_answers(frame)
    assert math.isnan(clean.loc[0, "value"]) and clean.loc[1, "value"] == 9.0
    assert frame.loc[0, "value"] == 4.0  # input untouched


def test_labels():
    assert label("group", "leaders") == "局领导"
    assert label("quadrant", "concentrate_here", "en") == "concentrate here"
    assert label("cause", None) == ""
    with pytest.raises(AnalysisError):
        label("colour", "red")


def test_library_is_pure():
    code = ("import sys, analysis; bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'app')"
            " or m == 'matplotlib.pyplot']; print(bad)")
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# The statistics modules (loading and plotting modules have their own tests).
STATISTICS = ("errors", "findings", "frames", "gaps", "labels", "privacy", "reliability", "report", "scores",
              "stats", "themes", "waves")
MODULES = [analysis] + [importlib.import_module(f"analysis.{name}") for name in STATISTICS]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, extraglobs={"np": np, "pd": pd})
    assert result.failed == 0


def test_public_functions_have_examples():
    for name in analysis.__all__:
        obj = getattr(analysis, name)
        if callable(obj) and not isinstance(obj, type):
            assert obj.__doc__ and ">>>" in obj.__doc__, name
