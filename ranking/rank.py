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
    fill: bool = False  # shown after the matches: close, but outside a value read from words

    @classmethod
    def of(cls, candidate: Candidate, score: float, ranker: str) -> RankedItem:
        return cls(
            product=candidate.product,
            score=score,
            signals=candidate.signals,
            matching_variants=candidate.matching_variants,
            ranker=ranker,
        )


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
        return [RankedItem.of(c, c.score, self.name) for c in candidates]
