"""Scoring rules: read (any caller), add a version and retire (admin)."""
from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_principal
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import rules as rule_rules
from ..models import Rule
from ..schemas import RetireSchema, RuleCreateSchema, RuleListArgs, RulePage, RuleSchema, RuleVersionsSchema
from .common import STAFF

rules = Blueprint("rules", __name__, url_prefix="/rules", description="Scoring rules, versioned")


@rules.route("")
class RulesResource(MethodView):
    @rules.roles()
    @rules.arguments(RuleListArgs, location="query")
    @rules.response(200, RulePage)
    def get(self, args):
        """Rule versions, oldest first (cursor pages); retired ones only with ``include_retired=true``."""
        return paginate(db(), rule_rules.list_stmt(args.get("code"), args["include_retired"]), Rule.created_at,
                        Rule.id, args)

    @rules.roles("admin")
    @rules.arguments(RuleCreateSchema)
    @command
    @rules.response(201, RuleSchema)
    @rules.alt_response(200, schema=RuleSchema, description="Identical to the current version: nothing created")
    @rules.problems(409)
    def post(self, data):
        """Add a version of a scoring rule (``code``): points per unit (integers), caps per person per
        Asia/Shanghai day/month, validity window. 201 with the new version; 200 with the current one when the
        body is identical to it (a replayed configuration changes nothing). Past credits keep their version.
        422: inconsistent fields (roles only for case rules, activities only for hour rules, points null only
        for appraisal). 409: an hour rule claiming an activity another rule pays for."""
        rule, created = rule_rules.add_version(db(), data, current_principal().sub)
        return rule, (201 if created else 200)


@rules.route("/<code>")
class RuleResource(MethodView):
    @rules.roles()
    @rules.response(200, RuleVersionsSchema)
    @rules.problems(404)
    def get(self, code):
        """Every version of rule ``code`` and the current one (null once retired)."""
        return {"code": code, "versions": rule_rules.versions(db(), code),
                "current": rule_rules.current_version(db(), code)}


@rules.route("/<code>/retirement")
class RetirementResource(MethodView):
    @rules.roles("admin")
    @rules.arguments(RetireSchema)
    @command
    @rules.response(200, RuleSchema)
    @rules.problems(404, 409)
    def post(self, data, code):
        """Retire rule ``code`` from ``retired_at`` (default now): work done from then on earns nothing under
        it; earlier work still does. 404 unknown code; 409 already retired."""
        return rule_rules.retire(db(), code, data.get("retired_at"), current_principal().sub)


__all__ = ["rules", "STAFF"]
