"""points: HTTP resources, one blueprint per resource. Routes parse, call the domain, answer.

Roles: ``resident`` (and ``volunteer``): their own account, redemptions and donations only (another's
answers 404); ``merchant``: the shop whose ``operator_person_id`` is the token's ``sub`` — its own account,
offers, service records and settlement; ``clerk``: the supermarket counter and the back office; ``admin``:
also the scoring rules.
"""
from __future__ import annotations

from .accounts import accounts
from .catalogue import catalogue
from .credits import credits
from .donations import donations
from .merchants import merchants
from .redemptions import redemptions
from .reports import reports
from .rules import rules

BLUEPRINTS = [accounts, rules, credits, catalogue, redemptions, donations, merchants, reports]
