"""The default scoring rule for resolved cases (the seed practice: 20 points per resolved case for mediators,
volunteers and building heads, once per case and person, at most 200 points a person a month). Districts
change it through the rules API; a change is a new version and never rewrites past credits.

Revision ID: 0002
Revises: 0001
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rules = sa.table("rules", sa.column("code", sa.String), sa.column("version", sa.Integer),
                     sa.column("category", sa.String), sa.column("trigger", sa.String), sa.column("unit", sa.String),
                     sa.column("points", sa.Integer), sa.column("roles", sa.JSON), sa.column("activities", sa.JSON),
                     sa.column("cap_per_person_per_month", sa.Integer), sa.column("created_by", sa.String),
                     sa.column("created_at", sa.DateTime(timezone=True)))
    op.bulk_insert(rules, [{
        "code": "dispute_mediation", "version": 1, "category": "estate_governance",
        "trigger": "disputes.case.resolved.v1", "unit": "case", "points": 20,
        "roles": ["mediator", "volunteer", "building_head"], "activities": [],
        "cap_per_person_per_month": 200, "created_by": "migration",
        "created_at": datetime(2023, 1, 1, tzinfo=timezone.utc)}])


def downgrade() -> None:
    op.execute("DELETE FROM rules WHERE code = 'dispute_mediation' AND version = 1 AND created_by = 'migration'")
