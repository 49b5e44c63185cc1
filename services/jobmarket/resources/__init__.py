"""jobmarket: HTTP resources, one module per area. Routes parse, call the domain, answer."""
from __future__ import annotations

from .jobs import dispatches, employers, jobs
from .meals import meals
from .naps import naps
from .reports import reports
from .tools import tools
from .workers import workers

BLUEPRINTS = [workers, employers, jobs, dispatches, meals, naps, tools, reports]
