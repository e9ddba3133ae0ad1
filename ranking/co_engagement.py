"""Co-engagement from the event log: which products shoppers opened together in one session
("also looked at") and carted together ("goes well with"), as item-to-item similarities.

Item-kNN with shrinkage, written here rather than taken from `implicit`: measured on the
same held-out simulated sessions (`aisle eval learning`, README "Collaborative signals"),
implicit's ALS did not beat it on next-product hit rate, while item-kNN needs no training
step, updates by counting, explains itself ("opened together in 14 sessions") and can
leave one session out exactly, which the ranker's training needs (a session's own
co-views must not become a feature of that session's labels).

    sim(i, j) = c_ij / sqrt(n_i · n_j) · c_ij / (c_ij + shrink)

c_ij: sessions that engaged with both; n_i: sessions that engaged with i. The second
factor (Koren's shrinkage) keeps a pair seen in one session from outranking one seen in
fifty."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from itertools import combinations
from pathlib import Path

from pydantic import BaseModel, Field

from .events import Event

VIEW_KINDS = ("click", "cart_add")  # opened, or carted (a cart add is a look too)
SHRINK = 5.0


class SessionItems(BaseModel):
    """One session's products: what a training query's features must not count (its own
    looks would tell its own labels)."""

    viewed: set[str] = Field(default_factory=set)  # opened or carted
    carted: set[str] = Field(default_factory=set)
    clicked: set[str] = Field(default_factory=set)
    shown: set[str] = Field(default_factory=set)


def sessions_of(events: Iterable[Event]) -> dict[str, SessionItems]:
    """Per session, the products shown, opened, carted."""
    out: dict[str, SessionItems] = {}
    for e in events:
        if not e.product_id or e.kind not in (*VIEW_KINDS, "impression"):
            continue
        s = out.setdefault(e.session, SessionItems())
        if e.kind == "impression":
            s.shown.add(e.product_id)
            continue
        s.viewed.add(e.product_id)
        (s.carted if e.kind == "cart_add" else s.clicked).add(e.product_id)
    return out


class Counts(BaseModel):
    """One kind of co-engagement: per product the sessions it occurs in, per pair the
    sessions both occur in (kept both ways, so a product's neighbours are one lookup)."""

    single: dict[str, int] = Field(default_factory=dict)
    pairs: dict[str, dict[str, int]] = Field(default_factory=dict)

    def add(self, items: set[str]) -> None:
        for i in items:
            self.single[i] = self.single.get(i, 0) + 1
        for i, j in combinations(sorted(items), 2):
            row_i, row_j = self.pairs.setdefault(i, {}), self.pairs.setdefault(j, {})
            row_i[j] = row_i.get(j, 0) + 1
            row_j[i] = row_j.get(i, 0) + 1

    def together(self, i: str, j: str, own: set[str] = frozenset()) -> int:
        c = self.pairs.get(i, {}).get(j, 0)
        return c - 1 if c and i in own and j in own else c

    def similarity(self, i: str, j: str, own: set[str] = frozenset()) -> float:
        """`own`: one session's items, left out of the counts (leave-one-session-out)."""
        c = self.together(i, j, own)
        if c <= 0:
            return 0.0
        n_i = self.single.get(i, 0) - (i in own)
        n_j = self.single.get(j, 0) - (j in own)
        return c / math.sqrt(max(n_i, 1) * max(n_j, 1)) * c / (c + SHRINK)

    def neighbours(self, i: str, k: int) -> list[tuple[str, float, int]]:
        """(product, similarity, sessions together), best first."""
        row = self.pairs.get(i, {})
        scored = [(j, self.similarity(i, j), c) for j, c in row.items()]
        return sorted(scored, key=lambda t: (-t[1], t[0]))[:k]


class CoEngagement(BaseModel):
    viewed: Counts = Field(default_factory=Counts)
    carted: Counts = Field(default_factory=Counts)
    sessions: int = 0
    counted: set[str] = Field(default_factory=set)  # their ids: which a query may leave out
    events: int = 0
    first: datetime | None = None  # the window of events counted
    last: datetime | None = None

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> CoEngagement:
        co = cls()
        seen: list[Event] = []
        for e in events:
            if e.product_id and e.kind in VIEW_KINDS:
                seen.append(e)
                co.first = min(co.first, e.at) if co.first else e.at
                co.last = max(co.last, e.at) if co.last else e.at
        for session, items in sessions_of(seen).items():  # (impressions kept out: no looks)
            co.viewed.add(items.viewed)
            co.carted.add(items.carted)
            co.sessions += 1
            co.counted.add(session)
        co.events = len(seen)
        return co

    def popularity(self, product_id: str) -> int:
        """Sessions that opened or carted it."""
        return self.viewed.single.get(product_id, 0)

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.model_dump_json())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> CoEngagement | None:
        return cls.model_validate_json(path.read_text()) if path.is_file() else None
