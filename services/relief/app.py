"""relief: charity campaigns, vetted assistance and disbursements, volunteer services (送温暖、献爱心；助餐)."""
from __future__ import annotations

from shared.app import create_app as _create_app

from .resources import BLUEPRINTS


def create_app(settings=None, testing: bool = False):
    """The relief service's Flask app (gunicorn: ``services.relief.app:create_app()``)."""
    return _create_app("relief", blueprints=BLUEPRINTS, title="weizhili relief", settings=settings,
                       testing=testing,
                       description="Charity campaigns and donations, assistance vetted by household survey and "
                                   "democratic appraisal, disbursements bounded by funds, volunteer services.")
