"""HTTP to the four services: base URLs and tokens from the environment, keep-alive sessions, problem+json
errors turned into one clear message naming the record and the field, a progress bar, a thread pool.

Nothing here knows a business rule: it moves JSON over HTTP and says what was refused.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import requests
from requests.adapters import HTTPAdapter

SERVICES = ("disputes", "points", "relief", "jobmarket")
DEFAULT_PORTS = {"disputes": 8001, "points": 8002, "relief": 8003, "jobmarket": 8004}
#: the roles the loader's token carries in each service: the staff who record history there
ROLES = {
    "disputes": ["mediator", "supervisor", "grid_worker"],   # sessions and resolutions, the evaluation desk, hazards
    "points": ["admin", "clerk"],                            # scoring rules (admin); catalogue, merchants, counter
    "relief": ["clerk", "community_staff"],                  # campaign, vetting, payments; volunteer shifts
    "jobmarket": ["market_staff"],
}
LOADER_SUB = os.environ.get("REPLAY_SUB", "seed-loader")
#: requests in flight per service: as many as `make run`'s gunicorn serves at once (2 workers x 4 threads);
#: SQLite serialises the writes, but reading, validating and answering overlap
POOL = int(os.environ.get("REPLAY_THREADS", "8"))


class Refused(Exception):
    """A record the system refused (or that disagrees with what is stored): the message names it."""


class Stopped(Refused):
    """Another part of the replay was refused: this one stops too (its message is not the news)."""


#: set when any part of the replay fails: every other thread stops at its next request
ABORT = threading.Event()


@dataclass(frozen=True)
class Where:
    """Which record a request is for: ``file``, ``line`` (1-based) and its natural reference."""

    file: str
    line: int | None = None
    ref: str | None = None

    def __str__(self) -> str:
        parts = [self.file + (f" line {self.line}" if self.line else "")]
        if self.ref:
            parts.append(f"ref {self.ref}")
        return ", ".join(parts)


class Answer:
    def __init__(self, resp: requests.Response):
        self.status = resp.status_code
        self.headers = resp.headers
        try:
            self.body = resp.json()
        except ValueError:
            self.body = {"detail": resp.text[:500]}

    @property
    def code(self) -> str:
        """The problem's slug (the last part of its ``type`` URI), '' for a success."""
        kind = self.body.get("type", "") if isinstance(self.body, dict) else ""
        return kind.rstrip("/").rsplit("/", 1)[-1] if kind else ""

    def __getitem__(self, key):
        return self.body[key]

    def get(self, key, default=None):
        return self.body.get(key, default)


def describe_problem(answer: Answer) -> str:
    body = answer.body if isinstance(answer.body, dict) else {}
    text = f"{answer.status} {answer.code or body.get('title', '')}".strip()
    if body.get("detail"):
        text += f": {body['detail']}"
    for err in body.get("errors") or []:
        text += f"\n    field {err.get('field')!s} ({err.get('location', 'json')}): {err.get('message')}"
    return text


def token_for(service: str) -> str:
    """``<SERVICE>_TOKEN`` from the environment, else a local token signed with the local settings."""
    given = os.environ.get(f"{service.upper()}_TOKEN")
    if given:
        return given
    from shared import config
    from shared.auth import issue
    settings = config.load(service)
    ttl = int(os.environ.get("REPLAY_TOKEN_TTL", "21600"))
    return issue(LOADER_SUB, ROLES[service], secret=settings.jwt_secret, algorithm=settings.jwt_algorithm, ttl=ttl,
                 issuer=settings.jwt_issuer, audience=settings.jwt_audience)


def base_url(service: str) -> str:
    return (os.environ.get(f"{service.upper()}_URL") or f"http://localhost:{DEFAULT_PORTS[service]}").rstrip("/")


class Api:
    """One service: a keep-alive session (pooled for the loader's threads) and its bearer token."""

    RETRY_STATUSES = {502, 503, 504}

    def __init__(self, service: str, base: str | None = None, token: str | None = None, pool: int = POOL):
        self.service = service
        self.base = (base or base_url(service)).rstrip("/")
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool, 4) * 2)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Authorization"] = "Bearer " + (token or token_for(service))
        self.session.headers["Accept"] = "application/json"

    def request(self, method: str, path: str, *, body: Any = None, params: dict | None = None,
                key: str | None = None) -> Answer:
        """One call; retried on connection errors, 502-504 and an Idempotency-Key still in flight."""
        if ABORT.is_set():
            raise Stopped("stopped")
        url = self.base + "/api/v1" + path
        headers = {"Idempotency-Key": key} if key else None
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
            headers = {**(headers or {}), "Content-Type": "application/json"}
        delay = 0.2
        for attempt in range(8):
            try:
                resp = self.session.request(method, url, data=data, params=params, headers=headers, timeout=60)
            except requests.ConnectionError as exc:
                if attempt == 7:
                    raise Refused(f"{self.service} at {self.base} does not answer ({exc.__class__.__name__}); "
                                  f"is `make run` running?") from None
            else:
                answer = Answer(resp)
                retry = answer.status in self.RETRY_STATUSES or (
                    answer.status == 409 and answer.code == "idempotency-key-in-flight")
                if not retry or attempt == 7:
                    return answer
            time.sleep(delay)
            delay = min(delay * 2, 3.0)
        raise AssertionError("unreachable")

    def get(self, path: str, params: dict | None = None, where: Where | None = None, ok=(200,)) -> Answer:
        answer = self.request("GET", path, params=params)
        if answer.status not in ok:
            raise Refused(f"{self.service} GET {path} for {where or 'the loader'}: {describe_problem(answer)}")
        return answer

    def items(self, path: str, params: dict | None = None) -> list[dict]:
        """Every item of a cursor-paginated list."""
        params = dict(params or {}, limit=200)
        out = []
        while True:
            page = self.get(path, params).body
            out.extend(page["items"])
            if not page.get("next_cursor"):
                return out
            params["cursor"] = page["next_cursor"]

    def post(self, path: str, body: dict, where: Where, step: str, *, key: str | None = None,
             ok=(200, 201), tolerate: Iterable[str] = (), method: str = "POST") -> Answer:
        """POST ``body``; a status outside ``ok`` whose problem slug is not in ``tolerate`` stops the replay with
        a message naming the record (``where``), the step and the fields the service named."""
        answer = self.request(method, path, body=body, key=key)
        if answer.status in ok or answer.code in set(tolerate):
            return answer
        raise Refused(f"{self.service} refused {where} ({step}):\n    {method} {path}\n    {describe_problem(answer)}")


def idem_key(*parts: Any) -> str:
    """A deterministic Idempotency-Key (ASCII: header values are Latin-1) of the record and step."""
    raw = "replay:" + ":".join(str(p) for p in parts)
    safe = raw.encode("ascii", "backslashreplace").decode("ascii")
    if len(safe) <= 200:
        return safe
    import hashlib
    return safe[:150] + ":" + hashlib.sha256(raw.encode()).hexdigest()[:40]


# --- progress and parallel work -------------------------------------------------------------------------

class Progress:
    """A tqdm bar (counts and rate) on stderr; a plain line per section when tqdm is missing or disabled."""

    def __init__(self, label: str, total: int, enabled: bool = True):
        self.label, self.total, self.count = label, total, 0
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=f"{label:<24}", unit="rec", file=sys.stderr, dynamic_ncols=True,
                                smoothing=0.1, mininterval=0.5, disable=None)
            except ImportError:  # pragma: no cover - tqdm is a runtime requirement
                self.bar = None

    def update(self, n: int = 1) -> None:
        with self.lock:
            self.count += n
            if self.bar is not None:
                self.bar.update(n)

    def close(self) -> float:
        seconds = time.monotonic() - self.started
        if self.bar is not None:
            self.bar.close()
        if self.bar is None or self.bar.disable:
            rate = self.count / seconds if seconds else 0.0
            print(f"{self.label:<24} {self.count}/{self.total} records in {seconds:.1f}s ({rate:.0f}/s)",
                  file=sys.stderr, flush=True)
        return seconds


def run_parallel(fn: Callable[[Any], Any], items: list, progress: Progress, threads: int = POOL,
                 weight: Callable[[Any], int] = lambda _: 1) -> None:
    """``fn(item)`` for every item on ``threads`` threads; the first failure stops the rest and is raised."""
    if not items:
        return
    stop = threading.Event()

    def task(item):
        if stop.is_set():
            return
        try:
            fn(item)
        except BaseException:
            stop.set()
            raise
        progress.update(weight(item))

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="replay") as pool:
        futures = [pool.submit(task, item) for item in items]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # Ctrl-C: no new request from any thread, nothing queued starts
            ABORT.set()
            raise
        finally:
            for f in futures:
                f.cancel()
        for f in futures:
            if f.done() and not f.cancelled() and f.exception() is not None:
                raise f.exception()
