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
        part = best_indices(scores, n, rows)
        scores, rows = scores[part], rows[part]
    order = np.lexsort((rows, -scores))
    return Ranking(rows=rows[order], scores=scores[order])


def best_indices(scores: np.ndarray, n: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Positions of the `n` highest scores (any order), ties at the cut to the lower row
    (`rows`, else the position): the same answer however the candidates arrived, so an
    approximate search that finds the true candidates agrees with the exact one."""
    if len(scores) <= n:
        return np.arange(len(scores))
    cut = np.partition(scores, len(scores) - n)[len(scores) - n]  # the n-th highest
    above = np.flatnonzero(scores > cut)
    tied = np.flatnonzero(scores == cut)
    keys = tied if rows is None else rows[tied]
    tied = tied[np.argsort(keys, kind="stable")[: n - len(above)]]
    return np.concatenate([above, tied])
