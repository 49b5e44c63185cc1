"""``make replay DATA=<dir>``: load a scenario directory into the running system through the public HTTP APIs.

Order: the points service's rules, catalogue and merchants (so that the events the rest causes find their
rules); disputes (cases, then sessions, resolutions and evaluations in the order they happened); relief
(campaign, donations, applications through vetting and payment); jobmarket (workers, meal days and tickets,
nap beds and requests, tools); the rider's story across three services; then it waits until every service's
outbox is sent and the points service has taken every credit in, so that ``make report`` right after it
shows the settled figures.

Base URLs: ``DISPUTES_URL``, ``POINTS_URL``, ``RELIEF_URL``, ``JOBMARKET_URL`` (default localhost:8001-8004).
Tokens: ``<SERVICE>_TOKEN``, else minted locally with ``JWT_SECRET`` (the local default secret).
Safe to run again: natural references and Idempotency-Keys make a second run change nothing.
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from . import disputes, jobmarket, points, relief
from .client import ABORT, SERVICES, Api, Refused, Stopped, Where
from .data import Scenario
from .settle import settle

PARTS = ("points", "disputes", "relief", "jobmarket", "story")


def story(apis: dict[str, Api], scenario: Scenario) -> None:
    """The rider's story of points.json: hazard reports (disputes), a volunteer shift (relief), a redemption
    (points) — in the story's order, the redemption only once the credits have arrived."""
    seed = scenario.json(points.POINTS) or {}
    person = (seed.get("rider") or {}).get("person_id")
    steps = seed.get("rider_story") or []
    if not person or not steps:
        return
    for n, step in enumerate(steps):
        where = Where(points.POINTS, None, f"rider_story[{n}] {step.get('kind')}")
        kind = step.get("kind")
        if kind == "hazard_report":
            disputes.hazard_report(apis["disputes"], person, step, where)
        elif kind == "volunteer_shift":
            relief.volunteer_shift(apis["relief"], person, step, where)
        elif kind == "redemption":
            points.redemption(apis["points"], person, step, where)
        else:
            raise Refused(f"{where}: unknown kind {kind!r} (field kind)")
    print(f"{'rider story':<24} {len(steps)} steps of {person}", file=sys.stderr)


def replay(path, apis: dict[str, Api] | None = None, show: bool = True, parts=PARTS,
           settle_timeout: float = 300.0) -> float:
    """Replay the scenario at ``path``; returns the wall time in seconds. Raises :class:`Refused`."""
    started = time.monotonic()
    ABORT.clear()
    scenario = Scenario(path)
    apis = apis or {s: Api(s) for s in SERVICES}
    if "points" in parts:
        points.load(apis["points"], scenario, show)
    # the three services share nothing but the events: their parts run side by side (each has its own database)
    loaders = [(name, module.load) for name, module in (("disputes", disputes), ("relief", relief),
                                                         ("jobmarket", jobmarket)) if name in parts]
    with ThreadPoolExecutor(max_workers=len(loaders) or 1, thread_name_prefix="part") as pool:
        futures = [pool.submit(load, apis[name], scenario, show) for name, load in loaders]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # Ctrl-C: every thread stops at its next request
            ABORT.set()
            raise
        failed = [f.exception() for f in futures if f.done() and f.exception() is not None]
        if failed:
            ABORT.set()
            wait(futures)
            failed = [f.exception() for f in futures if f.exception() is not None]
            raise next((e for e in failed if not isinstance(e, Stopped)), failed[0])
    if "story" in parts:
        story(apis, scenario)
    settle(apis, timeout=settle_timeout, show=show)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make replay", description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the scenario directory, e.g. ../shared/data/seed-scenario")
    parser.add_argument("--only", help="comma-separated parts: " + ",".join(PARTS))
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (one line per part)")
    args = parser.parse_args(argv)
    parts = tuple(p.strip() for p in args.only.split(",")) if args.only else PARTS
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    try:
        seconds = replay(args.data, show=not args.no_progress, parts=parts)
    except Refused as exc:
        print(f"replay stopped: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("replay interrupted; run it again to continue (nothing is loaded twice)", file=sys.stderr)
        return 130
    print(f"replayed {args.data} in {seconds:.0f}s; `make report` shows the figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
