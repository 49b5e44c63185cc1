"""The campaign's public report (公开): collected, disbursed, people helped, by level and county.

Figures at any moment (``as_of``, default now): donations by their ``received_at``, disbursements **paid** by
their ``paid_on`` day, decisions by their ``decided_on`` day (Asia/Shanghai). People helped are distinct
applicants (by the keyed hash of their ID-card number) with a paid disbursement; ``people_city`` /
``people_county`` count them by the body that paid. All money exact (Decimal yuan).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.timeutil import local_day

from ..models import Application, Disbursement
from . import campaigns

ZERO = Decimal("0.00")


def campaign_report(session: Session, campaign_id: str, as_of: datetime | None = None) -> dict:
    campaign = campaigns.get(session, campaign_id)
    day = local_day(as_of) if as_of is not None else None
    donations = campaigns.donation_totals(session, campaign_id, as_of)

    paid = (select(Disbursement.level, Disbursement.county, Disbursement.amount, Application.id_number_hmac)
            .join(Application, Application.id == Disbursement.application_id)
            .where(Disbursement.campaign_id == campaign_id, Disbursement.status == "paid"))
    if day is not None:
        paid = paid.where(Disbursement.paid_on <= day)
    disbursed = {"total": ZERO, "city": ZERO, "county": ZERO}
    people: dict[str, set] = defaultdict(set)
    by_county: dict[str, dict] = defaultdict(lambda: {"donations": ZERO, "donation_count": 0, "disbursed": ZERO,
                                                      "people_helped": set()})
    for level, county, amount, person in session.execute(paid):
        disbursed["total"] += amount
        disbursed[level] += amount
        people["total"].add(person)
        people[level].add(person)
        if level == "county":
            by_county[county]["disbursed"] += amount
            by_county[county]["people_helped"].add(person)
    for county, figures in donations["by_county"].items():
        by_county[county]["donations"] = figures["amount"]
        by_county[county]["donation_count"] = figures["count"]

    decided = select(Application.status, func.count()).where(Application.campaign_id == campaign_id,
                                                              Application.status.in_(("approved", "rejected")))
    if day is not None:
        decided = decided.where(Application.decided_on <= day)
    decisions = dict(session.execute(decided.group_by(Application.status)).all())

    return {
        "campaign_id": campaign.id, "name": campaign.name, "opens_on": campaign.opens_on,
        "closes_on": campaign.closes_on, "as_of": as_of,
        "donations_total": donations["total"], "donations_city": donations["city"],
        "donations_county": donations["county"], "donations_count": donations["count"],
        "disbursed_total": disbursed["total"], "disbursed_city": disbursed["city"],
        "disbursed_county": disbursed["county"],
        "people_helped": len(people["total"]), "people_city": len(people["city"]),
        "people_county": len(people["county"]),
        "applications_approved": int(decisions.get("approved", 0)),
        "applications_rejected": int(decisions.get("rejected", 0)),
        "caring_units": [u.name for u in campaigns.caring_units(session, campaign_id)],
        "by_county": [{"county": name, "donations": f["donations"], "donation_count": f["donation_count"],
                       "disbursed": f["disbursed"], "people_helped": len(f["people_helped"])}
                      for name, f in sorted(by_county.items())],
    }
