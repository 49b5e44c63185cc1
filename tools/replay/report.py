"""``make report``: the published figures, read only from the services' report endpoints.

Prints one JSON document (stdout) with the keys of a scenario's ``expected.json`` — disputes from
``GET /statistics``, relief from the public campaign report, jobmarket from ``GET /reports/summary``, points
from ``GET /reports/points`` — and the same figures as a table (stderr). No data directory is read.
Relief: the campaign named by ``CAMPAIGN`` (ref or id), else the only one, else the newest.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .client import SERVICES, Api, Refused

#: the figures of each section, by the name the report endpoints give them
FIGURES = {
    "disputes": ("sessions", "resolved", "resolved_by_category", "open", "reopened"),
    "relief": ("donations_total", "donations_city", "donations_county", "disbursed_total", "disbursed_city",
               "disbursed_county", "people_helped", "people_city", "people_county", "applications_rejected",
               "caring_units"),
    "jobmarket": ("meals_served", "meal_price", "meal_cost", "subsidy_total", "days", "busiest_day_meals",
                  "days_over_30", "nap_beds", "nap_requests", "nap_accepted", "nap_refused"),
    "points": ("issued_by_rule", "issued_total", "redeemed_total", "redemptions", "outstanding_total",
               "catalogue_stock", "merchants"),
}


def pick(source: dict, section: str) -> dict:
    missing = [k for k in FIGURES[section] if k not in source]
    if missing:
        raise Refused(f"the {section} report has no {', '.join(missing)}")
    return {k: source[k] for k in FIGURES[section]}


def campaign_report(api: Api) -> dict:
    campaigns = api.items("/public/campaigns")
    if not campaigns:
        return {k: None for k in FIGURES["relief"]}
    wanted = os.environ.get("CAMPAIGN")
    if wanted:
        chosen = next((c for c in campaigns if wanted in (c.get("ref"), c.get("id"))), None)
        if chosen is None:
            raise Refused(f"relief has no campaign {wanted!r}")
    else:
        chosen = campaigns[-1]
        if len(campaigns) > 1:
            print(f"report: {len(campaigns)} campaigns; showing the newest, {chosen.get('ref') or chosen['id']} "
                  f"(CAMPAIGN=<ref> picks another)", file=sys.stderr)
    return api.get(f"/public/campaigns/{chosen['id']}/report").body


def collect(apis: dict[str, Api] | None = None) -> dict:
    """The figures as one document (the shape of expected.json)."""
    apis = apis or {s: Api(s) for s in SERVICES}
    return {
        "disputes": pick(apis["disputes"].get("/statistics").body, "disputes"),
        "relief": pick(campaign_report(apis["relief"]), "relief"),
        "jobmarket": pick(apis["jobmarket"].get("/reports/summary").body, "jobmarket"),
        "points": pick(apis["points"].get("/reports/points").body, "points"),
    }


def _value(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        from decimal import Decimal, InvalidOperation
        try:
            return f"{Decimal(value):,.2f}"
        except InvalidOperation:
            return value
    return str(value)


def _rows(prefix: str, value) -> list[tuple[str, str]]:
    """``(figure, value)`` lines: a mapping's entries one per line, a list's length then one item per line."""
    if isinstance(value, dict):
        rows = []
        for k, v in value.items():
            rows.extend(_rows(f"{prefix}.{k}" if prefix else k, v))
        return rows
    if isinstance(value, list):
        return [(prefix, f"{len(value):,}")] + [("", f"  {item}") for item in value]
    return [(prefix, _value(value))]


def table(document: dict) -> str:
    """The figures as a table: section, figure, value (numbers right-aligned, yuan with two decimals)."""
    sections = {section: _rows("", figures) for section, figures in document.items()}
    width = max((len(name) for rows in sections.values() for name, _ in rows), default=0)
    lines = []
    for section, rows in sections.items():
        lines.append(section)
        for name, value in rows:
            lines.append(f"  {name:<{width}}  {value:>14}" if name else f"  {'':<{width}}  {value.strip()}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make report", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="only the JSON document")
    args = parser.parse_args(argv)
    try:
        document = collect()
    except Refused as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(document, ensure_ascii=False, indent=1))
    sys.stdout.flush()
    if not args.json:
        print(table(document), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
