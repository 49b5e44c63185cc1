"""relief: charity campaigns, vetted assistance and disbursements, volunteer services (送温暖、献爱心；助餐)."""
from __future__ import annotations

import os

from shared.app import create_app as _create_app

from .domain.personal import IdVault
from .resources import BLUEPRINTS


def create_app(settings=None, testing: bool = False):
    """The relief service's Flask app (gunicorn: ``services.relief.app:create_app()``).

    ID-card numbers are encrypted with ``RELIEF_ID_FERNET_KEYS`` (comma-separated Fernet keys, newest first) and
    hashed for duplicates with ``RELIEF_ID_HMAC_KEY``; development defaults apply when they are not set.
    """
    app = _create_app("relief", blueprints=BLUEPRINTS, title="weizhili relief", settings=settings,
                      testing=testing,
                      description="Charity campaigns and donations, assistance vetted by household survey and "
                                  "democratic appraisal, disbursements bounded by funds, volunteer services.")
    app.extensions["relief_vault"] = IdVault.from_settings(app.config["WEIZHILI_SETTINGS"].extra, os.environ)
    return app
