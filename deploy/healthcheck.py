#!/usr/bin/env python3
"""Container health checks (standard library only), run by docker-compose.yml's ``healthcheck`` entries.

    python deploy/healthcheck.py web      exit 0 when GET http://127.0.0.1:$PORT/readyz answers 2xx
    python deploy/healthcheck.py worker   exit 0 when $WORKER_HEARTBEAT_FILE was touched less than
                                          $WORKER_HEARTBEAT_MAX_AGE seconds ago (default 60)

The worker's main thread touches its heartbeat file every second while its relay, consumer and scheduler
threads are all alive (shared.worker). When one of them dies the worker removes the file and exits 1 (compose
restarts it); a worker whose main thread hangs stops touching it and turns unhealthy. A worker that lost its
broker and is reconnecting stays healthy: its threads are alive and retrying (outbox lag, on /metrics, shows it).
Prints one line saying why when it fails.
"""
from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request


def check_web(timeout: float = 4.0) -> str | None:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url} did not answer: {exc}"


def check_worker() -> str | None:
    path = os.environ.get("WORKER_HEARTBEAT_FILE", "/tmp/worker-heartbeat")
    max_age = float(os.environ.get("WORKER_HEARTBEAT_MAX_AGE") or 60)
    try:
        age = time.time() - os.path.getmtime(path)
    except OSError:
        return f"no heartbeat file {path}"
    return None if age < max_age else f"heartbeat {path} is {age:.0f}s old (limit {max_age:.0f}s)"


def main(argv: list[str]) -> int:
    checks = {"web": check_web, "worker": check_worker}
    if len(argv) != 1 or argv[0] not in checks:
        print("usage: healthcheck.py web|worker", file=sys.stderr)
        return 2
    problem = checks[argv[0]]()
    if problem:
        print(problem)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
