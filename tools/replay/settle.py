"""Waiting for the events a replay caused: every service's outbox sent (``/readyz``), then the points figures
unchanged for a few seconds (the consumer has taken every credit in)."""
from __future__ import annotations

import sys
import time

from .client import Api, Refused

QUIET_SECONDS = 3.0


def outbox_pending(api: Api) -> int | None:
    try:
        resp = api.session.get(api.base + "/readyz", timeout=10)
        outbox = resp.json().get("outbox") or {}
        return int(outbox.get("pending", 0))
    except Exception:  # noqa: BLE001 - a service without the figure is not waited for
        return None


def settle(apis: dict[str, Api], timeout: float = 300.0, show: bool = True) -> None:
    started = time.monotonic()
    deadline = started + timeout
    while True:
        pending = {name: outbox_pending(api) for name, api in apis.items()}
        if all(not n for n in pending.values()):
            break
        if time.monotonic() > deadline:
            raise Refused(f"events not sent after {timeout:.0f}s (outbox pending: {pending}); are the workers running?")
        time.sleep(0.5)
    last, quiet_since = None, time.monotonic()
    while "points" in apis:
        figures = apis["points"].get("/reports/points").body
        figures.pop("periods", None)
        if figures != last:
            last, quiet_since = figures, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_SECONDS:
            break
        if time.monotonic() > deadline:
            raise Refused(f"the points figures kept changing for {timeout:.0f}s")
        time.sleep(0.5)
    if show:
        print(f"{'events settled':<24} in {time.monotonic() - started:.1f}s", file=sys.stderr)
