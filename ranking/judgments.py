"""Judged (query, product, grade) pairs: the one format every source of training and
evaluation data is turned into.

One JSON object per line:

    {"query": "<what a shopper typed>", "product_id": "<id>", "grade": 2}

- `grade`: 0 not relevant, 1 partly (right kind, misses something asked), 2 relevant,
  3 exactly what was asked for.
- optional `query_id` (pairs with the same id belong to one query; default: the query
  text), `weight` (> 0, default 1: e.g. inverse propensity for feedback-derived pairs),
  `source` ("judged", "synthetic", "feedback"), `history` (ids of products the shopper
  had opened or carted earlier in the session: what personalisation learns from).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from retrieval.schema import RowError

MAX_GRADE = 3


class Judgment(BaseModel):
    query: str = Field(min_length=1)
    product_id: str = Field(min_length=1)
    grade: int = Field(ge=0, le=MAX_GRADE)
    query_id: str = ""
    weight: float = Field(1.0, gt=0)
    source: str = "judged"
    history: list[str] = Field(default_factory=list)  # products the shopper engaged with before
    session: str = ""  # the (pseudonymous) session a feedback pair came from

    @field_validator("query", "product_id")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("grade", mode="before")
    @classmethod
    def _whole(cls, value):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number from 0 to 3")
        return value

    @property
    def qid(self) -> str:
        return self.query_id or self.query


class JudgmentsFileError(ValueError):
    pass


def load_judgments(
    path: Path, known_products: Iterable[str] | None = None
) -> tuple[list[Judgment], list[RowError]]:
    """Every good row, and each bad one with its line number and what is wrong; a product
    id the catalog does not have is a bad row when `known_products` is given."""
    path = Path(path)
    if not path.is_file():
        raise JudgmentsFileError(f"judged-pairs file not found: {path}")
    known = set(known_products) if known_products is not None else None
    good, bad = [], []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
                j = Judgment.model_validate(row)
            except json.JSONDecodeError as exc:
                bad.append(RowError(line=line_no, reason=f"not valid JSON: {exc.msg}"))
                continue
            except ValidationError as exc:
                reason = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors()
                )
                bad.append(RowError(line=line_no, reason=reason))
                continue
            except ValueError as exc:
                bad.append(RowError(line=line_no, reason=str(exc)))
                continue
            if known is not None and j.product_id not in known:
                bad.append(
                    RowError(
                        line=line_no,
                        reason=f"product {j.product_id!r} is not in the catalog",
                        product_id=j.product_id,
                    )
                )
                continue
            good.append(j)
    return good, bad


def save_judgments(judgments: Iterable[Judgment], path: Path) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for j in judgments:
            f.write(j.model_dump_json(exclude_defaults=True) + "\n")
            n += 1
    return n


def by_query(judgments: Iterable[Judgment]) -> dict[str, dict[str, int]]:
    """query id → {product id: grade} (the highest grade when a pair repeats)."""
    out: dict[str, dict[str, int]] = {}
    for j in judgments:
        row = out.setdefault(j.qid, {})
        row[j.product_id] = max(row.get(j.product_id, 0), j.grade)
    return out
