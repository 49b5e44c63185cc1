"""The compatibility guard: a released event type never changes in a way that breaks a subscriber.

    python -m shared.events.compat           # exit 1 and list the breaking changes, if any
    python -m shared.events.compat --freeze  # release new types: copy schemas missing from their baseline

Each released schema is kept, as it was released, in ``docs/events/v<N>-baseline/<type>.json`` (N = the type's
major version). Within a version fields are only ever added (EVENTS.md), so compared with its baseline a
current schema may only:

- add an *optional* property (at any nesting level),
- add values to an ``enum`` (subscribers read code fields tolerantly),
- change annotations (``title``, ``description``, ``examples``, ``x-subject``...).

Anything else breaks someone: a subscriber that reads a field (removed property, retyped field, field no longer
required, a changed format, pattern or bound) or a subscriber replaying the archive with the current schema
(a property newly required, a narrowed enum, a tightened bound reject events already published). A removed
type file is breaking too. The fix for a needed breaking change is a new type (``.v2``) alongside the old one.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from shared.events import SCHEMA_DIR

REPO = Path(__file__).resolve().parents[2]
BASELINE_ROOT = REPO / "docs" / "events"
ANNOTATIONS = {"title", "description", "examples", "default", "deprecated", "$comment", "$schema", "$id"}
HANDLED = {"properties", "required", "items", "enum", "additionalProperties"}


def _is_annotation(keyword: str) -> bool:
    return keyword in ANNOTATIONS or (keyword.startswith("x-") and keyword != "x-producer")


def breaking_changes(old: dict, new: dict, path: str = "data") -> list[str]:
    """Every change from schema ``old`` to schema ``new`` that would break a subscriber, as readable lines.

    ``additionalProperties`` is ignored: consumers validate tolerantly (``shared.events.validate_data(strict=False)``).
    """
    problems = []
    for keyword in sorted((set(old) | set(new)) - HANDLED):
        if not _is_annotation(keyword) and old.get(keyword) != new.get(keyword):
            problems.append(f"{path}: {keyword} changed from {old.get(keyword)!r} to {new.get(keyword)!r}")
    if "enum" in old or "enum" in new:
        if "enum" not in old:
            problems.append(f"{path}: enum added {new['enum']!r} (narrows the accepted values)")
        elif "enum" not in new:
            problems.append(f"{path}: enum removed (a subscriber can no longer rely on its values)")
        else:
            removed = [v for v in old["enum"] if v not in new["enum"]]
            if removed:
                problems.append(f"{path}: enum values removed {removed!r}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"{path}.{name}: property removed")
        else:
            problems += breaking_changes(old_props[name], new_props[name], f"{path}.{name}")
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    problems += [f"{path}.{name}: newly required" for name in sorted(new_req - old_req)]
    problems += [f"{path}.{name}: no longer required" for name in sorted(old_req - new_req)]
    if isinstance(old.get("items"), dict) or isinstance(new.get("items"), dict):
        problems += breaking_changes(old.get("items") or {}, new.get("items") or {}, f"{path}[]")
    return problems


def baseline_dir(event_type: str) -> Path:
    """``docs/events/v<N>-baseline`` for a type ending in ``.v<N>``."""
    major = re.search(r"\.v(\d+)$", event_type)
    if not major:
        raise ValueError(f"{event_type}: an event type must end in its major version (.v1)")
    return BASELINE_ROOT / f"v{major.group(1)}-baseline"


def check_catalogue(baseline_dirs: list[Path], current_dir: Path = SCHEMA_DIR) -> list[str]:
    """Breaking changes of every schema in ``current_dir`` against the released copies in ``baseline_dirs``."""
    problems = []
    for directory in baseline_dirs:
        for released in sorted(directory.glob("*.json")):
            current = current_dir / released.name
            if not current.exists():
                problems.append(f"{released.stem}: type removed (its schema file is gone)")
                continue
            old, new = (json.loads(p.read_text(encoding="utf-8")) for p in (released, current))
            problems += [f"{released.stem}: {line}" for line in breaking_changes(old, new)]
    return problems


def all_baseline_dirs() -> list[Path]:
    return sorted(BASELINE_ROOT.glob("v*-baseline"))


def freeze(current_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Copy every current schema not yet in its baseline (a newly released type); never overwrite one."""
    written = []
    for schema in sorted(current_dir.glob("*.json")):
        target = baseline_dir(schema.stem) / schema.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(schema, target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freeze", action="store_true", help="copy newly released types into their baseline")
    args = parser.parse_args(argv)
    if args.freeze:
        for path in freeze():
            print(f"released {path.relative_to(REPO)}")
    problems = check_catalogue(all_baseline_dirs())
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("breaking changes: publish a new major version (.v2) instead", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
