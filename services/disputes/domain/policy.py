"""The disputes service's configurable policy: channels, subcategories, grading rule, deadlines, reopen threshold.

Defaults are the seed practice and the glossary; a district changes them by environment variables (read once
per process by :func:`load`), and tests pass overrides through ``Settings.extra``:

- ``DISPUTES_EXTRA_CHANNELS``: comma-separated channel codes added to the defaults (e.g. ``wechat_mini,app``).
- ``DISPUTES_EXTRA_SUBCATEGORIES``: ``category:code`` pairs, comma-separated (``external:utility_company``).
- ``DISPUTES_DEADLINE_DAYS``: ``blue=30,yellow=15,red=7`` (Asia/Shanghai days after the grading day).
- ``DISPUTES_REOPEN_THRESHOLD``: a rating at or below it reopens the case (default 2, GLOSSARY.md).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.timeutil import SHANGHAI, local_day

#: The seed's five intake channels, then the real hotline channels (fz12345-river-complaints.jsonl).
DEFAULT_CHANNELS = ("grid_wechat_group", "hotline", "qr_code", "night_talk", "door_to_door_visit",
                    "website", "city_app", "wechat", "hotline_app", "qq", "sms", "weibo", "email")
DEFAULT_CATEGORIES = {
    "neighbour_family": ("water_leak", "elder_support", "parking", "noise"),
    "estate_internal": ("facility_repair", "ev_charger", "falling_tiles", "utility_arrears"),
    "external": ("property_management", "developer"),
}
GRADES = ("blue", "yellow", "red")
#: Handling deadline per grade, in Asia/Shanghai days after the grading day (seed practice: red is urgent).
DEFAULT_DEADLINE_DAYS = {"blue": 30, "yellow": 15, "red": 7}
DEFAULT_REOPEN_THRESHOLD = 2
PARTICIPANT_ROLES = ("grid_worker", "mediator", "volunteer", "building_head")
ASSIGNEE_KINDS = ("grid_worker", "mediation_team", "deliberation_group")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def suggest_grade(scale: int, difficulty: int, social_impact: int) -> str:
    """The three-colour grade the factors suggest (each factor 1 low … 3 high).

    Rule (documented in docs and tested): total = scale + difficulty + social_impact (3–9).
    ``red`` when total ≥ 7 or social_impact is 3 (a matter that stirs the whole estate goes to the red
    deliberation group at once); ``blue`` when total is 3 (small, easy, contained); ``yellow`` otherwise.
    Source: the seed's three-colour map (蓝、黄、红 by scale, difficulty and social impact); the catalogue's
    example (1, 2, 1 → yellow).
    """
    for name, value in (("scale", scale), ("difficulty", difficulty), ("social_impact", social_impact)):
        if not 1 <= value <= 3:
            raise ValueError(f"{name} must be 1-3")
    total = scale + difficulty + social_impact
    if total >= 7 or social_impact == 3:
        return "red"
    if total == 3:
        return "blue"
    return "yellow"


@dataclass(frozen=True)
class Policy:
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    categories: dict = field(default_factory=lambda: dict(DEFAULT_CATEGORIES))
    deadline_days: dict = field(default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS))
    reopen_threshold: int = DEFAULT_REOPEN_THRESHOLD

    def deadline(self, grade: str, graded_at: datetime) -> datetime:
        """The end (23:59:59 Asia/Shanghai) of the day ``deadline_days[grade]`` days after the grading day."""
        day = local_day(graded_at) + timedelta(days=self.deadline_days[grade])
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)

    def subcategories(self) -> tuple[str, ...]:
        return tuple(sorted({s for subs in self.categories.values() for s in subs}))


def _parse(extra: dict) -> Policy:
    channels = list(DEFAULT_CHANNELS)
    for code in extra.get("extra_channels", ()):
        if CODE_RE.match(code) and code not in channels:
            channels.append(code)
    categories = {k: tuple(v) for k, v in DEFAULT_CATEGORIES.items()}
    for cat, code in extra.get("extra_subcategories", ()):
        if cat in categories and CODE_RE.match(code) and code not in categories[cat]:
            categories[cat] = categories[cat] + (code,)
    days = dict(DEFAULT_DEADLINE_DAYS)
    days.update({g: int(d) for g, d in extra.get("deadline_days", {}).items() if g in GRADES and int(d) >= 0})
    threshold = int(extra.get("reopen_threshold", DEFAULT_REOPEN_THRESHOLD))
    if not 0 <= threshold <= 5:
        raise SystemExit("DISPUTES_REOPEN_THRESHOLD must be 0-5")
    return Policy(tuple(channels), categories, days, threshold)


def _from_env() -> dict:
    out: dict = {}
    if os.environ.get("DISPUTES_EXTRA_CHANNELS"):
        out["extra_channels"] = [c.strip() for c in os.environ["DISPUTES_EXTRA_CHANNELS"].split(",") if c.strip()]
    if os.environ.get("DISPUTES_EXTRA_SUBCATEGORIES"):
        out["extra_subcategories"] = [tuple(p.strip().split(":", 1)) for p in
                                      os.environ["DISPUTES_EXTRA_SUBCATEGORIES"].split(",") if ":" in p]
    if os.environ.get("DISPUTES_DEADLINE_DAYS"):
        out["deadline_days"] = dict(p.strip().split("=", 1) for p in
                                    os.environ["DISPUTES_DEADLINE_DAYS"].split(",") if "=" in p)
    if os.environ.get("DISPUTES_REOPEN_THRESHOLD"):
        out["reopen_threshold"] = os.environ["DISPUTES_REOPEN_THRESHOLD"]
    return out


def load(settings_extra: dict | None = None) -> Policy:
    """The policy: defaults, then environment variables, then ``settings_extra`` (tests) on top."""
    merged = _from_env()
    merged.update(settings_extra or {})
    try:
        return _parse(merged)
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"invalid disputes policy setting: {exc}") from exc
