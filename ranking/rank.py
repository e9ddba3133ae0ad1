"""The ranking interface. Without a trained ranker (`aisle train-ranker`),
`RetrievalOrderRanker` keeps the hybrid retrieval order."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from retrieval.schema import Candidate, Product, SignalScore, Variant


class RankedItem(BaseModel):
    product: Product
    score: float
    signals: dict[str, SignalScore] = Field(default_factory=dict)
    matching_variants: list[Variant] = Field(default_factory=list)
    ranker: str = "retrieval-order"


class Ranker(Protocol):
    name: str

    def rank(
        self, query: str, candidates: list[Candidate], history: list[Product] | tuple = ()
    ) -> list[RankedItem]:
        """`history`: products this shopper engaged with earlier in the session."""
        ...


class RetrievalOrderRanker:
    name = "retrieval-order"

    def rank(
        self, query: str, candidates: list[Candidate], history: list[Product] | tuple = ()
    ) -> list[RankedItem]:
        return [
            RankedItem(
                product=c.product,
                score=c.score,
                signals=c.signals,
                matching_variants=c.matching_variants,
                ranker=self.name,
            )
            for c in candidates
        ]
