"""The one reader of a shop's JSONL eval files (scripts, conversations): every bad line is
named with its number and what is wrong, all together, and nothing is skipped silently."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

T = TypeVar("T")
SHOWN = 10  # bad lines listed in the error (the count says how many more)


def read_jsonl(path: Path, parse: Callable[[Any, int], T], what: str) -> list[T]:
    """`parse(row, line_number)` turns one decoded line into a record, raising ValueError
    (pydantic's included) for a bad one. Raises ValueError naming every bad line, or when
    the file is missing or holds no record."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} not found: {path}")
    out, bad = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(parse(json.loads(line), number))
        except json.JSONDecodeError as exc:
            bad.append(f"line {number}: not valid JSON: {exc.msg}")
        except ValidationError as exc:
            why = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors()
            )
            bad.append(f"line {number}: {why}")
        except ValueError as exc:
            bad.append(f"line {number}: {' '.join(str(exc).split())[:200]}")
    if bad:
        more = f" (and {len(bad) - SHOWN} more)" if len(bad) > SHOWN else ""
        raise ValueError(f"{path}: {len(bad)} bad line(s): {'; '.join(bad[:SHOWN])}{more}")
    if not out:
        raise ValueError(f"{path}: no {what} in it")
    return out
