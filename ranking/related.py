"""Item-to-item suggestions: "shoppers who looked at this also looked at" (co-views in
sessions) and "goes well with" (co-carted products of another kind), from the event log
(ranking/co_engagement.py), filled from the products' content where behaviour says too
little: a product nobody has opened yet, or a shop with an empty log, gets the products
nearest to it in text (and photo, where both have one), the same kind left out for "goes
well with". Each neighbour says where it came from."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from retrieval.index import ProductIndex
from retrieval.kinds import title_kind
from retrieval.schema import Product

from .co_engagement import CoEngagement

MIN_SESSIONS = 2  # a pair seen in one session is chance, not a pattern


class Neighbour(BaseModel):
    product_id: str
    title: str
    score: float
    source: Literal["behaviour", "content"]
    sessions: int = 0  # sessions that engaged with both (behaviour)
    available: bool = True


class Related(BaseModel):
    product_id: str
    title: str
    also_viewed: list[Neighbour] = Field(default_factory=list)
    goes_with: list[Neighbour] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def kind_key(p: Product) -> str:
    """What "the same kind of product" means for a product: its primary category, or the
    kind its title names when it has none."""
    return p.category.casefold() or title_kind(p.title) or ""


class RelatedFinder:
    def __init__(self, index: ProductIndex, co: CoEngagement | None):
        self.index = index
        self.co = co or CoEngagement()

    def related(self, product_id: str, k: int = 5) -> Related:
        product = self.index.product(product_id)
        if product is None:
            raise ValueError(f"no product {product_id!r} in this catalog")
        out = Related(product_id=product.id, title=product.title)
        kind = kind_key(product)
        near = self._content(product, 4 * k + 20)
        same = [(n, p) for n, p in near if kind_key(p) == kind]
        other = [(n, p) for n, p in near if kind_key(p) != kind]
        # looked at instead: the same kind first (the other kinds are what goes with it)
        out.also_viewed = self._merge(
            self._behaviour(product, self.co.viewed, k, lambda p: True), same + other, k
        )
        out.goes_with = self._merge(
            self._behaviour(product, self.co.carted, k, lambda p: kind_key(p) != kind), other, k
        )
        if not self.co.sessions:
            out.notes.append("the event log holds no sessions yet: neighbours by content only")
        return out

    def _merge(self, behaviour: list[Neighbour], near, k: int) -> list[Neighbour]:
        """Behaviour first, then content; but a few places are kept for products nobody has
        engaged with yet among the nearest by content, or a new product would never be
        shown beside a popular one, and so never gather the looks that behaviour needs."""
        fresh = [n for n, _ in near[:k] if self.co.popularity(n.product_id) == 0]
        keep = min(len(fresh), max(1, k // 4)) if self.co.sessions else 0
        chosen = behaviour[: k - keep]
        taken = {n.product_id for n in chosen}
        for n in [*fresh[:keep], *(n for n, _ in near)]:
            if len(chosen) == k:
                break
            if n.product_id not in taken:
                chosen.append(n)
                taken.add(n.product_id)
        rank = {n.product_id: i for i, (n, _) in enumerate(near)}
        behaviour = [n for n in chosen if n.source == "behaviour"]
        content = [n for n in chosen if n.source == "content"]
        return behaviour + sorted(content, key=lambda n: rank[n.product_id])

    def _behaviour(self, product, counts, k, keep) -> list[Neighbour]:
        found = []
        for pid, score, together in counts.neighbours(product.id, 10 * k):
            if together < MIN_SESSIONS:
                continue
            p = self.index.product(pid)
            if p is None or not p.visible or not keep(p):
                continue  # gone from the catalog since it was engaged with
            found.append(
                Neighbour(
                    product_id=pid,
                    title=p.title,
                    score=round(score, 4),
                    source="behaviour",
                    sessions=together,
                    available=p.available,
                )
            )
            if len(found) == k:
                break
        return found

    def _content(self, product: Product, k: int) -> list[tuple[Neighbour, Product]]:
        """Nearest by text vector, averaged with the photo vector where both have one."""
        v = self.index.vectors
        row = self.index.row_of[product.id]
        sims = v.text @ v.text[row]
        if v.has_image[row]:
            both = v.has_image.astype(bool)
            photo = v.image_text @ v.image_text[row]
            sims = np.where(both, (sims + photo) / 2, sims)
        sims[row] = -np.inf
        rows = [int(r) for r in np.argsort(-sims)[:k]]
        return [
            (
                Neighbour(
                    product_id=p.id,
                    title=p.title,
                    score=round(float(sims[r]), 4),
                    source="content",
                    available=p.available,
                ),
                p,
            )
            for r, p in zip(rows, self.index.products(rows), strict=True)
            if p.visible
        ]
