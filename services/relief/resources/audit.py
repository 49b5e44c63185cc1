"""The audit log, for auditors."""
from __future__ import annotations

from flask.views import MethodView

from shared.http import Blueprint, db
from shared.pagination import paginate

from ..domain import audit as audit_rules
from ..models import AuditEntry
from ..schemas import AuditArgs, AuditPage

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Who did what, when; reads of personal data")


@blp.route("")
class AuditLog(MethodView):
    @blp.roles("auditor", "admin")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPage)
    def get(self, args):
        """Audit entries oldest first (cursor pages), filtered by ``entity``, ``entity_id``, ``actor``, ``action``.
        Every change and every read of unmasked personal data is here; entries are never removed."""
        stmt = audit_rules.entries_stmt(args.get("entity"), args.get("entity_id"), args.get("actor"), args.get("action"))
        return paginate(db(), stmt, AuditEntry.at, AuditEntry.id, args)
