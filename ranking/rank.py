"""The ranking interface. Until the fine-tuned ranker is trained, `RetrievalOrderRanker`
keeps the hybrid retrieval order, so the pipeline does not change when it lands."""

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

    def rank(self, query: str, candidates: list[Candidate]) -> list[RankedItem]: ...


class RetrievalOrderRanker:
    name = "retrieval-order"

    def rank(self, query: str, candidates: list[Candidate]) -> list[RankedItem]:
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
