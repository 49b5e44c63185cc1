"""Masking personal data for public views (ARCHITECTURE.md, "Personal data"): 张*, 138****1234, in free text too.

Rules:
- a name keeps its first character; every other character becomes ``*`` (张三 → 张*, 王刚娜 → 王**);
- a mobile number (11 digits starting 1[3-9]) keeps its first 3 and last 4 digits (138****1234);
- any other run of 7 or more digits (landlines with or without an area code, ID numbers, account numbers)
  keeps its last 4 digits; a run that reads as a calendar date (YYYYMMDD) is left alone;
- names known to belong to the case (the reporter's) are masked wherever they occur in the text.
Source: issue 3 (feedback wall) and the real hotline replies in fz12345-river-complaints.jsonl.
"""
from __future__ import annotations

import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_DIGITS = re.compile(r"(?<!\d)(\d{3,4}-)?(\d{7,})(?!\d)")
_DATE = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")


def mask_name(name: str | None) -> str | None:
    """张三 → 张*; ``None`` stays ``None``."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """13812341234 → 138****1234; other numbers keep their last four digits."""
    if not phone:
        return phone
    return mask_text(phone)


def _other_digits(match: re.Match) -> str:
    area, digits = match.group(1) or "", match.group(2)
    if not area and _DATE.match(digits):
        return match.group(0)
    return area + "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str | None, names: tuple[str, ...] | list[str] = ()) -> str | None:
    """``text`` with phone-like numbers and the given ``names`` masked."""
    if not text:
        return text
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    return _DIGITS.sub(_other_digits, text)
