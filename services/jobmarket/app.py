"""jobmarket: the gig-worker market "520" (day-labour dispatch, five-yuan lunch, nap beds, tool loans)."""
from __future__ import annotations

from shared.app import create_app as _create_app

from .resources import BLUEPRINTS


def create_app(settings=None, testing: bool = False):
    """The jobmarket service's Flask app (gunicorn: ``services.jobmarket.app:create_app()``)."""
    return _create_app("jobmarket", blueprints=BLUEPRINTS, title="weizhili jobmarket", settings=settings,
                       testing=testing,
                       description="Day-labour jobs and dispatch, five-yuan lunch tickets, two-yuan nap-bed "
                                   "reservations, free tool loans.")
