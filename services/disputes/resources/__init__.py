"""disputes: HTTP resources, one blueprint per resource family. Routes parse, call the domain, answer."""
from __future__ import annotations

from . import handling  # noqa: F401 - adds the handling routes to the cases blueprint
from .cases import cases
from .desk import wall
from .hazards import hazards
from .reports import reports
from .sessions import sessions
from .supervision import follow_ups

BLUEPRINTS = [cases, sessions, follow_ups, wall, hazards, reports]
