"""Times on events and answers: ISO 8601 in Asia/Shanghai (+08:00), whatever zone the database returned."""
from __future__ import annotations

from datetime import datetime

from shared.timeutil import to_local


def iso(moment: datetime) -> str:
    """``moment`` (aware) as ISO 8601 with the +08:00 offset, e.g. ``2024-06-14T21:30:18+08:00``."""
    return to_local(moment).isoformat()
