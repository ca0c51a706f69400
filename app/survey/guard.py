"""The open-link soft guard: a signed cookie saying this browser already answered a campaign.

It only discourages accidental second answers (a double visit, a reminder clicked twice). Anyone can clear
cookies or use another device; the survey says so. The cookie holds campaign slugs only, never answers.
"""

from __future__ import annotations

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "answered"
MAX_AGE = 180 * 86400
MAX_REMEMBERED = 20


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="officepulse answered")


def _answered() -> list[str]:
    try:
        value = _serializer().loads(request.cookies.get(COOKIE, ""))
    except BadSignature:
        return []
    return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []


def already_answered(slug: str) -> bool:
    return slug in _answered()


def remember_answered(response, slug: str) -> None:
    slugs = [s for s in _answered() if s != slug][-(MAX_REMEMBERED - 1):] + [slug]
    response.set_cookie(COOKIE, _serializer().dumps(slugs), max_age=MAX_AGE, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False), path="/s/")
