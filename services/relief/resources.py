"""relief: HTTP resources."""
from __future__ import annotations

BLUEPRINTS: list = []
