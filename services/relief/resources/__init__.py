"""relief: HTTP resources (one module per area). Routes parse, call the domain, answer."""
from __future__ import annotations

from . import applications, audit, campaigns, disbursements, meals, public, volunteers

BLUEPRINTS = [campaigns.blp, applications.blp, disbursements.blp, public.blp, audit.blp, volunteers.blp, meals.blp]
