"""Reading a scenario directory: JSON Lines files with their line numbers, and JSON documents."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Record:
    file: str
    line: int
    data: dict

    def __getitem__(self, key):
        return self.data[key]

    def get(self, key, default=None):
        return self.data.get(key, default)


class Scenario:
    """A directory of the seed scenario's shape (see its README.md). Absent files are absent parts."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise SystemExit(f"replay: {self.path} is not a directory")

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    def jsonl(self, name: str) -> list[Record]:
        if not self.has(name):
            return []
        out = []
        with open(self.path / name, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    out.append(Record(name, number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"replay: {name} line {number} is not JSON: {exc.msg}") from None
        return out

    def json(self, name: str) -> dict | None:
        if not self.has(name):
            return None
        try:
            return json.loads((self.path / name).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SystemExit(f"replay: {name} is not JSON (line {exc.lineno}): {exc.msg}") from None

    def text(self, name: str) -> str:
        return (self.path / name).read_text(encoding="utf-8") if self.has(name) else ""
