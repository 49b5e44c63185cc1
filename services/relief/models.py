"""relief: the data layer."""
from __future__ import annotations

from shared.db import make_base

Base = make_base()
