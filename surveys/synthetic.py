"""Synthetic but plausible answers for demos and benchmarks.

The built-in pattern follows the seed analysis: the office rates its own service orientation higher than
the units it serves do (most of all the grassroots units), expectations are high everywhere, pay and
incentives are named as the main causes, and the office's own morale is middling. Works with any survey:
questions outside the pattern get neutral answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from surveys.schema import DONT_KNOW, Question, Survey

GROUP_WEIGHTS = {"office": 0.15, "departments": 0.32, "grassroots": 0.45, "leaders": 0.08}
# Mean perception (1-5) per respondent group, and how much lower particular dimensions are rated.
PERCEPTION_BY_GROUP = {"office": 4.0, "departments": 3.4, "grassroots": 3.0, "leaders": 3.6}
DIMENSION_SHIFT = {
    # the office does not see its own weakness in service orientation and consultation
    ("service", "office"): 0.2, ("service", "grassroots"): -0.7, ("service", "departments"): -0.3,
    ("positioning", "office"): 0.1, ("positioning", "grassroots"): -0.6, ("positioning", "departments"): -0.4,
    ("innovation", None): -0.4, ("vitality", None): -0.2, ("support", None): -0.1,
}
EXPECTATION = 4.4
CAUSE_SEVERITY = {"pay": 4.1, "incentives": 4.0, "leadership": 3.3, "equipment": 3.2, "rules": 2.9,
                  "skills": 2.7, "awareness": 2.8}
MORALE = 3.0
ENPS_MEAN = 6.4
DONT_KNOW_RATE = {"grassroots": 0.06, "departments": 0.03}
COMMENT_RATE = 0.35
COMMENTS = (
    "干多干少一个样，希望建立考核激励机制。",
    "办公室人员待遇偏低，津贴少，建议适当提高。",
    "复印机、传真机经常坏，影响办事效率，希望更新设备。",
    "出台制度前多征求基层分局的意见。",
    "希望办公室多到基层走走，了解基层需求。",
    "办事有时拖沓推诿，希望提高效率。",
    "加强文秘、档案方面的业务培训。",
    "领导要多关心办公室工作，落实到行动上。",
    "工作方法多年不变，可以尝试网上预约、电子公文流转。",
    "年初制定全年工作计划并让大家知道。",
    "接待来人来客热情一些。",
    "整体不错，继续保持。",
)


def _likert(rng: random.Random, mean: float) -> str:
    return str(min(5, max(1, round(rng.gauss(mean, 0.85)))))


def _latent(q: Question, group: str, offset: float) -> float:
    if q.block == "expectation":
        return EXPECTATION + offset / 2
    if q.block == "cause":
        return CAUSE_SEVERITY.get(q.dimension or "", 3.0)
    if q.block == "morale":
        return MORALE + offset
    shift = DIMENSION_SHIFT.get((q.dimension, group), DIMENSION_SHIFT.get((q.dimension, None), 0.0))
    return PERCEPTION_BY_GROUP.get(group, 3.4) + shift + offset


def _answer(q: Question, group: str, offset: float, rng: random.Random) -> list[str]:
    if q.allow_dont_know and rng.random() < DONT_KNOW_RATE.get(group, 0.01):
        return [DONT_KNOW]
    if q.type == "likert":
        return [_likert(rng, _latent(q, group, offset))]
    if q.type == "nps":
        return [str(min(10, max(0, round(rng.gauss(ENPS_MEAN + 2 * offset, 2.2)))))]
    codes = [c.code for c in q.choices]
    if q.block == "overall":  # grades are listed best first
        position = (4.2 - PERCEPTION_BY_GROUP.get(group, 3.4) - offset) * 1.6 + rng.gauss(0, 0.8)
        return [codes[min(len(codes) - 1, max(0, round(position)))]]
    if q.type == "multi":
        return rng.sample(codes, k=min(len(codes), rng.choice((1, 1, 2))))
    return [rng.choice(codes)]


def synthetic_answers(survey: Survey, n: int, seed: int = 0) -> Iterator[dict[str, list[str]]]:
    """Yield ``n`` form submissions (question id -> values) following the built-in pattern.

    Examples
    --------
    >>> from surveys import TEMPLATES_DIR, load
    >>> survey = load(TEMPLATES_DIR / "monthly-pulse.yaml")
    >>> len(list(synthetic_answers(survey, 3)))
    3
    """
    rng = random.Random(seed)
    offered = [c.code for c in survey.groups]
    weights = [GROUP_WEIGHTS.get(code, 0.1) for code in offered]
    for _ in range(n):
        group = rng.choices(offered, weights)[0]
        offset = rng.gauss(0, 0.45)  # a respondent's general leniency, so items of a dimension correlate
        form: dict[str, list[str]] = {survey.group_question: [group]}
        codes: dict[str, frozenset[str]] = {survey.group_question: frozenset([group])}
        for q in survey.questions:
            if q.id == survey.group_question or (q.show_if is not None and not q.show_if.holds(codes)):
                continue
            if q.type == "text":
                if rng.random() < COMMENT_RATE:
                    form[q.id] = [rng.choice(COMMENTS)]
                continue
            if not q.required and rng.random() < 0.1:
                continue
            form[q.id] = _answer(q, group, offset, rng)
            codes[q.id] = frozenset(form[q.id])
        yield form
