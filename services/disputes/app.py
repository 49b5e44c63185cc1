"""disputes: the night-talk deliberation platform (府西夜话)."""
from __future__ import annotations

from shared.app import create_app as _create_app

from .resources import BLUEPRINTS


def create_app(settings=None, testing: bool = False):
    """The disputes service's Flask app (gunicorn: ``services.disputes.app:create_app()``)."""
    return _create_app("disputes", blueprints=BLUEPRINTS, title="weizhili disputes", settings=settings,
                       testing=testing,
                       description="Cases from five channels, three-colour grading, night-talk sessions, "
                                   "supervision, feedback wall, evaluation desk and hazard photo reports.")
