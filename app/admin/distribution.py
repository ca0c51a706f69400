"""Getting the survey to people: QR codes, the poster, one-time code slips."""

from __future__ import annotations
