"""Weighted reciprocal rank fusion (Cormack et al. 2009).

Each signal contributes weight / (k + rank) for the products it ranks. Ranks, not raw
scores, are fused because BM25, cosine and colour shares live on different scales.
A dozen lines of numpy; no library was worth the dependency for this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RRF_K = 60  # the constant from the paper; it damps the head of each list


@dataclass
class Ranking:
    rows: np.ndarray  # product rows, best first
    scores: np.ndarray  # the signal's own scores, same order


def fuse(
    rankings: dict[str, Ranking], weights: dict[str, float], k: int = RRF_K
) -> list[tuple[int, float, dict[str, tuple[int, float]]]]:
    """→ [(row, fused score, {signal: (rank, score)})], best first."""
    fused: dict[int, float] = {}
    detail: dict[int, dict[str, tuple[int, float]]] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 1.0)
        for rank, (row, score) in enumerate(
            zip(ranking.rows.tolist(), ranking.scores.tolist(), strict=True), 1
        ):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
            detail.setdefault(row, {})[name] = (rank, score)
    order = sorted(fused, key=lambda r: (-fused[r], r))
    return [(row, fused[row], detail[row]) for row in order]


def top_rows(scores: np.ndarray, rows: np.ndarray, n: int, min_score: float = -np.inf) -> Ranking:
    """The `n` best of `rows` by `scores` (same length), best first, ties by row."""
    keep = scores > min_score
    scores, rows = scores[keep], rows[keep]
    if len(scores) > n:
        part = np.argpartition(-scores, n - 1)[:n]
        scores, rows = scores[part], rows[part]
    order = np.lexsort((rows, -scores))
    return Ranking(rows=rows[order], scores=scores[order])
