"""Respondent receipts: a random code the respondent keeps; only its HMAC is stored, beside the response id.

Whoever holds the code can confirm that the response was counted and, while the campaign is open, withdraw
it. The office head sees nothing of receipts; without the code the stored hash leads nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

from app.extensions import db
from app.models import Campaign, Receipt, Response

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
LENGTH = 16  # 31^16: 79 bits


def new_receipt() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(code[i:i + 4] for i in range(0, LENGTH, 4))


def receipt_hash(code: str) -> str:
    key = hashlib.sha256(b"officepulse receipts " + current_app.config["SECRET_KEY"].encode()).digest()
    plain = "".join(ch for ch in code.upper() if ch.isalnum())
    return hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()


def find(code: str) -> tuple[Response, Campaign] | None:
    """Return the response and campaign a receipt code stands for, or None."""
    row = db.session.execute(
        db.select(Response, Campaign)
        .join(Receipt, Receipt.response_id == Response.id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .where(Receipt.receipt_hash == receipt_hash(code))
    ).first()
    return (row[0], row[1]) if row else None


def withdraw(response: Response) -> None:
    """Delete a response with its answers, comments and receipt (one transaction)."""
    db.session.delete(response)
    db.session.commit()
