"""Charity campaigns (送温暖、献爱心), donations, caring units, and totals at any moment.

Source: the seed practice — the civil-affairs bureau's yearly campaign collects donations at city and county
level; the organisations that gave most are honoured as caring units. Donations are history: each carries its
own ``received_at``, which must fall inside the campaign's period (Asia/Shanghai days).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import local_day, to_local, utcnow

from ..models import Campaign, CaringUnit, Donation
from . import audit, funds

DONOR_KINDS = ("individual", "organisation")
ZERO = Decimal("0.00")


def create(session: Session, data: dict, actor: str) -> Campaign:
    """A campaign: ``name``, ``opens_on``–``closes_on`` (dates), ``levels`` (city, county), ``notice_days``.

    422 if the period ends before it opens. 409 if ``ref`` is taken.
    """
    if data["closes_on"] < data["opens_on"]:
        raise Unprocessable("The campaign closes before it opens.", errors=field_error("closes_on", "Before opens_on."))
    if data.get("ref") and session.scalar(select(Campaign.id).where(Campaign.ref == data["ref"])):
        raise Conflict("A campaign with this ref exists.", code="duplicate-ref")
    campaign = Campaign(id=uuid7(), ref=data.get("ref"), name=data["name"], opens_on=data["opens_on"],
                        closes_on=data["closes_on"], levels=list(dict.fromkeys(data.get("levels") or funds.LEVELS)),
                        notice_days=data.get("notice_days", 7), created_by=actor, created_at=utcnow())
    session.add(campaign)
    session.flush()
    audit.record(session, actor, "campaign.created", "campaign", campaign.id,
                 {k: getattr(campaign, k) for k in ("name", "opens_on", "closes_on", "levels", "notice_days")})
    return campaign


def get(session: Session, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


def check_place(campaign: Campaign, level: str, county: str | None) -> None:
    """A level the campaign collects at; a county named exactly when the level is county (422 otherwise)."""
    if level not in campaign.levels:
        raise Unprocessable(f"This campaign does not collect at {level} level.",
                            errors=field_error("level", f"One of {', '.join(campaign.levels)}."))
    if level == "county" and not county:
        raise Unprocessable("A county-level record names its county.", errors=field_error("county", "Required for level county."))
    if level == "city" and county:
        raise Unprocessable("A city-level record names no county.", errors=field_error("county", "Only for level county."))


def record_donation(session: Session, campaign_id: str, data: dict, actor: str) -> tuple[Donation, bool]:
    """Record a donation; returns ``(donation, created)``.

    ``data``: ``receipt_no``, ``donor`` {kind, name, person_id?, caring_unit?}, ``level``, ``county``,
    ``amount`` (yuan, Decimal > 0), ``received_at`` (aware). The receipt number is the natural key: the same
    receipt again changes nothing and returns the first record (``created`` False), so an overlapping list can
    be imported twice. Adds the amount to the body's funds, publishes ``relief.donation.received.v1``.
    422: level/county not fitting the campaign, received outside its period, ``caring_unit`` on an individual.
    409: the receipt number belongs to another campaign.
    """
    existing = session.scalars(select(Donation).where(Donation.receipt_no == data["receipt_no"])).first()
    if existing is not None:
        if existing.campaign_id != campaign_id:
            raise Conflict("This receipt number is recorded in another campaign.", code="duplicate-receipt")
        return existing, False
    campaign = get(session, campaign_id)
    level, county = data["level"], data.get("county")
    check_place(campaign, level, county)
    day = local_day(data["received_at"])
    if not (campaign.opens_on <= day <= campaign.closes_on):
        raise Unprocessable("The donation was received outside the campaign's period.",
                            errors=field_error("received_at", f"Between {campaign.opens_on} and {campaign.closes_on}."))
    donor = data["donor"]
    if donor.get("caring_unit") and donor["kind"] != "organisation":
        raise Unprocessable("Only an organisation can be a caring unit.",
                            errors=field_error("donor.caring_unit", "Only for kind organisation."))
    donation = Donation(id=uuid7(), campaign_id=campaign_id, receipt_no=data["receipt_no"], ref=data.get("ref"),
                        donor_kind=donor["kind"], donor_name=donor["name"], donor_person_id=donor.get("person_id"),
                        level=level, county=county if level == "county" else None, amount=data["amount"],
                        received_at=data["received_at"], note=data.get("note"), created_by=actor, created_at=utcnow())
    try:
        with session.begin_nested():  # a twin in flight with the same receipt number commits first
            session.add(donation)
            session.flush()
    except IntegrityError:
        existing = session.scalars(select(Donation).where(Donation.receipt_no == data["receipt_no"])).first()
        if existing is None or existing.campaign_id != campaign_id:
            raise
        return existing, False
    funds.add_donation(session, campaign_id, level, donation.county, donation.amount)
    audit.record(session, actor, "donation.recorded", "donation", donation.id,
                 {"receipt_no": donation.receipt_no, "level": level, "county": donation.county,
                  "amount": donation.amount, "donor_kind": donation.donor_kind})
    if donor.get("caring_unit"):
        recognise(session, campaign_id, {"name": donor["name"]}, actor)
    outbox.publish(session, "relief.donation.received.v1", {
        "donation_id": donation.id, "campaign_id": campaign_id, "level": level, "county": donation.county,
        "amount": str(donation.amount), "received_at": to_local(donation.received_at).isoformat(),
        "donor_kind": donation.donor_kind, "receipt_no": donation.receipt_no,
    }, subject=f"donations/{donation.id}", time=donation.received_at)
    return donation, True


def donations_stmt(campaign_id: str, level: str | None = None, county: str | None = None):
    stmt = select(Donation).where(Donation.campaign_id == campaign_id)
    if level:
        stmt = stmt.where(Donation.level == level)
    if county:
        stmt = stmt.where(Donation.county == county)
    return stmt


def recognise(session: Session, campaign_id: str, data: dict, actor: str) -> CaringUnit:
    """Honour an organisation as a caring unit of the campaign (idempotent by name).

    422 unless the organisation has a donation recorded in the campaign under exactly that name.
    """
    get(session, campaign_id)
    name = data["name"]
    unit = session.scalars(select(CaringUnit).where(CaringUnit.campaign_id == campaign_id,
                                                    CaringUnit.name == name)).first()
    if unit is not None:
        return unit
    gave = session.scalar(select(Donation.id).where(Donation.campaign_id == campaign_id, Donation.donor_name == name,
                                                    Donation.donor_kind == "organisation").limit(1))
    if gave is None:
        raise Unprocessable("No donation from this organisation is recorded in the campaign.",
                            errors=field_error("name", "Not an organisation donor of this campaign."))
    unit = CaringUnit(campaign_id=campaign_id, name=name, citation=data.get("citation"), recognised_by=actor,
                      created_at=utcnow())
    session.add(unit)
    session.flush()
    audit.record(session, actor, "caring_unit.recognised", "campaign", campaign_id, {"name": name})
    return unit


def caring_units(session: Session, campaign_id: str) -> list[CaringUnit]:
    return list(session.scalars(select(CaringUnit).where(CaringUnit.campaign_id == campaign_id)
                                .order_by(CaringUnit.id)).all())


def organisation_ranking(session: Session, campaign_id: str, limit: int) -> list[dict]:
    """Organisations by the total they gave in the campaign, largest first (to choose caring units)."""
    totals: dict[str, list] = defaultdict(lambda: [ZERO, 0])
    for name, amount in session.execute(select(Donation.donor_name, Donation.amount).where(
            Donation.campaign_id == campaign_id, Donation.donor_kind == "organisation")):
        totals[name][0] += amount
        totals[name][1] += 1
    recognised = {u.name for u in caring_units(session, campaign_id)}
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [{"name": n, "total": t, "donations": c, "caring_unit": n in recognised} for n, (t, c) in ranked]


def donation_totals(session: Session, campaign_id: str, as_of: datetime | None = None) -> dict:
    """Donations received up to ``as_of`` (default: all), exact yuan, by level and by county.

    ``{"total", "city", "county", "count", "by_county": {name: {"amount", "count"}}}``.
    """
    stmt = select(Donation.level, Donation.county, Donation.amount).where(Donation.campaign_id == campaign_id)
    if as_of is not None:
        stmt = stmt.where(Donation.received_at <= as_of)
    out = {"total": ZERO, "city": ZERO, "county": ZERO, "count": 0, "by_county": defaultdict(lambda: [ZERO, 0])}
    for level, county, amount in session.execute(stmt):
        out["total"] += amount
        out[level] += amount
        out["count"] += 1
        if level == "county":
            out["by_county"][county][0] += amount
            out["by_county"][county][1] += 1
    out["by_county"] = {k: {"amount": v[0], "count": v[1]} for k, v in sorted(out["by_county"].items())}
    return out
