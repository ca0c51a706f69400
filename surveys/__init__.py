"""Survey definitions: the YAML schema, its validating loader and the bundled templates.

Pure Python: nothing here imports Flask, ``app`` or ``analysis``.
"""

from __future__ import annotations

from pathlib import Path

from surveys.loader import SurveyDefinitionError, from_dict, load, loads
from surveys.schema import DONT_KNOW, Choice, Condition, Question, Section, Survey

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def bundled_paths() -> list[Path]:
    """Return the paths of the bundled survey templates, sorted by name."""
    return sorted(TEMPLATES_DIR.glob("*.yaml"))


__all__ = [
    "DONT_KNOW",
    "Choice",
    "Condition",
    "Question",
    "Section",
    "Survey",
    "SurveyDefinitionError",
    "TEMPLATES_DIR",
    "bundled_paths",
    "from_dict",
    "load",
    "loads",
]
