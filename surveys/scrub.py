"""Mask identifying details in free-text comments before they are stored.

Staff are asked not to write names or contact details, but some will; a comment that names a phone number
or an ID card identifies its writer (or someone else) to whoever reads it. The patterns are deliberately
broad: a masked number that was harmless costs little, an unmasked one may cost someone dearly.
"""

from __future__ import annotations

import re

MASK = "［已隐去］"

_PATTERNS = [
    # e-mail addresses
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    # 18-digit resident ID numbers (last character may be X) and old 15-digit ones
    re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])|(?<!\d)\d{15}(?!\d)"),
    # mainland mobile numbers, with optional +86 and separators
    re.compile(r"(?:\+?86[\s-]?)?(?<!\d)1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"),
    # landlines: area code 0xx(x) then 7-8 digits, with optional separators and extension
    re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?:-\d{1,5})?(?!\d)"),
    # QQ / WeChat ids given after their name
    re.compile(r"(?i)(?:qq|微信|wechat|vx|wx)\s*[号:：]?\s*[A-Za-z0-9_-]{5,20}"),
    # bank card numbers (16-19 digits, optionally grouped by 4)
    re.compile(r"(?<!\d)\d{4}(?:[\s-]?\d{4}){3}(?:[\s-]?\d{1,3})?(?!\d)"),
]


def scrub(text: str) -> tuple[str, int]:
    """Return ``text`` with identifying patterns replaced by a mask, and how many were masked.

    Examples
    --------
    >>> scrub("请联系张科长 13812345678 或 zhang@tax.gov.cn")
    ('请联系张科长 ［已隐去］ 或 ［已隐去］', 2)
    >>> scrub("复印机经常坏")
    ('复印机经常坏', 0)
    """
    count = 0
    for pattern in _PATTERNS:
        text, n = pattern.subn(MASK, text)
        count += n
    return text, count
