"""points: volunteer points, the ledger, the points supermarket and the caring-merchant alliance."""
from __future__ import annotations

from shared.app import create_app as _create_app

from .resources import BLUEPRINTS


def create_app(settings=None, testing: bool = False):
    """The points service's Flask app (gunicorn: ``services.points.app:create_app()``)."""
    return _create_app("points", blueprints=BLUEPRINTS, title="weizhili points", settings=settings,
                       testing=testing,
                       description="Volunteer points: scoring rules, a double-entry ledger, the points "
                                   "supermarket, item donations and the caring-merchant alliance.")
