"""One-time participation codes: random, unambiguous, stored only as an HMAC with a used flag."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import insert, update

from app.extensions import db
from app.models import Campaign, ParticipationCode

# No 0/O, 1/I/L: codes are read off paper slips. 32 symbols x 10 characters = 50 bits.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10
MAX_BATCH = 5000


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def pretty(code: str) -> str:
    """Return the code as printed on a slip: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def normalise(raw: str) -> str:
    """Return the code as typed, uppercased and without spaces or dashes."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def code_hmac(code: str) -> str:
    key = hashlib.sha256(b"officepulse participation codes " + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, normalise(code).encode(), hashlib.sha256).hexdigest()


def generate_codes(campaign: Campaign, count: int) -> list[str]:
    """Create ``count`` new codes for ``campaign`` and return them; they cannot be shown again later."""
    if not 1 <= count <= MAX_BATCH:
        raise ValueError(f"the number of codes must be from 1 to {MAX_BATCH}")
    codes = {new_code() for _ in range(count)}
    while len(codes) < count:
        codes.add(new_code())
    rows = [{"code_hmac": code_hmac(c), "campaign_id": campaign.id, "used": False} for c in codes]
    db.session.execute(insert(ParticipationCode), rows)
    db.session.commit()
    return sorted(codes)


def consume(campaign_id: int, code: str) -> bool:
    """Mark ``code`` used inside the caller's transaction; False if it is unknown or already used.

    The conditional UPDATE is atomic: of many simultaneous uses of one code, exactly one succeeds.
    """
    result = db.session.execute(
        update(ParticipationCode)
        .where(ParticipationCode.code_hmac == code_hmac(code), ParticipationCode.campaign_id == campaign_id,
               ParticipationCode.used.is_(False))
        .values(used=True)
    )
    return result.rowcount == 1


def code_counts(campaign: Campaign) -> tuple[int, int]:
    """Return (codes issued, codes used)."""
    issued, used = db.session.execute(
        db.select(db.func.count(), db.func.coalesce(db.func.sum(db.case((ParticipationCode.used, 1), else_=0)), 0))
        .where(ParticipationCode.campaign_id == campaign.id)
    ).one()
    return int(issued), int(used)
